// The time banks' console pages (issue 16) against a real node process, in headless Chromium. A
// bank with two members is made with the SDK; each member imports their key into the wallet of
// their own browser context: the provider posts an offer and records an exchange (a refused
// one shows the node's code), the recipient confirms it with the keyboard, the provider's open
// page follows it live and closes the offer, and both statements show the minutes moved; the
// statement's CSV, made in the page, downloads with the node's lines. The list, bank and member
// pages pass axe-core (with a wallet and without) and fit a phone's width; screenshots
// timebank-*.png go to test-results/console/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import type { BrowserContext, Page } from 'playwright-core';

import {
  createClient,
  generateKey,
  hashUserId,
  signTx,
  timebankIdOf,
  timebankTxs,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import {
  axeViolations,
  desktop,
  openPage,
  phone,
  problemsOf,
  screenshot,
  startConsole,
  walletPassphrase,
  type ConsoleWorld,
} from './support/console.js';

const suiteTimeoutMs = 90_000;
const bankName = 'Riverside Time Bank';

describe('web console: time banks', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let url = '';
  let client: CofferClient;
  let bankId = '';
  const coordinator = generateKey();
  const ann = generateKey();
  const ben = generateKey();

  async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
    const result = await client.send(key, tx);
    assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
    return result;
  }

  before(async () => {
    world = await startConsole();
    url = world.url;
    client = createClient(url);
    // A bank whose credits expire after 30 days; ann gets 10 hours from the coordinator.
    const created = await ok(
      coordinator,
      timebankTxs.create({
        name: bankName,
        coordinators: [coordinator.address],
        policy: { kind: 'expiry', expiryDays: 30, noticeDays: 7 },
        creditLimitMinutes: '0',
      }),
    );
    bankId = timebankIdOf(created.hash);
    const { salt } = await client.timebanks.get(bankId);
    for (const [key, userId] of [
      [ann, 'ann@example.org'],
      [ben, 'ben@example.org'],
    ] as const) {
      await ok(key, timebankTxs.addMember({ bankId, userIdHash: hashUserId(salt, userId) }));
      await ok(coordinator, timebankTxs.approveMember({ bankId, account: key.address }));
    }
    await ok(
      coordinator,
      timebankTxs.issue({ bankId, account: ann.address, minutes: '600', requestId: 'req-1' }),
    );
  });

  after(() => world?.close());

  /** A page of a new context whose wallet holds `key` (imported), unlocked. */
  async function walletPage(context: BrowserContext, key: SigningKey): Promise<Page> {
    const page = await openPage(context, url, '/wallet');
    await page.getByLabel('Passphrase', { exact: true }).fill(walletPassphrase);
    await page.getByLabel('Passphrase again').fill(walletPassphrase);
    await page.getByLabel('Import an existing secret key instead of creating one').check();
    await page.getByLabel('Secret key (64 hex digits)').fill(key.secretKey);
    await page.getByRole('button', { name: 'Import key' }).click();
    assert.equal((await page.getByTestId('address').textContent())!.trim(), key.address);
    return page;
  }

  /** Goes to `pathname` inside the app (a page load would lock the wallet again). */
  async function go(page: Page, pathname: string, heading: string | RegExp): Promise<void> {
    await page.evaluate(
      `history.pushState(null, '', ${JSON.stringify(pathname)}); dispatchEvent(new PopStateEvent('popstate'))`,
    );
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /** Signs what the confirmation shows, after checking its type. */
  async function signShown(page: Page, type: string): Promise<void> {
    const shown = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
    };
    assert.equal(shown.type, type);
    await page.getByRole('button', { name: 'Sign and send' }).click();
  }

  it('an exchange recorded in one browser and confirmed in another moves the minutes', async () => {
    const benContext = await world.browser.newContext({ viewport: desktop });
    const annContext = await world.browser.newContext({ viewport: desktop });
    const benPage = await walletPage(benContext, ben);
    const annPage = await walletPage(annContext, ann);

    // Ben reaches the bank through the console's links and posts an offer.
    await benPage.getByRole('navigation').getByRole('link', { name: 'Time banks' }).click();
    await benPage.getByRole('link', { name: bankName }).click();
    await benPage.getByRole('heading', { level: 1, name: bankName }).waitFor();
    await benPage.getByLabel('Kind').selectOption('offer');
    await benPage.getByLabel('Title').fill('Garden work');
    await benPage.getByLabel('Category').fill('gardening');
    await benPage.getByLabel('Hours', { exact: true }).fill('2');
    await benPage.getByRole('button', { name: 'Review the listing' }).click();
    await signShown(benPage, 'timecredits.postListing');
    await benPage.locator('tr[data-listing="0"][data-status="open"]').waitFor();
    assert.match(
      (await benPage.locator('tr[data-listing="0"]').textContent())!,
      /offer.*Garden work.*gardening.*2:00 h/,
    );

    // To someone who is not a member: the node refuses it, and the page says why.
    await benPage.getByLabel('Recipient (address)').fill(generateKey().address);
    await benPage.getByLabel('Hours given').fill('1');
    await benPage.getByRole('button', { name: 'Review the exchange' }).click();
    await signShown(benPage, 'timecredits.recordExchange');
    const refusal = benPage.getByRole('alert').filter({ hasText: 'member_not_found' });
    await refusal.waitFor();
    await screenshot(benPage, 'timebank-refused-desktop');
    await benPage.getByRole('button', { name: 'Cancel' }).click();

    // An hour and a half for ann, against the offer.
    await benPage.getByLabel('Recipient (address)').fill(ann.address);
    await benPage.getByLabel('Hours given').fill('1:30');
    await benPage.getByLabel('What you did (optional)').fill('Pruned the hedge');
    await benPage.getByLabel('For a listing (optional)').selectOption('0');
    await benPage.getByRole('button', { name: 'Review the exchange' }).click();
    const recorded = JSON.parse((await benPage.getByTestId('to-sign').textContent())!) as {
      payload: Record<string, unknown>;
    };
    assert.deepEqual(recorded.payload, {
      bankId,
      recipient: ann.address,
      minutes: '90',
      offer: 'Pruned the hedge',
      listing: 0,
    });
    await signShown(benPage, 'timecredits.recordExchange');
    const pending = benPage.locator('tr[data-exchange="0"][data-status="pending"]');
    await pending.waitFor();
    assert.match((await pending.textContent())!, /waiting for the recipient/);
    // The provider's record is its confirmation: nothing for ben to confirm.
    assert.equal(await pending.getByRole('button').count(), 0);
    await screenshot(benPage, 'timebank-recorded-desktop');

    // Ann, in her own browser, confirms it on the bank page.
    await go(annPage, `/timebanks/${bankId}`, bankName);
    // With the keyboard: the confirmation takes the focus, and Tab reaches "Sign and send".
    await annPage.getByRole('button', { name: 'Confirm #0' }).focus();
    await annPage.keyboard.press('Enter');
    const toSign = annPage.getByTestId('to-sign');
    assert.match((await toSign.textContent())!, /"type": "timecredits.confirmExchange"/);
    assert.match((await toSign.textContent())!, /"exchange": 0/);
    await screenshot(annPage, 'timebank-confirm-desktop');
    await annPage.keyboard.press('Tab');
    assert.equal(
      await annPage.evaluate<string | undefined>('document.activeElement?.textContent'),
      'Sign and send',
    );
    await annPage.keyboard.press('Enter');
    await annPage.locator('tr[data-exchange="0"][data-status="completed"]').waitFor();
    await annPage.locator(`tr[data-member="${ann.address}"] td[data-balance="510"]`).waitFor();
    await annPage.locator(`tr[data-member="${ben.address}"] td[data-balance="90"]`).waitFor();
    assert.equal((await client.timebanks.exchange(bankId, 0)).status, 'completed');

    // Her statement: the issued lot less what she paid, and the totals.
    await annPage.locator(`tr[data-member="${ann.address}"]`).getByRole('link').click();
    await annPage.getByRole('heading', { level: 1, name: /^Statement of/ }).waitFor();
    await annPage.locator('[data-testid="balance"][data-minutes="510"]').waitFor();
    const lotRow = annPage.locator('tr[data-lot]');
    assert.equal(await lotRow.count(), 1);
    assert.match((await lotRow.textContent())!, /issue:req-1.*8:30 h/);
    assert.match((await annPage.locator('tr[data-exchange="0"]').textContent())!, /completed/);
    await screenshot(annPage, 'timebank-statement-desktop');

    // The CSV made in the page has the node's lines.
    const [download] = await Promise.all([
      annPage.waitForEvent('download'),
      annPage.getByRole('link', { name: 'Download the statement (CSV)' }).click(),
    ]);
    assert.match(
      download.suggestedFilename(),
      new RegExp(`^statement-${bankId}-${ann.address}-\\d+\\.csv$`),
    );
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.equal(csv, await client.timebanks.statementCsv(bankId, ann.address));
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'lot,origin,baseTime,ageDays,expiresAt,minutes,effectiveMinutes,hours,expired',
    );
    assert.match(lines[1]!, /^\d+,issue:req-1,[^,]+,0,[^,]+,510,510,8:30,false$/);
    assert.ok(lines.includes(',balance,,,,510,510,8:30,'), csv);
    assert.ok(lines.includes(',received,,,,90,90,1:30,'), csv);

    // Ben's bank page follows the bank's events: the exchange shows completed there too.
    await benPage.locator('tr[data-exchange="0"][data-status="completed"]').waitFor();
    await benPage.locator(`tr[data-member="${ben.address}"] td[data-balance="90"]`).waitFor();
    // The offer was done: ben closes it.
    await benPage.getByRole('button', { name: 'Close #0' }).click();
    await signShown(benPage, 'timecredits.closeListing');
    await benPage.locator('tr[data-listing="0"][data-status="closed"]').waitFor();
    assert.equal((await client.timebanks.listing(bankId, 0)).status, 'closed');

    // Ben's statement in his browser: the minutes arrived as a part of ann's lot, which keeps its
    // origin, base time and expiry.
    await go(benPage, `/timebanks/${bankId}/members/${ben.address}`, /^Statement of/);
    await benPage.locator('[data-testid="balance"][data-minutes="90"]').waitFor();
    const annLot = (await lotRow.textContent())!;
    const benLot = (await benPage.locator('tr[data-lot]').textContent())!;
    assert.match(benLot, /issue:req-1.*1:30 h/);
    const times = (row: string) => row.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g);
    assert.deepEqual(times(benLot), times(annLot));

    // The one refused submit is the browser's only complaint (it logs the 422 itself).
    assert.deepEqual(problemsOf(benPage), [
      'Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)',
    ]);
    assert.deepEqual(problemsOf(annPage), []);
    await benContext.close();
    await annContext.close();
  });

  it('the bank page lists every member and applicant, a page at a time', async () => {
    // 50 applicants more than the two members: two pages of 50.
    const [{ chainId }, { salt }] = await Promise.all([
      client.health(),
      client.timebanks.get(bankId),
    ]);
    const applicants = Array.from({ length: 50 }, () => generateKey());
    const batch = await client.submitBatch(
      applicants.map((key, i) =>
        signTx(
          {
            chainId,
            sender: key.address,
            nonce: 0,
            ...timebankTxs.addMember({
              bankId,
              userIdHash: hashUserId(salt, `applicant-${i}@example.org`),
            }),
          },
          key,
        ),
      ),
      { wait: 'commit' },
    );
    assert.equal(batch.accepted, applicants.length, JSON.stringify(batch.results[0]));
    const everyone = [ann, ben, ...applicants].map((key) => key.address).sort();
    const members = new Set([ann.address, ben.address]);
    /** Account and status of each line, as the API orders and marks them. */
    const expected = (accounts: string[]) =>
      accounts.map((a) => `${a} ${members.has(a) ? 'approved' : 'pending'}`);

    const context = await world.browser.newContext({ viewport: desktop });
    const page = await openPage(context, url, `/timebanks/${bankId}`);
    const shown = () =>
      page.evaluate<string[]>(
        "[...document.querySelectorAll('tr[data-member]')].map((row) => `${row.dataset.member} ${row.cells[1].textContent}`)",
      );
    const more = page.getByRole('button', { name: 'More members' });
    const previous = page.getByRole('button', { name: 'Previous members' });

    await page.locator(`tr[data-member="${everyone[49]}"]`).waitFor();
    assert.deepEqual(await shown(), expected(everyone.slice(0, 50)));
    assert.equal(await previous.isDisabled(), true);
    await more.click();
    await page.locator(`tr[data-member="${everyone[50]}"]`).waitFor();
    await page.getByText('Page 2', { exact: true }).waitFor();
    assert.deepEqual(await shown(), expected(everyone.slice(50)));
    assert.equal(await more.isDisabled(), true);
    await previous.click();
    await page.locator(`tr[data-member="${everyone[0]}"]`).waitFor();
    assert.deepEqual(await shown(), expected(everyone.slice(0, 50)));
    // A visitor's page decides nothing.
    assert.equal(await page.getByRole('columnheader', { name: 'Application' }).count(), 0);
    assert.deepEqual(problemsOf(page), []);
    await context.close();

    // The coordinator's wallet approves an applicant from the list.
    const coordinatorContext = await world.browser.newContext({ viewport: desktop });
    const coordinatorPage = await walletPage(coordinatorContext, coordinator);
    await go(coordinatorPage, `/timebanks/${bankId}`, bankName);
    const chosen = everyone.find((a) => !members.has(a))!;
    await coordinatorPage.getByRole('button', { name: `Approve ${chosen}` }).click();
    await signShown(coordinatorPage, 'timebank.approveMember');
    await coordinatorPage
      .locator(`tr[data-member="${chosen}"]`)
      .filter({ hasText: 'approved' })
      .waitFor();
    assert.equal((await client.timebanks.member(bankId, chosen)).status, 'approved');
    assert.equal(
      await coordinatorPage.getByRole('button', { name: `Approve ${chosen}` }).count(),
      0,
    );
    assert.deepEqual(problemsOf(coordinatorPage), []);
    await coordinatorContext.close();
  });

  it('the bank and member pages: no serious accessibility violation, nothing wider than a phone', async () => {
    // Light at desktop width, dark (the system's preference) at phone width: both themes pass.
    for (const [name, viewport, colorScheme] of [
      ['desktop', desktop, 'light'],
      ['phone', phone, 'dark'],
    ] as const) {
      // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
      const context = await world.browser.newContext({ viewport, colorScheme, bypassCSP: true });
      // The coordinator's wallet: the pages show their forms and buttons too.
      const page = await walletPage(context, coordinator);
      for (const [file, pathname, heading] of [
        ['timebank-list', '/timebanks', 'Time banks'],
        ['timebank-bank', `/timebanks/${bankId}`, bankName],
        ['timebank-member', `/timebanks/${bankId}/members/${ann.address}`, /^Statement of/],
      ] as const) {
        await go(page, pathname, heading);
        await page
          .locator('main [role="status"]')
          .first()
          .waitFor({ state: 'detached' })
          .catch(() => undefined);
        const violations = await axeViolations(page);
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious, [], `${pathname} at ${name}: ${JSON.stringify(violations)}`);
        await screenshot(page, `${file}-${name}`);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        assert.ok(overflow <= 0, `${pathname} at ${name} is ${overflow}px wider than the screen`);
      }
      // Without a wallet, the bank page says how to take part.
      const bare = await world.browser.newContext({ viewport, colorScheme, bypassCSP: true });
      const visitor = await openPage(bare, url, `/timebanks/${bankId}`);
      await visitor.getByRole('note').filter({ hasText: 'create your wallet' }).waitFor();
      const violations = await axeViolations(visitor);
      assert.deepEqual(
        violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
        [],
      );
      assert.deepEqual(problemsOf(page), []);
      assert.deepEqual(problemsOf(visitor), []);
      await bare.close();
      await context.close();
    }
  });

  it('an unknown bank or member shows the API code', async () => {
    const context = await world.browser.newContext({ viewport: desktop });
    const page = await openPage(context, url, '/timebanks/0123456789abcdef');
    await page.getByRole('alert').filter({ hasText: 'timebank_not_found' }).waitFor();
    await page.goto(`${url}/timebanks/${bankId}/members/${generateKey().address}`);
    await page.getByRole('alert').filter({ hasText: 'member_not_found' }).waitFor();
    await context.close();
  });
});
