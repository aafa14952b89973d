// The campaign pages of the web console (issue 16) against a real node process, in headless
// Chromium: a film campaign is funded from a wallet created in the page (a refused investment
// shows its code, one is cancelled, the progress bar follows), succeeds at its height deadline
// with no tx from anyone, takes revenue reports sent from Node by its reporter, and the waterfall
// page shows the statement, the chart and its series, and a simulation that the next report
// matches, each number as the API answers it. Each new page passes axe-core with no serious
// violation and fits a phone's width; screenshots go to test-results/console/campaign-*.png.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import {
  campaignIdOf,
  campaignTxs,
  createClient,
  formatUnits,
  generateKey,
  recoupWaterfall,
  txs,
  type CofferClient,
} from '../src/sdk/index.js';
import {
  axeViolations,
  createWallet,
  desktop,
  openPage,
  phone,
  problemsOf,
  screenshot,
  startConsole,
  type ConsoleWorld,
} from './support/console.js';

const suiteTimeoutMs = 120_000;
/** How long the browser may take to invest before the deadline: the deadline is this far ahead. */
const fundingWindowMs = 12_000;
const decimals = 2;
const usd = (minor: string | bigint) => formatUnits(BigInt(minor), decimals);

describe('web console: film campaigns', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let client: CofferClient;
  let page: Page;
  let campaignId = '';
  let deadline = 0;
  let blocksPerSecond = 0;
  let investor = '';

  const producer = generateKey();
  const reporter = generateKey();
  const distributor = generateKey();
  const bob = generateKey();

  /** Waits until the node has committed block `height` (blocks come every 50 ms, idle too). */
  async function waitForHeight(height: number, timeoutMs: number): Promise<void> {
    const start = performance.now();
    while ((await client.health()).height < height) {
      assert.ok(performance.now() - start < timeoutMs, `block ${height} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Waits until `check` holds, asking every 50 ms for at most 5 s. */
  async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
    const start = performance.now();
    while (!(await check())) {
      assert.ok(performance.now() - start < 5_000, `${what} within 5 s`);
      await sleep(50);
    }
  }

  /**
   * Creates the campaign with its deadline `fundingWindowMs` ahead, and bob invests half of the
   * target from Node.
   */
  async function createCampaign(): Promise<void> {
    const { height } = await client.health();
    deadline = height + Math.ceil((blocksPerSecond * fundingWindowMs) / 1000);
    // 500.00 USD by `deadline`, 10.00 to 400.00 each; revenue: 30% to the distributor, investors
    // recoup their principal, then the rest 50/50 between investors and the producer.
    const created = await client.send(
      producer,
      campaignTxs.create({
        title: 'Harbour Lights',
        asset: 'USD',
        target: '50000',
        minInvestment: '1000',
        maxInvestment: '40000',
        opensAt: { height },
        deadline: { height: deadline },
        cancelWindow: 0,
        earlyClose: false,
        reporters: [reporter.address],
        distribution: recoupWaterfall({
          distributionFee: { basisPoints: 3_000, to: distributor.address },
          investorsShareBasisPoints: 5_000,
        }),
      }),
    );
    assert.equal(created.status, 'ok');
    campaignId = campaignIdOf(created.hash);
    await client.send(bob, campaignTxs.invest({ campaignId, amount: '25000' }));
  }

  before(async () => {
    // Empty blocks every 50 ms as well, so a height deadline comes in seconds.
    world = await startConsole({ args: ['--idle-block-interval-ms', '50'] });
    client = createClient(world.url);
    for (const [to, amount] of [
      [reporter.address, '500000'],
      [bob.address, '100000'],
    ] as const) {
      await client.send(world.dev, txs.transfer({ to, asset: 'USD', amount }));
    }
    // Blocks per second as this machine makes them, to put a deadline `fundingWindowMs` ahead.
    const first = await client.health();
    await sleep(500);
    blocksPerSecond = Math.max(2, ((await client.health()).height - first.height) * 2);
  });

  after(() => world?.close());

  /** The API's error answers `view` received, as `status path`. */
  const httpErrors = new WeakMap<Page, Set<string>>();
  function watchHttpErrors(view: Page): void {
    const seen = new Set<string>();
    httpErrors.set(view, seen);
    view.on('response', (response) => {
      if (response.status() >= 400) {
        seen.add(`${response.status()} ${new URL(response.url()).pathname}`);
      }
    });
  }

  /**
   * The page's errors, with the browser's line for each API error answer left out: those are
   * checked apart (`httpErrors`), because some are the flow's (an account that has not invested
   * has no position: 404; a refused investment: 422).
   */
  const pageProblems = (view: Page) =>
    problemsOf(view).filter((p) => !p.startsWith('Failed to load resource: the server responded'));

  it('a wallet in the page invests after a refusal; the campaign succeeds at its deadline', async () => {
    const context = await world.browser.newContext({ viewport: desktop });
    page = await openPage(context, world.url, '/wallet');
    watchHttpErrors(page);
    investor = await createWallet(page, world.url);
    await client.send(world.dev, txs.transfer({ to: investor, asset: 'USD', amount: '30000' }));
    // Created now, after the slow part (the wallet's key derivation), so the deadline is near.
    await createCampaign();

    // In-page navigation: the wallet stays unlocked (a reload would lock it).
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Campaigns' })
      .click();
    await page.getByRole('link', { name: 'Harbour Lights' }).click();
    await page.locator('main h1').filter({ hasText: 'Harbour Lights' }).waitFor();
    const progress = page.getByTestId('progress');
    await progress.filter({ hasText: '250.00 USD raised of 500.00 USD (50%)' }).waitFor();
    assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuenow'), '50');
    await page.getByTestId('position').getByText('This account has not invested').waitFor();
    await page.locator(`[data-investor="${bob.address}"]`).waitFor();

    // Below the minimum: the node refuses it, and the confirmation screen shows its code.
    // With the keyboard alone: Enter in the amount reviews; the confirmation takes the focus (as
    // every confirmation does: nothing is signed by a stray Enter), and Tab reaches "Sign and send".
    await page.getByLabel(/^Amount/).fill('5.00');
    await page.getByLabel(/^Amount/).press('Enter');
    await page.getByRole('button', { name: 'Sign and send' }).waitFor();
    // (Locators with :focus: the page's policy forbids the eval a polled waitForFunction needs.)
    await page.locator('section[aria-labelledby="confirm-title"]:focus').waitFor();
    // Tab goes through what the confirmation holds (the JSON box, when it scrolls) to the button.
    for (let tabs = 0; tabs < 3; tabs += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate<string | undefined>(
        'document.activeElement?.textContent',
      );
      if (focused === 'Sign and send') break;
    }
    await page.locator('button:focus', { hasText: 'Sign and send' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'investment_below_minimum' }).waitFor();
    await screenshot(page, 'campaign-refused-desktop');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();

    // A bad amount never reaches a draft.
    await page.getByLabel(/^Amount/).fill('12.345');
    await page.getByRole('button', { name: 'Review investment' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid_amount' }).waitFor();

    // Invested, then cancelled: the escrow gives it back and the position says so.
    await page.getByLabel(/^Amount/).fill('100.00');
    await page.getByRole('button', { name: 'Review investment' }).click();
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByRole('status').filter({ hasText: 'Invested:' }).waitFor();
    await progress.filter({ hasText: '350.00 USD raised of 500.00 USD (70%)' }).waitFor();
    await page.getByRole('button', { name: 'Cancel my investment' }).click();
    await page.getByText('Cancel your investment of 100.00 USD').waitFor();
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByRole('status').filter({ hasText: 'Investment cancelled:' }).waitFor();
    await progress.filter({ hasText: '250.00 USD raised of 500.00 USD (50%)' }).waitFor();
    const refunded = await client.campaigns.position(campaignId, investor);
    assert.deepEqual([refunded.principal, refunded.refunded], ['0', '10000']);
    await page
      .getByTestId('position')
      .locator('dt:text-is("Refunded") + dd [data-units="10000"]')
      .waitFor();

    await page.getByLabel(/^Amount/).fill('250.00');
    await page.getByRole('button', { name: 'Review investment' }).click();
    const toSign = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
      sender: string;
      payload: Record<string, string>;
    };
    assert.deepEqual(
      { type: toSign.type, sender: toSign.sender, payload: toSign.payload },
      { type: 'campaign.invest', sender: investor, payload: { campaignId, amount: '25000' } },
    );
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByRole('status').filter({ hasText: 'Invested:' }).waitFor();
    await progress.filter({ hasText: '500.00 USD raised of 500.00 USD (100%)' }).waitFor();
    assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    await page.locator(`[data-investor="${investor}"]`).waitFor();
    const position = await client.campaigns.position(campaignId, investor);
    assert.equal(position.principal, '25000');
    await page.getByTestId('position').locator('[data-units="25000"]').first().waitFor();
    await screenshot(page, 'campaign-funded-desktop');

    // The deadline passes with no tx: the page hears the outcome from the event stream.
    const height = (await client.health()).height;
    assert.ok(height < deadline, `invested at block ${height}, before the deadline ${deadline}`);
    await waitForHeight(deadline, 2 * fundingWindowMs);
    await page.locator('main [data-status="succeeded"]').first().waitFor();
    assert.equal((await client.campaigns.get(campaignId)).status, 'succeeded');
    await page.getByText('This campaign is no longer taking investments.').waitFor();
    assert.deepEqual(pageProblems(page), []);
    // The only error answers: no position before investing, and the refused investment.
    assert.deepEqual([...httpErrors.get(page)!].sort(), [
      `404 /v1/campaigns/${campaignId}/investors/${investor}`,
      '422 /v1/txs',
    ]);
  });

  it("a report sent from Node shows in the page's statement, chart and simulation", async () => {
    const reported = await client.send(
      reporter,
      campaignTxs.reportRevenue({
        campaignId,
        reportId: 'week-1',
        periodStart: Date.UTC(2026, 10, 20),
        periodEnd: Date.UTC(2026, 10, 27),
        grossRevenue: '100000',
      }),
    );
    assert.equal(reported.status, 'ok');

    await page.getByRole('link', { name: 'Revenue and waterfall' }).click();
    const row = page.locator('[data-testid="reports"] tr[data-report="week-1"]');
    await row.waitFor();
    const statement = await client.campaigns.statement(campaignId);
    const entry = statement.reports[0]!;
    const cell = async (field: string) =>
      (await row.locator(`[data-field="${field}"]`).textContent())?.trim();
    assert.deepEqual(
      {
        gross: await cell('grossRevenue'),
        cumulative: await cell('cumulativeRevenue'),
        investors: await cell('investors'),
        producer: await cell('producer'),
        accounts: await cell('accounts'),
      },
      {
        gross: usd(entry.grossRevenue),
        cumulative: usd(entry.cumulativeRevenue),
        investors: usd(entry.byClass.investors),
        producer: usd(entry.byClass.producer),
        accounts: usd(entry.byClass.accounts),
      },
    );
    // And the API's numbers are the waterfall's: 30% fee, 500.00 recouped, the rest halved.
    assert.deepEqual(
      [entry.byClass.accounts, entry.byClass.investors, entry.byClass.producer],
      ['30000', '60000', '10000'],
    );
    for (const tranche of statement.tranches) {
      const fill = await page
        .locator(
          `[data-testid="tranches-now"] tr[data-tranche="${tranche.index}"] [data-field="fill"]`,
        )
        .textContent();
      assert.equal(fill?.trim(), usd(tranche.fill), `tranche ${tranche.name}`);
    }

    // The chart: drawn, labelled with its numbers, and its series as the API's chart answers.
    const chart = await client.campaigns.chart(campaignId);
    const figure = page.getByRole('img', { name: /Cumulative revenue by tranche/ });
    await figure.locator('canvas').first().waitFor();
    const label = (await figure.getAttribute('aria-label'))!;
    assert.match(label, /cumulative revenue 1000\.00 USD/);
    const point = chart.series[0]!;
    const seriesRow = page.locator('[data-testid="chart-series"] tr[data-report="week-1"]');
    for (const [i, fill] of point.tranches.entries()) {
      assert.equal(
        (await seriesRow.locator(`[data-field="tranche-${i}"]`).textContent())?.trim(),
        usd(fill),
      );
      assert.ok(label.includes(`${chart.trancheNames[i]} ${usd(fill)}`), label);
    }

    // The chart follows its box: drawn at most 900 px wide, narrower when the window is (a phone
    // turned), and wide again after.
    const canvasWidth = async () => (await figure.locator('canvas').first().boundingBox())!.width;
    assert.equal(await canvasWidth(), 900);
    await page.setViewportSize(phone);
    await waitUntil(async () => (await canvasWidth()) < phone.width, 'the chart narrows');
    await page.setViewportSize(desktop);
    await waitUntil(async () => (await canvasWidth()) === 900, 'the chart widens again');

    // The simulator: what a second report of 500.00 would add, as the API simulates it.
    await page.getByLabel(/^Revenue/).fill('500.00');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const simulation = await client.campaigns.simulate(campaignId, '50000');
    const simulated = page.getByTestId('simulated-tranches');
    await simulated.waitFor();
    for (const tranche of simulation.tranches) {
      const amount = await simulated
        .locator(`tr[data-tranche="${tranche.index}"] [data-field="amount"]`)
        .textContent();
      assert.equal(amount?.trim(), usd(tranche.amount), `simulated ${tranche.name}`);
    }
    await page.getByRole('img', { name: /would add to each tranche/ }).waitFor();
    await screenshot(page, 'campaign-simulated-desktop');

    // The report it simulated, sent from Node: the open page adds it from the event stream, and
    // each tranche got what the simulation said.
    await client.send(
      reporter,
      campaignTxs.reportRevenue({
        campaignId,
        reportId: 'week-2',
        periodStart: Date.UTC(2026, 10, 27),
        periodEnd: Date.UTC(2026, 11, 4),
        grossRevenue: '50000',
      }),
    );
    await page.locator('[data-testid="chart-series"] tr[data-report="week-2"]').waitFor();
    // The simulation was of the waterfall before it: the page drops it and says why.
    await page.getByRole('status').filter({ hasText: 'A report has been applied since' }).waitFor();
    assert.equal(await page.getByTestId('simulation').count(), 0);
    const second = (await client.campaigns.statement(campaignId)).reports[1]!;
    assert.deepEqual(
      second.tranches.map((t) => t.amount),
      simulation.tranches.map((t) => t.amount),
    );
    const after = (await client.campaigns.chart(campaignId)).series[1]!;
    const secondRow = page.locator('[data-testid="reports"] tr[data-report="week-2"]');
    assert.equal(
      (await secondRow.locator('[data-field="cumulativeRevenue"]').textContent())?.trim(),
      usd(after.cumulativeRevenue),
    );
    assert.match(
      (await page.getByTestId('chart-summary').textContent())!,
      /After 2 reports, cumulative revenue 1500\.00 USD/,
    );
    await screenshot(page, 'campaign-two-reports-desktop');

    // The investor's own position: half of what went to investors (600.00, then 175.00: 30% to the distributor and the rest halved, principal recouped).
    await page.getByRole('link', { name: 'Overview and invest' }).click();
    const position = await client.campaigns.position(campaignId, investor);
    assert.equal(position.paidOut, '38750');
    await page
      .getByTestId('position')
      .locator(`[data-units="${position.paidOut}"]`)
      .first()
      .waitFor();
    assert.deepEqual(pageProblems(page), []);
    assert.equal(httpErrors.get(page)!.size, 2, 'no error answer since the first test');
    await page.context().close();
  });

  it('each campaign page: no serious accessibility violation, fits a phone; screenshots', async () => {
    const pages: [pathname: string, name: string][] = [
      ['/campaigns', 'campaign-list'],
      [`/campaigns/${campaignId}`, 'campaign'],
      [`/campaigns/${campaignId}/waterfall`, 'campaign-waterfall'],
    ];
    // Light at desktop width, dark (the system's preference) at phone width: both themes pass.
    for (const [width, viewport, colorScheme] of [
      ['desktop', desktop, 'light'],
      ['phone', phone, 'dark'],
    ] as const) {
      // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
      const context = await world.browser.newContext({ viewport, colorScheme, bypassCSP: true });
      for (const [pathname, name] of pages) {
        const view = await openPage(context, world.url, pathname);
        await view.locator('main h1').waitFor();
        assert.equal(await view.locator('main h1').count(), 1, `${pathname}: one h1`);
        await view.locator('main [data-status]').first().waitFor();
        if (pathname.endsWith('/waterfall')) {
          await view.locator('[data-testid="revenue-chart"] canvas').first().waitFor();
        }
        const violations = await axeViolations(view);
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious, [], `${pathname} at ${width}: ${JSON.stringify(violations)}`);
        const overflow = await view.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        assert.ok(overflow <= 0, `${pathname} at ${width} is ${overflow}px wider than the screen`);
        await screenshot(view, `${name}-${width}`);
        assert.deepEqual(problemsOf(view), [], `${pathname} at ${width}`);
        await view.close();
      }
      await context.close();
    }
  });

  it('an unknown campaign shows the API code', async () => {
    const context = await world.browser.newContext({ viewport: phone });
    const view = await openPage(context, world.url, '/campaigns/00000000000000aa');
    await view.getByRole('alert').filter({ hasText: 'campaign_not_found' }).waitFor();
    assert.equal(await view.locator('main h1').count(), 1);
    await context.close();
  });
});
