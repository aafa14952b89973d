// The web console (issue 16) against a real node process, in headless Debian Chromium: served at
// `/` with its security headers while the API keeps its JSON 404s; a wallet created in the page
// receives funds from the dev account, sends with a confirmation of exactly what it signs, and
// the tx shows verified in the explorer; a tampered proof shows "not verified" with the reason;
// blocks arrive live over the websocket; each main page passes axe-core with no serious
// violation; screenshots at desktop and phone width go to test-results/console/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { BrowserContext } from 'playwright-core';

import { createClient, generateKey, importKey, txs } from '../src/sdk/index.js';
import {
  axeViolations,
  desktop,
  openPage,
  phone,
  problemsOf,
  screenshot,
  startConsole,
  walletPassphrase as passphrase,
  type ConsoleWorld,
} from './support/console.js';

const suiteTimeoutMs = 180_000;

describe('web console', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let url = '';

  before(async () => {
    world = await startConsole();
    url = world.url;
  });

  after(() => world?.close());

  const open = (context: BrowserContext, pathname: string) => openPage(context, url, pathname);
  const browser = () => world.browser;
  const dev = () => world.dev;

  it('is served at / with its headers; the API keeps its JSON answers', async () => {
    const page = await fetch(`${url}/explorer/block/1`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    const html = await page.text();
    assert.match(html, /<div id="app"><\/div>/);
    // Everything it loads is its own: no CDN, font or script from elsewhere.
    assert.doesNotMatch(html, /https?:\/\//);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await fetch(url + asset);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('cache-control')!, /immutable/);

    for (const [pathname, accept] of [
      ['/v1/nothing', 'text/html'],
      ['/explorer', 'application/json'],
    ] as const) {
      const answer = await fetch(url + pathname, { headers: { accept } });
      assert.equal(answer.status, 404, pathname);
      assert.deepEqual(await answer.json(), {
        error: { code: 'route_not_found', message: 'No route matches this method and path.' },
      });
    }
    const posted = await fetch(`${url}/wallet`, {
      method: 'POST',
      headers: { accept: 'text/html' },
    });
    assert.equal(posted.status, 404);
  });

  it('a wallet receives, sends after a confirmation, and the explorer verifies the tx', async () => {
    const context = await browser().newContext({ viewport: desktop });
    const page = await open(context, '/wallet');

    await page.getByLabel('Passphrase', { exact: true }).fill('too short');
    await page.getByLabel('Passphrase again').fill('too short');
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await page.getByRole('alert').filter({ hasText: 'weak_passphrase' }).waitFor();

    await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await page.getByLabel('Passphrase again').fill(passphrase);
    await page.getByRole('button', { name: 'Create wallet' }).click();
    const address = (await page.getByTestId('address').textContent())!.trim();
    assert.match(address, /^cof1/);
    const stored = await page.evaluate<string | null>("localStorage.getItem('coffer.wallet.v1')");
    // Sealed keys only: no 64-hex-digit secret in what the page stored.
    assert.ok(stored?.includes('"ciphertext"'), 'a vault is stored');
    assert.doesNotMatch(stored!, /[0-9a-f]{64}/);
    await page
      .getByRole('img', { name: /QR code of the address/ })
      .locator('svg')
      .waitFor();

    // The dev account pays 100.00 USD; the page sees it from the event stream.
    const client = createClient(url);
    const funded = await client.send(
      dev(),
      txs.transfer({ to: address, asset: 'USD', amount: '10000' }),
    );
    assert.equal(funded.status, 'ok');
    await page.locator('td[data-balance="10000"]').waitFor();
    await page.locator('.history').getByText('ledger.transfer').waitFor();

    // A bad amount is refused in the page, with its code; nothing is signed.
    const payee = generateKey().address;
    await page.getByLabel('To (address)').fill(payee);
    await page.getByLabel(/^Amount/).fill('12.505');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid_amount' }).waitFor();
    await page.getByLabel(/^Amount/).fill('100.01');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('alert').filter({ hasText: 'insufficient_funds' }).waitFor();

    await page.getByLabel(/^Amount/).fill('12.50');
    await page.getByRole('button', { name: 'Review' }).click();
    const toSign = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
      sender: string;
      nonce: number;
      payload: Record<string, string>;
    };
    assert.deepEqual(
      { type: toSign.type, sender: toSign.sender, nonce: toSign.nonce, payload: toSign.payload },
      {
        type: 'ledger.transfer',
        sender: address,
        nonce: 0,
        payload: { to: payee, asset: 'USD', amount: '1250' },
      },
    );
    await screenshot(page, 'wallet-confirm-desktop');
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByText('is in a block').waitFor();
    assert.equal((await client.getAccount(payee)).balances[0]!.balance, '1250');
    await page.locator('td[data-balance="8750"]').waitFor();
    await screenshot(page, 'wallet-funded-desktop');

    // Its link opens the explorer, which checks the proof in the page.
    await page.getByRole('status').filter({ hasText: 'is in a block' }).getByRole('link').click();
    await page.locator('[data-verified="true"]').waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /ledger\.transferred/);
    await screenshot(page, 'tx-desktop');

    // Locked, the wallet asks for the passphrase again, and refuses a wrong one.
    await page.goto(`${url}/wallet`);
    await page.getByLabel('Passphrase').fill('not the passphrase');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong_passphrase' }).waitFor();
    await page.getByLabel('Passphrase').fill(passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('td[data-balance="8750"]').waitFor();
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('an imported key signs in the page: neither it nor the passphrase is ever sent', async () => {
    const secret = '5c'.repeat(32);
    const key = importKey(secret);
    const funded = await createClient(url).send(
      dev(),
      txs.transfer({ to: key.address, asset: 'USD', amount: '500' }),
    );
    assert.equal(funded.status, 'ok');
    const context = await browser().newContext({ viewport: phone });
    const sent: string[] = [];
    context.on('request', (request) => sent.push(`${request.url()} ${request.postData() ?? ''}`));
    const page = await open(context, '/wallet');
    await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await page.getByLabel('Passphrase again').fill(passphrase);
    await page.getByLabel('Import an existing secret key instead of creating one').check();
    await page.getByLabel('Secret key (64 hex digits)').fill(secret.toUpperCase());
    await page.getByRole('button', { name: 'Import key' }).click();
    assert.equal((await page.getByTestId('address').textContent())!.trim(), key.address);
    await page.locator('td[data-balance="500"]').waitFor();
    await page.getByLabel('To (address)').fill(dev().address);
    await page.getByLabel(/^Amount/).fill('1.25');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByText('is in a block').waitFor();
    await page.locator('td[data-balance="375"]').waitFor();
    await screenshot(page, 'wallet-phone-sent');
    assert.ok(
      sent.some((line) => line.includes('/v1/txs')),
      'the signed tx was sent',
    );
    for (const line of sent) {
      assert.equal(line.toLowerCase().includes(secret), false, `the secret in ${line}`);
      assert.equal(line.includes(passphrase), false, `the passphrase in ${line}`);
    }
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('a tampered proof shows "not verified" and why', async () => {
    const client = createClient(url);
    const sent = await client.send(
      dev(),
      txs.transfer({ to: generateKey().address, asset: 'USD', amount: '7' }),
    );
    const context = await browser().newContext({ viewport: desktop });
    await context.route(`**/v1/txs/${sent.hash}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { tx: { payload: { amount: string } } };
      body.tx.payload.amount = '7000';
      await route.fulfill({ response, json: body });
    });
    const page = await open(context, `/explorer/tx/${sent.hash}`);
    const refusal = page.locator('[data-verified="false"]');
    await refusal.waitFor();
    assert.match((await refusal.textContent())!, /tx_hash/);
    await screenshot(page, 'tx-tampered-desktop');
    await context.close();
  });

  it('a block page with a forged header shows its blocks not verified', async () => {
    const context = await browser().newContext({ viewport: desktop });
    await context.route('**/v1/blocks?*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { blocks: { header: { txCount: number } }[] };
      body.blocks[0]!.header.txCount += 1;
      await route.fulfill({ response, json: body });
    });
    const page = await open(context, '/explorer');
    const refusal = page.locator('[data-verified="false"]');
    await refusal.waitFor();
    assert.match((await refusal.textContent())!, /header_hash/);
    await page.locator('td[data-checked="failed"]').first().waitFor();
    await context.close();
  });

  it('latest blocks arrive live over the websocket', async () => {
    const context = await browser().newContext({ viewport: desktop });
    const page = await open(context, '/explorer');
    await page.getByText('● live').waitFor();
    const first = Number(await page.locator('tr[data-height]').first().getAttribute('data-height'));
    await createClient(url).send(
      dev(),
      txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }),
    );
    await page.waitForFunction(
      `Number(document.querySelector('tr[data-height]')?.getAttribute('data-height')) > ${first}`,
    );
    await page.locator('[data-verified="true"]').waitFor();
    // The new block is checked in the page too, linked to the one before it.
    const newest = Number(
      await page.locator('tr[data-height]').first().getAttribute('data-height'),
    );
    await page.locator(`tr[data-height="${newest}"] td[data-checked="ok"]`).waitFor();
    assert.equal(await page.locator('td[data-checked="failed"]').count(), 0);
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('each main page: no serious accessibility violation; screenshots at two widths', async () => {
    const pages = [
      '/',
      '/explorer',
      '/explorer/block/1',
      '/explorer/assets',
      '/explorer/producers',
      '/wallet',
      '/timebanks',
      '/campaigns',
      `/explorer/account/${dev().address}`,
    ];
    // Light at desktop width, dark (the system's preference) at phone width: both themes pass.
    for (const [name, viewport, colorScheme] of [
      ['desktop', desktop, 'light'],
      ['phone', phone, 'dark'],
    ] as const) {
      // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
      const context = await browser().newContext({ viewport, colorScheme, bypassCSP: true });
      for (const pathname of pages) {
        const page = await open(context, pathname);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle').catch(() => undefined);
        const violations = await axeViolations(page);
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious, [], `${pathname} at ${name}: ${JSON.stringify(violations)}`);
        const file =
          pathname === '/' ? 'node' : pathname.split('/').filter(Boolean).slice(0, 2).join('-');
        await screenshot(page, `${file}-${name}`);
        // Nothing wider than the screen at phone width (no sideways scrolling of the page).
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        assert.ok(overflow <= 0, `${pathname} at ${name} is ${overflow}px wider than the screen`);
        assert.deepEqual(problemsOf(page), [], pathname);
        await page.close();
      }
      await context.close();
    }
  });
});
