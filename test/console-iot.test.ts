// The iot module's console pages (issue 20) against a real node process, in headless Chromium. An
// empty chain's list says how sessions start. Then, through the SDK, a CA operator registers a CA
// (its certificates made by the openssl CLI), the owner enrols a car and a wallet and links them
// under a mandate, a provider enrols a charger and prices its kWh; a relay sends the devices'
// signed messages: a session with one bill, and a second session started and ended. In the
// browser: the list shows the open session with its usage and exact amounts, follows a bill posted
// while it is open (no reload) and filters by status; the session page shows the session and its
// bills and follows a third bill; the device pages show the certificate record with the link and
// mandate or the tariff; an unknown session and device say so in sentences. The pages pass axe-core
// light at desktop width and dark at phone width, and fit a phone. Screenshots iot-*.png go to
// test-results/console/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import type { Locator, Page } from 'playwright-core';

import { possessionProof, signIotRequest } from '../src/modules/iot/crypto.js';
import { issue, makeCa } from '../src/modules/iot/txs-fixture.js';
import {
  fingerprintText,
  noSessionsText,
  periodText,
  validityText,
} from '../src/modules/iot/web/words.js';
import {
  authoriseFields,
  createClient,
  generateKey,
  iotTxBuilders as iotTxs,
  type BillRequest,
  type CofferClient,
  type EndRequest,
  type SigningKey,
  type StartRequest,
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

const suiteTimeoutMs = 90_000;
const ca = makeCa('Console Test CA');
const car = issue(ca, 'iot-device', 'car-1');
const walletCert = issue(ca, 'wallet', 'wallet-1');
const charger = issue(ca, 'service-device', 'charger-1');
const sessionPathname = '/iot/sessions/charger-1/s-1';
/** The session's start: a minute ago, so every bill's period ends before the block time. */
const startedAt = Date.now() - 60_000;
const ids = { serviceDevice: 'charger-1', iotDevice: 'car-1', sessionId: 's-1' };

/** A bill of the session: `usage` kWh after `meterStart`, over 10 s from `from`, at 2.50 USD. */
function billOf(seq: number, meterStart: number, usage: number, from: number): BillRequest {
  return {
    ...ids,
    seq,
    detail: {
      usage,
      unit: 'kWh',
      unitPrice: '250',
      meterStart,
      meterEnd: meterStart + usage,
      period: { from, to: from + 10_000 },
    },
    amount: String(usage * 250),
  };
}

const bills = [
  billOf(1, 0, 2, startedAt),
  billOf(2, 2, 3, startedAt + 10_000),
  billOf(3, 5, 1, startedAt + 20_000),
];

describe('web console: iot sessions', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let url = '';
  let client: CofferClient;
  let chainId = '';
  const operator = generateKey();
  const owner = generateKey();
  const provider = generateKey();
  const billTxs: string[] = [];

  async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
    const result = await client.send(key, tx);
    assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
    return result;
  }

  /** The relay (the dev account) sends bill `index` as the charger signed it. */
  async function postBill(index: number) {
    const bill = bills[index]!;
    const result = await ok(
      world.dev,
      iotTxs.bill(bill, signIotRequest('bill', chainId, { ...bill }, charger.key)),
    );
    billTxs[index] = result.hash;
  }

  async function startSession(sessionId: string) {
    const start: StartRequest = {
      ...ids,
      sessionId,
      meterStart: 0,
      startedAt,
      authorisation: signIotRequest(
        'authorise',
        chainId,
        authoriseFields({ ...ids, sessionId }),
        car.key,
      ),
    };
    await ok(
      world.dev,
      iotTxs.startSession(start, signIotRequest('start', chainId, start, charger.key)),
    );
  }

  before(async () => {
    world = await startConsole();
    url = world.url;
    client = createClient(url);
    chainId = (await client.health()).chainId;
  });

  after(() => world?.close());

  async function text(scope: Locator, testId: string): Promise<string> {
    return (await scope.getByTestId(testId).first().textContent())!.trim();
  }

  /** The page's errors but the API's 404 answers the browser logs. */
  const problems = (page: Page) => problemsOf(page).filter((p) => !/status of 404/.test(p));

  it('with no session on the chain, the list says how sessions start', async () => {
    const context = await world.browser.newContext({ viewport: phone });
    const page = await openPage(context, url, '/iot');
    const none = page.getByTestId('no-sessions');
    await none.waitFor();
    assert.equal((await none.textContent())!.trim(), noSessionsText('open'));
    assert.match(noSessionsText('open'), /iot\.startSession/);
    assert.equal(
      await page.getByRole('button', { name: 'Open', exact: true }).getAttribute('aria-pressed'),
      'true',
    );
    await screenshot(page, 'iot-empty-phone');
    assert.deepEqual(problems(page), []);
    await context.close();
  });

  describe('with a session', () => {
    before(async () => {
      await ok(world.dev, {
        type: 'ledger.transfer',
        payload: { to: owner.address, asset: 'USD', amount: '100000' },
      });
      const caKey = fs.readFileSync(ca.keyFile, 'utf8');
      const caProof = possessionProof('registerCa', chainId, ca.pem, caKey, operator.address);
      await ok(operator, iotTxs.registerCa('Console CA', ca.pem, caProof));
      for (const [who, cert] of [
        [owner, car],
        [owner, walletCert],
        [provider, charger],
      ] as const) {
        const proof = possessionProof('enrol', chainId, cert.pem, cert.key, who.address);
        await ok(who, iotTxs.enrol(cert.pem, proof));
      }
      await ok(
        owner,
        iotTxs.link('car-1', 'wallet-1', 'USD', {
          sessionMax: '5000',
          dayMax: '20000',
          sessionBlocks: 1_000_000,
          merchants: ['charger-1'],
        }),
      );
      await ok(
        provider,
        iotTxs.setTariff({
          serviceDevice: 'charger-1',
          asset: 'USD',
          unit: 'kWh',
          unitPrice: '250',
          unitsPer: 1,
          maxRatePerHour: 3600,
        }),
      );
      await startSession('s-1');
      await postBill(0);
      // A second session, started and ended at once: the ended filter shows it.
      await startSession('s-0');
      const end: EndRequest = {
        serviceDevice: 'charger-1',
        sessionId: 's-0',
        meterEnd: 0,
        endedAt: startedAt + 1000,
      };
      await ok(world.dev, iotTxs.endSession(end, signIotRequest('end', chainId, end, charger.key)));
    });

    it('the list shows the open session with exact amounts and follows a bill live', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const page = await openPage(context, url, '/');
      await page.getByRole('navigation').getByRole('link', { name: 'IoT' }).click();
      await page.getByRole('heading', { level: 1, name: /^IoT sessions/ }).waitFor();
      const item = page.locator('li[data-session="charger-1/s-1"]');
      await item.waitFor();
      assert.equal(await page.locator('li[data-session]').count(), 1, 'only the open session');
      assert.equal(await text(item, 'session-usage'), '2 kWh');
      assert.equal(await text(item, 'session-captured'), '5.00 USD of 50.00 USD held');
      assert.equal(await text(item, 'session-remaining'), '45.00 USD');
      assert.equal(await text(item, 'session-meter'), '5.00 USD captured of 50.00 USD held (10%)');
      assert.equal(await item.locator('meter').getAttribute('value'), '10');
      assert.equal((await item.locator('[data-status]').textContent())!.trim(), 'Open');
      const payer = item.locator(`a[href="/explorer/account/${owner.address}"]`);
      assert.equal(await payer.getAttribute('title'), owner.address);
      assert.ok((await payer.textContent())!.length < owner.address.length, 'the payer, short');
      assert.equal(
        await item.getByRole('link', { name: 'car-1' }).getAttribute('href'),
        '/iot/devices/car-1',
      );

      // A bill while the page is open: the item follows without a page load.
      await page.locator('h1 .live.on').waitFor();
      await page.evaluate('window.iotMarker = 1');
      await postBill(1);
      await item
        .getByTestId('session-captured')
        .filter({ hasText: '12.50 USD of 50.00 USD held' })
        .waitFor();
      assert.equal(await text(item, 'session-usage'), '5 kWh');
      assert.equal(await text(item, 'session-remaining'), '37.50 USD');
      assert.equal(await page.evaluate('window.iotMarker'), 1, 'the page did not reload');
      await screenshot(page, 'iot-list-desktop');

      // The filters: ended shows the other session; all shows both, the open one first.
      await page.getByRole('button', { name: 'Ended', exact: true }).click();
      await page.locator('li[data-session="charger-1/s-0"]').waitFor();
      assert.equal(await page.locator('li[data-session]').count(), 1);
      assert.equal(
        (await page.locator('li[data-session="charger-1/s-0"] [data-status]').textContent())!,
        'Ended',
      );
      assert.equal(
        await text(page.locator('li[data-session="charger-1/s-0"]'), 'session-remaining'),
        '0.00 USD',
      );
      await page.getByRole('button', { name: 'Capped', exact: true }).click();
      await page.getByTestId('no-sessions').waitFor();
      assert.equal(await text(page.locator('main'), 'no-sessions'), noSessionsText('capped'));
      await page.getByRole('button', { name: 'All', exact: true }).click();
      await page.locator('li[data-session="charger-1/s-0"]').waitFor();
      assert.deepEqual(
        await Promise.all(
          [0, 1].map((n) => page.locator('li[data-session]').nth(n).getAttribute('data-session')),
        ),
        ['charger-1/s-1', 'charger-1/s-0'],
      );

      // To the session, by its link.
      await page.getByRole('link', { name: 'Session s-1 at charger-1' }).click();
      await page.getByRole('heading', { level: 1, name: /^Session s-1 at charger-1/ }).waitFor();
      assert.equal(new URL(page.url()).pathname, sessionPathname);
      assert.deepEqual(problems(page), []);
      await context.close();
    });

    it('the session page: the session, its bills, and a bill arriving live', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const page = await openPage(context, url, sessionPathname);
      const main = page.locator('main');
      await page.locator('tr[data-bill="2"]').waitFor();
      assert.equal(
        await text(main, 'session-tariff'),
        '2.50 USD per kWh, at most 3600 kWh an hour',
      );
      assert.match(await text(main, 'session-held'), /^50\.00 USD, placed by /);
      assert.equal(await text(main, 'session-usage'), '5 kWh');
      assert.equal(await text(main, 'session-captured'), '12.50 USD');
      assert.equal(await text(main, 'session-unpaid'), '0.00 USD');
      assert.equal(await text(main, 'session-remaining'), '37.50 USD');
      assert.match(await text(main, 'session-expiry'), /^[0-9]+$/);
      assert.match(await text(main, 'session-ended'), /^Not yet: the meter reads 5$/);
      assert.deepEqual(await main.locator('table thead th').allTextContents(), [
        'Seq',
        'Period',
        'Meter start',
        'Meter end',
        'Usage',
        'Amount',
        'Captured',
        'Unpaid',
        'Status',
        'Bill tx',
      ]);
      const row = (seq: number) => main.locator(`tr[data-bill="${seq}"]`);
      const cells = async (seq: number) =>
        (await row(seq).locator('th, td').allTextContents()).map((t) => t.trim());
      const expectedRow = (index: number, amount: string) => {
        const bill = bills[index]!;
        return [
          String(bill.seq),
          periodText(bill.detail.period),
          String(bill.detail.meterStart),
          String(bill.detail.meterEnd),
          `${bill.detail.usage} kWh`,
          amount,
          amount,
          '0.00 USD',
          'Paid',
        ];
      };
      assert.deepEqual((await cells(1)).slice(0, 9), expectedRow(0, '5.00 USD'));
      assert.deepEqual((await cells(2)).slice(0, 9), expectedRow(1, '7.50 USD'));
      for (const index of [0, 1]) {
        const link = row(index + 1).locator('td a');
        assert.equal(await link.getAttribute('href'), `/explorer/tx/${billTxs[index]}`);
        assert.equal(await link.getAttribute('title'), billTxs[index]);
      }

      // The third bill while the page is open.
      await page.locator('h1 .live.on').waitFor();
      await page.evaluate('window.iotMarker = 1');
      await postBill(2);
      await row(3).waitFor();
      assert.deepEqual((await cells(3)).slice(0, 9), expectedRow(2, '2.50 USD'));
      assert.equal(await text(main, 'session-captured'), '15.00 USD');
      assert.equal(await text(main, 'session-remaining'), '35.00 USD');
      assert.equal(await page.evaluate('window.iotMarker'), 1, 'the page did not reload');
      assert.match((await main.locator('#bills-title').textContent())!, /^Bills \(3\)$/);
      await screenshot(page, 'iot-session-desktop');
      assert.deepEqual(problems(page), []);
      await context.close();
    });

    it('the device pages: the certificate record with the link and mandate, or the tariff', async () => {
      const context = await world.browser.newContext({ viewport: desktop });
      const carView = await client.iot.device('car-1');
      const page = await openPage(context, url, '/iot/devices/car-1');
      const main = page.locator('main');
      await main.getByTestId('device-mandate').waitFor();
      assert.match(await text(main, 'device-role'), /^IoT device/);
      assert.equal((await main.locator('[data-status]').first().textContent())!, 'Active');
      assert.equal(
        await text(main, 'device-fingerprint'),
        fingerprintText(carView.device.fingerprint),
      );
      assert.equal(await text(main, 'device-validity'), validityText(carView.device));
      assert.equal(await text(main, 'device-revocation'), 'None');
      assert.match(await text(main, 'device-ca'), /\(active\)$/);
      assert.equal(
        await text(main, 'device-mandate'),
        "at most 50.00 USD a session and 200.00 USD a UTC day; a session's hold lives 1000000 blocks",
      );
      assert.equal(
        await main
          .getByRole('list', { name: 'Service devices the mandate allows' })
          .getByRole('link', { name: 'charger-1' })
          .getAttribute('href'),
        '/iot/devices/charger-1',
      );
      assert.equal(
        await main
          .locator(`a[href="/explorer/account/${owner.address}"]`)
          .first()
          .getAttribute('title'),
        owner.address,
      );
      await screenshot(page, 'iot-device-desktop');

      await page.goto(`${url}/iot/devices/charger-1`);
      await main.getByTestId('device-tariff').waitFor();
      assert.match(await text(main, 'device-role'), /^Service device/);
      assert.equal(await text(main, 'device-tariff'), '2.50 USD per kWh');
      assert.equal(await main.getByTestId('device-mandate').count(), 0);
      assert.deepEqual(problems(page), []);
      await context.close();
    });

    it('an unknown session and an unknown device say so in sentences', async () => {
      const context = await world.browser.newContext({ viewport: phone });
      const page = await openPage(context, url, '/iot/sessions/charger-1/nope');
      const session = page.getByTestId('session-not-found');
      await session.waitFor();
      assert.equal(
        (await session.textContent())!.trim(),
        'The service device charger-1 has no session nope on this chain: a session exists once its iot.startSession transaction is in a block.',
      );
      assert.equal(await session.getAttribute('role'), 'alert');
      await page.goto(`${url}/iot/devices/ghost-1`);
      const device = page.getByTestId('device-not-found');
      await device.waitFor();
      assert.equal(
        (await device.textContent())!.trim(),
        'No device is enrolled with the id ghost-1: its owner enrols it with an iot.enrol transaction carrying a certificate a registered CA issued.',
      );
      await screenshot(page, 'iot-unknown-phone');
      assert.deepEqual(problems(page), []);
      await context.close();
    });

    it('the pages: no accessibility violation, nothing wider than a phone', async () => {
      await checkConsolePages(
        world.browser,
        url,
        [
          ['iot-list', '/iot', 'li[data-session]'],
          ['iot-session', sessionPathname, 'tr[data-bill]'],
          ['iot-device', '/iot/devices/car-1', '[data-testid="device-mandate"]'],
          ['iot-unknown', '/iot/devices/ghost-2', '[role="alert"]'],
        ],
        { problems },
      );
    });
  });
});
