// The conversion engines' console pages (issue 19) against a real node process, in headless
// Chromium. An empty chain's list says it has no engine. Then, through the SDK, an operator
// publishes an engine (three ecosystems: a Coffer chain with its block interval bounds, an EVM
// chain, a paused payment provider; an asset on each; two active pairs and a paused one) and
// twenty other operators an empty engine each. In the browser: the list pages through the engines
// (next and previous) and links to the engine; the engine page shows its settings, ecosystems,
// assets and pairs with every number formatted exactly; the route explorer finds the two-hop
// path, none back, and follows the operator activating the direct pair live; an empty engine and
// an unknown one say so in sentences. The pages pass axe-core light at desktop width and dark at
// phone width, and fit a phone. Screenshots conversion-*.png go to test-results/console/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Locator } from 'playwright-core';

import { enginesShownMax } from '../src/modules/conversion/web/words.js';
import {
  conversionTxBuilders as conversionTxs,
  createClient,
  generateKey,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import {
  checkConsolePages,
  desktop,
  openPage,
  phone,
  problemsOf,
  screenshot,
  startConsole,
  type ConsoleWorld,
} from './support/console.js';

const suiteTimeoutMs = 120_000;
const engineName = 'Harbour Bridge';
/** The engine's address on the EVM chain (lowercase: no EIP-55 checksum to get right). */
const evmAddress = '0x52908400098527886e0f7030069857d2e4169ee7';
/** Its account at the payment provider. */
const providerAccount = 'harbour@acme-pay';

const usdc = { ecosystem: 'polygon', asset: 'USDC' };
const usd = { ecosystem: 'home', asset: 'USD' };
const eur = { ecosystem: 'bank', asset: 'EUR' };
/** The direct pair, paused at first: the explorer's path goes through USD until it is active. */
const directPair = {
  from: usdc,
  to: eur,
  spreadBps: 80,
  feeBps: 0,
  feeFixed: '0',
  min: '1000000',
  max: '2000000000',
};

describe('web console: conversion engines', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let url = '';
  let client: CofferClient;
  /** The engine with the whole configuration; its operator's address sorts first. */
  let operator: SigningKey;
  /** The other operators' engines, one each, in address order after the first. */
  let others: SigningKey[] = [];
  const enginePath = () => `/conversion/engines/${operator.address}`;

  async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
    const result = await client.send(key, tx);
    assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  }

  before(async () => {
    world = await startConsole();
    url = world.url;
    client = createClient(url);
  });

  after(() => world?.close());

  /** The text of the element with `testId` inside `scope`, trimmed. */
  async function text(scope: Locator, testId: string): Promise<string> {
    return (await scope.getByTestId(testId).textContent())!.trim();
  }

  it('with no engine on the chain, the list says so', async () => {
    const context = await world.browser.newContext({ viewport: phone });
    const page = await openPage(context, url, '/conversion');
    const none = page.getByTestId('no-engines');
    await none.waitFor();
    assert.equal(
      (await none.textContent())!.trim(),
      'No conversion engine on this chain yet: an operator creates one with coffer conversion engine-set.',
    );
    assert.equal(await page.getByRole('button', { name: 'Next engines' }).count(), 0);
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  describe('with engines', () => {
    before(async () => {
      // One more engine than a page holds: the list has a second page of one.
      const keys = Array.from({ length: enginesShownMax + 1 }, () => generateKey()).sort((a, b) =>
        a.address < b.address ? -1 : 1,
      );
      [operator, ...others] = keys as [SigningKey, ...SigningKey[]];
      // Registry txs need no funds, but the operator's is a funded account like a real one's.
      await ok(world.dev, {
        type: 'ledger.transfer',
        payload: { to: operator.address, asset: 'USD', amount: '1000' },
      });
      await ok(
        operator,
        conversionTxs.engineSet({
          name: engineName,
          quoteTtlSeconds: 45,
          hopsMax: 2,
          slippageBpsMax: 150,
          status: 'active',
        }),
      );
      await ok(
        operator,
        conversionTxs.ecosystemSet({
          ecosystem: 'home',
          kind: 'coffer',
          network: 'coffer-home',
          engineAddress: operator.address,
          blockMsMin: 50,
          blockMsMax: 2000,
          status: 'active',
        }),
      );
      await ok(
        operator,
        conversionTxs.ecosystemSet({
          ecosystem: 'polygon',
          kind: 'evm',
          network: '137',
          engineAddress: evmAddress,
          status: 'active',
        }),
      );
      await ok(
        operator,
        conversionTxs.ecosystemSet({
          ecosystem: 'bank',
          kind: 'http',
          network: 'acme-pay',
          engineAddress: providerAccount,
          status: 'paused',
        }),
      );
      await ok(
        operator,
        conversionTxs.assetSet({
          ...usd,
          decimals: 2,
          currency: 'USD',
          liquidityLow: '150000',
          liquidityHigh: '2500000',
        }),
      );
      await ok(
        operator,
        conversionTxs.assetSet({
          ...usdc,
          decimals: 6,
          currency: 'USD',
          liquidityLow: '1000000000',
          liquidityHigh: '50000000000',
        }),
      );
      await ok(
        operator,
        conversionTxs.assetSet({
          ...eur,
          decimals: 2,
          currency: 'EUR',
          liquidityLow: '0',
          liquidityHigh: '1000005',
        }),
      );
      await ok(
        operator,
        conversionTxs.pairSet({
          from: usdc,
          to: usd,
          spreadBps: 25,
          feeBps: 10,
          feeFixed: '10',
          min: '1000000',
          max: '5000000000',
          status: 'active',
        }),
      );
      await ok(
        operator,
        conversionTxs.pairSet({
          from: usd,
          to: eur,
          spreadBps: 50,
          feeBps: 15,
          feeFixed: '5',
          min: '100',
          max: '1000000',
          status: 'active',
        }),
      );
      await ok(operator, conversionTxs.pairSet({ ...directPair, status: 'paused' }));
      // The other engines, each from its own key, at once.
      await Promise.all(
        others.map((key, index) =>
          ok(
            key,
            conversionTxs.engineSet({
              name: `Relay ${String(index + 2).padStart(2, '0')}`,
              quoteTtlSeconds: 30,
              hopsMax: 1,
              slippageBpsMax: 0,
              status: index % 2 === 0 ? 'active' : 'paused',
            }),
          ),
        ),
      );
    });

    it('the list pages through the engines and links to one', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const page = await openPage(context, url, '/');
      await page.getByRole('navigation').getByRole('link', { name: 'Conversion' }).click();
      await page.getByRole('heading', { level: 1, name: 'Conversion engines' }).waitFor();
      const items = page.locator('li[data-engine]');
      await items.first().waitFor();
      assert.equal(await items.count(), enginesShownMax);
      assert.equal(await text(page.locator('main'), 'engines-page'), 'Page 1');
      assert.equal(
        await page.getByRole('button', { name: 'Previous engines' }).isDisabled(),
        true,
        'no page before the first',
      );
      // The operator's address sorts first: its engine heads the first page.
      const first = items.first();
      assert.equal(await first.getAttribute('data-engine'), operator.address);
      assert.equal((await first.getByRole('heading', { level: 2 }).textContent())!, engineName);
      assert.equal(
        (await first.locator('[data-status]').textContent())!.trim(),
        'Active',
        'its status',
      );
      assert.equal(await text(first, 'engine-counts'), '3 ecosystems · 3 pairs');
      assert.match((await first.textContent())!, new RegExp(`Operator ${operator.address}`));
      const second = page.locator(`li[data-engine="${others[0]!.address}"]`);
      assert.equal(await text(second, 'engine-counts'), '0 ecosystems · 0 pairs');
      assert.equal((await second.locator('[data-status]').textContent())!.trim(), 'Active');
      await screenshot(page, 'conversion-list-desktop');

      // The next page holds the one engine left, whose operator sorts last.
      await page.getByRole('button', { name: 'Next engines' }).click();
      await page.locator(`li[data-engine="${others.at(-1)!.address}"]`).waitFor();
      assert.equal(await items.count(), 1);
      assert.equal(await text(page.locator('main'), 'engines-page'), 'Page 2');
      assert.equal(await page.getByRole('button', { name: 'Next engines' }).isDisabled(), true);
      assert.equal(
        (await items.first().getByRole('heading', { level: 2 }).textContent())!,
        `Relay ${String(enginesShownMax + 1).padStart(2, '0')}`,
      );
      assert.equal(
        (await items.first().locator('[data-status]').textContent())!.trim(),
        (others.length - 1) % 2 === 0 ? 'Active' : 'Paused',
      );
      await page.getByRole('button', { name: 'Previous engines' }).click();
      await page.locator(`li[data-engine="${operator.address}"]`).waitFor();
      assert.equal(await items.count(), enginesShownMax);

      // To the engine, by its link.
      await page.getByRole('link', { name: engineName }).click();
      await page
        .getByRole('heading', { level: 1, name: `Conversion engine ${engineName}` })
        .waitFor();
      assert.equal(new URL(page.url()).pathname, enginePath());
      assert.deepEqual(problemsOf(page), []);
      await context.close();
    });

    it('the engine page: settings, ecosystems, assets and pairs, every number formatted', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const page = await openPage(context, url, enginePath());
      await page
        .getByRole('heading', { level: 1, name: `Conversion engine ${engineName}` })
        .waitFor();
      const main = page.locator('main');

      // Settings.
      const settings = page.locator('dl.fields');
      assert.equal(await text(settings, 'engine-operator'), operator.address);
      assert.equal(await text(settings, 'engine-quote-ttl'), '45 seconds: how long a quote holds');
      assert.equal(await text(settings, 'engine-hops-max'), '2 hops at most in a route');
      assert.equal(await text(settings, 'engine-slippage'), '1.5% (150 bps)');
      assert.equal((await settings.locator('[data-status]').textContent())!.trim(), 'Active');

      // Ecosystems, each row headed by its id.
      const ecosystems = page.getByRole('table').filter({ has: page.getByText('Block interval') });
      assert.deepEqual(await ecosystems.locator('thead th').allTextContents(), [
        'Ecosystem',
        'Kind',
        'Network',
        "The engine's address there",
        'Block interval',
        'Assets',
        'Status',
      ]);
      const expectedEcosystems = [
        // In key order: bank, home, polygon.
        ['bank', 'Payment provider', 'provider acme-pay', providerAccount, '—', '1', 'Paused'],
        [
          'home',
          'Coffer chain',
          'chain coffer-home',
          operator.address,
          '50 to 2000 ms',
          '1',
          'Active',
        ],
        ['polygon', 'EVM chain', 'chain id 137', evmAddress, '—', '1', 'Active'],
      ];
      const ecosystemRows = ecosystems.locator('tbody tr');
      assert.equal(await ecosystemRows.count(), expectedEcosystems.length);
      for (const [index, expected] of expectedEcosystems.entries()) {
        const cells = ecosystemRows.nth(index).locator('th, td');
        assert.deepEqual(
          (await cells.allTextContents()).map((t) => t.trim()),
          expected,
          `ecosystem ${expected[0]}`,
        );
      }

      // Assets: the liquidity in each asset's units, every decimal.
      const assets = page.getByRole('table').filter({ has: page.getByText('Liquidity low') });
      const expectedAssets: Record<string, string[]> = {
        'bank:EUR': ['EUR', 'bank', '2', 'EUR', '0.00 EUR', '10000.05 EUR', '2'],
        'home:USD': ['USD', 'home', '2', 'USD', '1500.00 USD', '25000.00 USD', '2'],
        'polygon:USDC': [
          'USDC',
          'polygon',
          '6',
          'USD',
          '1000.000000 USDC',
          '50000.000000 USDC',
          '2',
        ],
      };
      assert.equal(await assets.locator('tbody tr').count(), 3);
      for (const [key, expected] of Object.entries(expectedAssets)) {
        const cells = assets.locator(`tr[data-asset="${key}"]`).locator('th, td');
        assert.deepEqual(
          (await cells.allTextContents()).map((t) => t.trim()),
          expected,
          key,
        );
      }

      // Pairs: spread and fee in % from bps, the fixed fee in the output asset, min and max in the
      // input asset.
      const pairs = page.getByRole('table').filter({ has: page.getByText('Fixed fee') });
      assert.deepEqual(await pairs.locator('thead th').allTextContents(), [
        'From',
        'To',
        'Spread',
        'Fee',
        'Fixed fee',
        'Min',
        'Max',
        'Status',
      ]);
      const expectedPairs: Record<string, string[]> = {
        'home:USD>bank:EUR': [
          'USD on home',
          '→ EUR on bank',
          '0.5%',
          '0.15%',
          '0.05 EUR',
          '1.00 USD',
          '10000.00 USD',
          'Active',
        ],
        'polygon:USDC>home:USD': [
          'USDC on polygon',
          '→ USD on home',
          '0.25%',
          '0.1%',
          '0.10 USD',
          '1.000000 USDC',
          '5000.000000 USDC',
          'Active',
        ],
        'polygon:USDC>bank:EUR': [
          'USDC on polygon',
          '→ EUR on bank',
          '0.8%',
          '0%',
          '0.00 EUR',
          '1.000000 USDC',
          '2000.000000 USDC',
          'Paused',
        ],
      };
      assert.equal(await pairs.locator('tbody tr').count(), 3);
      for (const [key, expected] of Object.entries(expectedPairs)) {
        const cells = pairs.locator(`tr[data-pair="${key}"] td`);
        assert.deepEqual(
          (await cells.allTextContents()).map((t) => t.trim()),
          expected,
          key,
        );
      }
      assert.match((await main.textContent())!, /Ecosystems \(3\).*Assets \(3\).*Pairs \(3\)/);
      await screenshot(page, 'conversion-engine-desktop');
      assert.deepEqual(problemsOf(page), []);
      await context.close();
    });

    it('the route explorer: the two-hop path, none back, and the direct pair once active', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const page = await openPage(context, url, enginePath());
      await page.getByRole('heading', { level: 2, name: 'Route explorer' }).waitFor();
      await page.locator('.live.on').first().waitFor();
      const explorer = page.locator('section[aria-labelledby="routes-title"]');
      assert.match(
        (await explorer.textContent())!,
        /No rates are on the chain.*coffer bridge quote/,
      );
      const routes = page.getByTestId('routes');

      await page.getByLabel('From asset').selectOption({ label: 'USDC on polygon' });
      await page.getByLabel('To asset').selectOption({ label: 'EUR on bank' });
      const paths = routes.locator('li[data-path]');
      await paths.first().waitFor();
      assert.equal(await paths.count(), 1, 'the paused direct pair is no path');
      const twoHop = paths.first();
      assert.equal(await twoHop.getAttribute('data-path'), 'polygon:USDC>home:USD>bank:EUR');
      assert.equal(await twoHop.getAttribute('data-bps'), '100');
      assert.equal(
        (await twoHop.locator('.conversion-route').textContent())!,
        'USDC on polygon → USD on home → EUR on bank',
      );
      assert.equal(
        await text(twoHop, 'path-summary'),
        '2 hops, spread and fee together 1% (100 bps), before fixed fees',
      );
      assert.deepEqual(
        (await twoHop.getByTestId('hop').allTextContents()).map((t) => t.trim()),
        [
          'USDC on polygon → USD on home: spread 0.25%, fee 0.1%, fixed fee 0.10 USD; input 1.000000 USDC to 5000.000000 USDC',
          'USD on home → EUR on bank: spread 0.5%, fee 0.15%, fixed fee 0.05 EUR; input 1.00 USD to 10000.00 USD',
        ],
      );
      // The provider's ecosystem is paused: the path says the engine takes no forwards there now.
      assert.match((await twoHop.textContent())!, /Crosses bank, paused/);
      assert.equal(
        await text(routes, 'routes-count'),
        '1 path from USDC on polygon to EUR on bank.',
      );
      await screenshot(page, 'conversion-routes-desktop');

      // Back: no pair leads from EUR.
      await page.getByLabel('From asset').selectOption({ label: 'EUR on bank' });
      await page.getByLabel('To asset').selectOption({ label: 'USDC on polygon' });
      assert.equal(
        await text(routes, 'routes-none'),
        'No path of at most 2 hops through active pairs leads from EUR on bank to USDC on polygon.',
      );
      await page.getByLabel('To asset').selectOption({ label: 'EUR on bank' });
      assert.equal(await text(routes, 'routes-same'), 'Pick two different assets.');

      // The operator activates the direct pair: the open page follows, the one-hop path first.
      await page.getByLabel('From asset').selectOption({ label: 'USDC on polygon' });
      await ok(operator, conversionTxs.pairSet({ ...directPair, status: 'active' }));
      await page.locator('li[data-path="polygon:USDC>bank:EUR"]').waitFor();
      assert.deepEqual(
        await Promise.all([0, 1].map((i) => paths.nth(i).getAttribute('data-path'))),
        ['polygon:USDC>bank:EUR', 'polygon:USDC>home:USD>bank:EUR'],
      );
      assert.equal(
        await text(paths.first(), 'path-summary'),
        '1 hop, spread and fee together 0.8% (80 bps), before fixed fees',
      );
      assert.equal(
        (await page
          .locator('tr[data-pair="polygon:USDC>bank:EUR"] [data-status]')
          .textContent())!.trim(),
        'Active',
      );
      assert.deepEqual(problemsOf(page), []);
      await context.close();
    });

    it('an engine with nothing configured yet says so in each section', async () => {
      const context = await world.browser.newContext({ viewport: phone });
      const page = await openPage(context, url, `/conversion/engines/${others[0]!.address}`);
      await page.getByRole('heading', { level: 1, name: 'Conversion engine Relay 02' }).waitFor();
      assert.equal(await text(page.locator('main'), 'engine-hops-max'), '1 hop at most in a route');
      assert.equal(await text(page.locator('main'), 'engine-slippage'), '0% (0 bps)');
      for (const [testId, sentence] of [
        ['no-ecosystems', 'The engine lists no ecosystem yet.'],
        ['no-assets', 'The engine lists no asset yet.'],
        ['no-pairs', 'The engine lists no pair yet.'],
        ['no-routes', 'A route joins two assets: the engine lists 0 assets.'],
      ] as const) {
        assert.equal(await text(page.locator('main'), testId), sentence);
      }
      assert.equal(await page.getByRole('table').count(), 0);
      assert.equal(await page.getByLabel('From asset').count(), 0);
      await screenshot(page, 'conversion-engine-empty-phone');
      assert.deepEqual(problemsOf(page), []);
      await context.close();
    });

    it('an unknown engine says so in a sentence; a bad address shows the API code', async () => {
      const context = await world.browser.newContext({ viewport: phone });
      const unknown = generateKey().address;
      const page = await openPage(context, url, `/conversion/engines/${unknown}`);
      const sentence = page.getByTestId('engine-not-found');
      await sentence.waitFor();
      assert.equal(
        (await sentence.textContent())!.trim(),
        `No conversion engine has the address ${unknown}: its operator creates one with a conversion.setEngine transaction, and every registry transaction acts on its sender's own engine.`,
      );
      assert.equal(await sentence.getAttribute('role'), 'alert');
      assert.match((await page.locator('main h1').textContent())!, /^Conversion engine [○●]/);
      await screenshot(page, 'conversion-unknown-phone');
      // The browser logs the API's 404 answer; nothing else went wrong.
      assert.deepEqual(
        problemsOf(page).filter((p) => !/status of 404/.test(p)),
        [],
      );

      await page.goto(`${url}/conversion/engines/not-an-address`);
      await page.getByRole('alert').filter({ hasText: 'invalid_address' }).waitFor();
      await context.close();
    });

    it('the pages: no serious accessibility violation, nothing wider than a phone', async () => {
      await checkConsolePages(
        world.browser,
        url,
        [
          ['conversion-list', '/conversion', 'li[data-engine]'],
          ['conversion-engine', enginePath(), 'tr[data-pair]'],
          ['conversion-unknown', `/conversion/engines/${generateKey().address}`, '[role="alert"]'],
        ],
        {
          seriousOnly: true,
          problems: (page) => problemsOf(page).filter((p) => !/status of 404/.test(p)),
          async prepare(page, pathname) {
            if (pathname !== enginePath()) return;
            // With paths shown: the explorer's output is checked too.
            await page.getByLabel('From asset').selectOption({ label: 'USDC on polygon' });
            await page.getByLabel('To asset').selectOption({ label: 'EUR on bank' });
            await page.locator('li[data-path]').first().waitFor();
          },
        },
      );
    });
  });
});
