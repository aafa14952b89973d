// The web console's browser tests (test/console*.test.ts): a node process serving the built
// console (dist/web) with its dev account, headless Debian Chromium, pages that record their
// errors, a wallet created in a page, axe-core, and screenshots under test-results/console/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';

import { importKey, type SigningKey } from '../../src/sdk/index.js';
import { childEnv, cliPath } from './cli.js';
import { launchChromium } from './chromium.js';
import { NodeProcess, assertBuilt } from './node-process.js';

const root = path.resolve(import.meta.dirname, '../..');
export const shotsDir = path.join(root, 'test-results/console');
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** A page step (a block, a check in the page) that takes longer is stuck. */
export const stepTimeoutMs = 20_000;
export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };
export const walletPassphrase = 'a passphrase for the test';

export interface ConsoleWorld {
  url: string;
  /** The dev account: issues USD and holds 1,000,000.00 of it. */
  dev: SigningKey;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts a node process (block every `blockIntervalMs`) and Chromium; `close()` stops both. */
export async function startConsole(
  options: { blockIntervalMs?: number; args?: string[] } = {},
): Promise<ConsoleWorld> {
  assertBuilt(cliPath);
  assert.ok(
    fs.existsSync(path.join(root, 'dist/web/index.html')),
    'dist/web is missing: npm run build (npm test builds it)',
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-console-'));
  const node = NodeProcess.spawn({
    cliPath,
    dataDir: path.join(workDir, 'node'),
    blockIntervalMs: options.blockIntervalMs ?? 50,
    logLevel: 'warn',
    env: childEnv,
    startTimeoutMs: 15_000,
    ...(options.args ? { args: options.args } : {}),
  });
  const killOnExit = () => node.killNow();
  process.on('exit', killOnExit);
  const { url } = await node.listening();
  const devFile = path.join(workDir, 'node', 'dev-account.json');
  const dev = importKey(
    (JSON.parse(fs.readFileSync(devFile, 'utf8')) as { secretKey: string }).secretKey,
  );
  const browser = await launchChromium();
  fs.mkdirSync(shotsDir, { recursive: true });
  return {
    url,
    dev,
    browser,
    async close() {
      await browser.close();
      await node.kill();
      process.off('exit', killOnExit);
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

const problems = new WeakMap<Page, string[]>();

/** A new page at `url + pathname` that records uncaught errors and console errors. */
export async function openPage(
  context: BrowserContext,
  url: string,
  pathname: string,
): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(stepTimeoutMs);
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (error) => seen.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') seen.push(message.text());
  });
  await page.goto(url + pathname);
  return page;
}

/** The errors a page of `openPage` has had. */
export const problemsOf = (page: Page): string[] => problems.get(page) ?? [];

/** Creates a wallet with one new key on the page's /wallet; returns its address. */
export async function createWallet(page: Page, url: string): Promise<string> {
  await page.goto(`${url}/wallet`);
  await page.getByLabel('Passphrase', { exact: true }).fill(walletPassphrase);
  await page.getByLabel('Passphrase again').fill(walletPassphrase);
  await page.getByRole('button', { name: 'Create wallet' }).click();
  return (await page.getByTestId('address').textContent())!.trim();
}

/**
 * axe-core's violations on the page (inject needs a context made with `bypassCSP: true`: the
 * console's own policy forbids injected scripts).
 */
export async function axeViolations(
  page: Page,
): Promise<{ id: string; impact: string; nodes: number }[]> {
  await page.addScriptTag({ path: axePath });
  // Browser code as text: the tests' types are Node's, without the DOM.
  return page.evaluate<{ id: string; impact: string; nodes: number }[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))
  `);
}

/** A full-page screenshot under test-results/console/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

/** A console page to check: its screenshot's name, its path, and what shows it is ready. */
export type PageToCheck = readonly [file: string, pathname: string, ready: string];

export interface PageCheckOptions {
  /** Only serious and critical axe violations fail the check (default: any violation). */
  seriousOnly?: boolean;
  /** The page errors that count (default: all of `problemsOf`). */
  problems?: (page: Page) => string[];
  /** Runs once a page is ready, before the checks (to show more of it). */
  prepare?: (page: Page, pathname: string) => Promise<void>;
}

/**
 * The console tests' page check, light at desktop width then dark (the system's preference) at
 * phone width: each page opened, `ready` awaited, then one h1, no axe violation, nothing wider
 * than the screen and no page error; a screenshot `<file>-desktop`, `<file>-phone` of each.
 */
export async function checkConsolePages(
  browser: Browser,
  url: string,
  pages: readonly PageToCheck[],
  options: PageCheckOptions = {},
): Promise<void> {
  const problems = options.problems ?? problemsOf;
  for (const [name, viewport, colorScheme] of [
    ['desktop', desktop, 'light'],
    ['phone', phone, 'dark'],
  ] as const) {
    // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
    const context = await browser.newContext({ viewport, colorScheme, bypassCSP: true });
    for (const [file, pathname, ready] of pages) {
      const page = await openPage(context, url, pathname);
      await page.locator(ready).first().waitFor();
      await options.prepare?.(page, pathname);
      assert.equal(await page.locator('main h1').count(), 1, `${pathname}: one h1`);
      const violations = await axeViolations(page);
      const failing = options.seriousOnly
        ? violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        : violations;
      assert.deepEqual(failing, [], `${pathname} at ${name}: ${JSON.stringify(violations)}`);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(overflow <= 0, `${pathname} at ${name} is ${overflow}px wider than the screen`);
      await screenshot(page, `${file}-${name}`);
      assert.deepEqual(problems(page), [], `${pathname} at ${name}`);
      await page.close();
    }
    await context.close();
  }
}

/** The tx a page's review panel (`to-sign`) shows before it is signed. */
export async function toSignOf<Payload = Record<string, string>>(
  page: Page,
): Promise<{ type: string; sender: string; payload: Payload }> {
  return JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
    type: string;
    sender: string;
    payload: Payload;
  };
}
