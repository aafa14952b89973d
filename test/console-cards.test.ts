// The cards pages of the console (issue 18) against a real node process with a vault key file, in
// headless Chromium, over the world of test/support/cards-world.ts (a card on a device with one
// payment and on a second device the cardholder has not approved, a second card pending; all made
// through the API). In the browser: the cards page refuses a bad id, the card page shows the face,
// the devices' statuses and counts, the device screen shows the payments left (as the API counts
// them) and the payment, and follows a second payment live; the cardholder's wallet accepts the
// pending card through the confirmation screen. The pages pass axe-core light at desktop width and
// dark at phone width. The pending device's screen says it waits for approval; the issuer is
// offered no approval, the cardholder approves it through the confirmation screen. Last, the
// cardholder removes the card from the first device, whose screen then says it cannot pay.
// Screenshots cards-*.png go to test-results/console/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { BrowserContext, Page } from 'playwright-core';

import type { SigningKey } from '../src/sdk/index.js';
import {
  cardMain,
  cardPending,
  face,
  panMain,
  startCardsWorld,
  type CardsWorld,
} from './support/cards-world.js';
import {
  axeViolations,
  desktop,
  openPage,
  phone,
  problemsOf,
  screenshot,
  walletPassphrase,
} from './support/console.js';

const suiteTimeoutMs = 90_000;

describe('web console: cards', { timeout: suiteTimeoutMs }, () => {
  let world: CardsWorld;
  let url = '';
  let browser: CardsWorld['browser'] | undefined;
  let client: CardsWorld['client'];
  let holder: SigningKey;
  let issuer: SigningKey;
  let device = '';
  let pendingDevice: CardsWorld['pendingDevice'];
  let firstHold = '';
  const pay = (amount: string) => world.pay(amount);
  const paymentsLeftByApi = () => world.paymentsLeftByApi();

  before(async () => {
    world = await startCardsWorld();
    ({ url, browser, client, holder, issuer, device, pendingDevice, firstHold } = world);
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

  it('a visitor opens the card, its device screen and follows a payment live', async () => {
    const context = await browser!.newContext({ viewport: desktop });
    const page = await openPage(context, url, '/cards');
    await page.getByRole('heading', { level: 1, name: 'Cards' }).waitFor();

    // A bad id is refused in the page, with the API's code and sentence.
    await page.getByLabel('Card id').fill('no');
    await page.getByRole('button', { name: 'Open the card' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid_card_id' }).waitFor();
    await page.getByLabel('Card id').fill(cardMain);
    await page.getByRole('button', { name: 'Open the card' }).click();
    await page.getByRole('heading', { level: 1, name: `Card ${cardMain}` }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/cards/${cardMain}`);

    // The face, named for a screen reader, and the card's terms.
    const cardImage = page.getByRole('img', {
      name: `Harbour Bank Debit card ending ${panMain.slice(-4)}, expires 2030-11, pays in USD`,
    });
    await cardImage.waitFor();
    assert.match((await page.getByTestId('card-face').textContent())!, /•••• \d{4}.*11\/30.*USD/);
    assert.equal(
      await page.getByTestId('card-face').locator('rect').first().getAttribute('fill'),
      face.colour,
      "the face's colour is the issuer's",
    );
    await page.locator('[data-testid="card-status"][data-status="active"]').waitFor();
    assert.match((await page.locator('dl.fields').textContent())!, /30 days from minting/);

    // The device's counts: 5 minted, 1 used, 4 unused, the next request is 2.
    const row = page.locator(`tr[data-device="${device}"]`);
    await row.waitFor();
    assert.equal(await row.locator('[data-unused="4"]').count(), 1);
    assert.equal(await row.locator('[data-next-request="2"]').count(), 1);
    assert.equal(await row.locator('[data-minted="5"]').count(), 1);
    assert.equal(await row.locator('[data-used="1"]').count(), 1);
    assert.equal((await row.locator('[data-status="active"]').textContent())!.trim(), 'Active');
    // The device the cardholder has not approved says so, and has no token.
    const pendingRow = page.locator(`tr[data-device="${pendingDevice.device}"]`);
    assert.equal(
      (await pendingRow.locator('[data-status="pending"]').textContent())!.trim(),
      "Pending: waiting for the cardholder's approval",
    );
    assert.equal(await pendingRow.locator('[data-unused="0"]').count(), 1);
    // A visitor holds none of the card's keys: no action (no Approve, no Remove).
    assert.equal(await page.getByRole('main').getByRole('button').count(), 0);
    await screenshot(page, 'cards-card-visitor-desktop');

    // The device screen, through the row's link.
    await row.getByRole('link', { name: `Screen of device ${device}` }).click();
    await page.getByRole('heading', { level: 1, name: /^Device screen/ }).waitFor();
    const left = page.getByTestId('payments-left');
    await left.waitFor();
    const byApi = await paymentsLeftByApi();
    assert.equal(byApi, 4);
    assert.equal((await left.textContent())!.trim(), `${byApi} payments left`);
    assert.match(
      (await page.getByTestId('device-screen').textContent())!,
      /Next token expires \d{4}-\d\d-\d\d/,
    );
    const payment = page.locator(`tr[data-payment="${firstHold}"][data-outcome="authorised"]`);
    await payment.waitFor();
    assert.match((await payment.textContent())!, /Approved.*12\.50 USD.*m-1.*Hold/);
    assert.equal(
      await payment.getByRole('link', { name: /…/ }).last().getAttribute('href'),
      `/explorer/tx/${firstHold}`,
    );

    // A second payment while the screen is open: the page follows the card's events.
    await page.locator('.live.on').first().waitFor();
    const secondHold = await pay('399');
    await page.locator('[data-testid="payments-left"][data-count="3"]').waitFor();
    assert.equal(await paymentsLeftByApi(), 3);
    const rows = page.locator('tr[data-payment]');
    await page.locator(`tr[data-payment="${secondHold}"]`).waitFor();
    assert.equal(await rows.count(), 2);
    // Newest first.
    assert.equal(await rows.first().getAttribute('data-payment'), secondHold);
    assert.match((await rows.first().textContent())!, /3\.99 USD/);
    await screenshot(page, 'cards-device-desktop');
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it("the cardholder's wallet accepts the pending card through the confirmation screen", async () => {
    const context = await browser!.newContext({ viewport: desktop });
    const page = await walletPage(context, holder);
    await go(page, `/cards/${cardPending}`, `Card ${cardPending}`);
    await page.locator('[data-testid="card-status"][data-status="pending"]').waitFor();
    await page.getByRole('button', { name: 'Accept the card' }).click();
    const shown = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
      sender: string;
      payload: unknown;
    };
    assert.deepEqual(
      { type: shown.type, sender: shown.sender, payload: shown.payload },
      { type: 'card.accept', sender: holder.address, payload: { card: cardPending } },
    );
    await screenshot(page, 'cards-accept-desktop');
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.locator('[data-testid="card-status"][data-status="active"]').waitFor();
    assert.equal((await client.cards.get(cardPending)).status, 'active');
    // Accepted: the cardholder may still close it, never accept it again.
    assert.equal(await page.getByRole('button', { name: 'Accept the card' }).count(), 0);
    await page.getByRole('button', { name: 'Close the card' }).waitFor();
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('the pages: no serious accessibility violation, nothing wider than a phone', async () => {
    for (const [name, viewport, colorScheme] of [
      ['desktop', desktop, 'light'],
      ['phone', phone, 'dark'],
    ] as const) {
      // axe is injected as a script, which the page's own policy forbids: this context bypasses it.
      const context = await browser!.newContext({ viewport, colorScheme, bypassCSP: true });
      // The cardholder's wallet: the card page shows its actions too.
      const page = await walletPage(context, holder);
      for (const [file, pathname, heading] of [
        ['cards-open', '/cards', 'Cards'],
        ['cards-card', `/cards/${cardMain}`, `Card ${cardMain}`],
        ['cards-device', `/cards/${cardMain}/devices/${device}`, /^Device screen/],
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
      assert.deepEqual(problemsOf(page), []);
      await context.close();
    }
  });

  it("a pending device waits for the cardholder's approval, which only the cardholder's wallet offers", async () => {
    const devicePath = `/cards/${cardMain}/devices/${pendingDevice.device}`;
    const approve = `Approve device ${pendingDevice.device}`;

    // The issuer added the device: it may remove it, never approve it.
    const issuerContext = await browser!.newContext({ viewport: desktop });
    const issuerPage = await walletPage(issuerContext, issuer);
    await go(issuerPage, `/cards/${cardMain}`, `Card ${cardMain}`);
    await issuerPage
      .getByRole('button', { name: `Remove the card from device ${pendingDevice.device}` })
      .waitFor();
    assert.equal(await issuerPage.getByRole('button', { name: /^Approve/ }).count(), 0);
    assert.deepEqual(problemsOf(issuerPage), []);
    await issuerContext.close();

    const context = await browser!.newContext({ viewport: desktop });
    const page = await walletPage(context, holder);
    // Its screen: blocked, with the reason, and no count of payments.
    await go(page, devicePath, /^Device screen/);
    const blocked = page.getByTestId('device-blocked');
    await blocked.waitFor();
    assert.equal(
      (await blocked.textContent())!.trim(),
      "Waiting for the cardholder's approval of this device: it cannot pay yet.",
    );
    assert.equal(await page.getByTestId('payments-left').count(), 0);
    await page.locator('[data-testid="device-status"][data-status="pending"]').waitFor();
    await screenshot(page, 'cards-device-pending-desktop');

    // The card page offers the approval on the pending device only.
    await go(page, `/cards/${cardMain}`, `Card ${cardMain}`);
    await page.getByRole('button', { name: approve }).click();
    assert.equal(await page.getByRole('button', { name: `Approve device ${device}` }).count(), 0);
    const shown = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
      sender: string;
      payload: unknown;
    };
    assert.deepEqual(
      { type: shown.type, sender: shown.sender, payload: shown.payload },
      {
        type: 'card.approveDevice',
        sender: holder.address,
        payload: { card: cardMain, device: pendingDevice.device },
      },
    );
    // The whole device id and box key, to compare with `coffer card-device info` on the device.
    assert.equal(await page.getByTestId('approve-device').textContent(), pendingDevice.device);
    assert.equal(await page.getByTestId('approve-box-key').textContent(), pendingDevice.boxKey);
    await screenshot(page, 'cards-approve-device-desktop');
    await page.getByRole('button', { name: 'Sign and send' }).click();
    const pendingRow = page.locator(`tr[data-device="${pendingDevice.device}"]`);
    await pendingRow.locator('[data-status="active"]').waitFor();
    assert.equal((await client.cards.device(cardMain, pendingDevice.device)).status, 'active');
    assert.equal(await page.getByRole('button', { name: approve }).count(), 0);

    // Approved, its screen counts payments: none until the device asks for a batch.
    await go(page, devicePath, /^Device screen/);
    await page.locator('[data-testid="payments-left"][data-count="0"]').waitFor();
    assert.equal(await page.getByTestId('device-blocked').count(), 0);
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('the cardholder removes the card from the device; its screen says so plainly', async () => {
    const context = await browser!.newContext({ viewport: desktop });
    const page = await walletPage(context, holder);
    await go(page, `/cards/${cardMain}`, `Card ${cardMain}`);
    await page.getByRole('button', { name: `Remove the card from device ${device}` }).click();
    const shown = JSON.parse((await page.getByTestId('to-sign').textContent())!) as {
      type: string;
      payload: unknown;
    };
    assert.deepEqual(
      { type: shown.type, payload: shown.payload },
      { type: 'card.removeDevice', payload: { card: cardMain, device } },
    );
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.locator(`tr[data-device="${device}"]`).waitFor({ state: 'detached' });
    assert.equal((await client.cards.device(cardMain, device)).status, 'removed');
    // The other device keeps the card.
    await page
      .locator(`tr[data-device="${pendingDevice.device}"] [data-status="active"]`)
      .waitFor();

    // The device's screen: no payments left to count, the reason in words, the history kept.
    await go(page, `/cards/${cardMain}/devices/${device}`, /^Device screen/);
    const blocked = page.getByTestId('device-blocked');
    await blocked.waitFor();
    assert.equal(
      (await blocked.textContent())!.trim(),
      'This card was removed from this device: it cannot pay here.',
    );
    assert.equal(await page.getByTestId('payments-left').count(), 0);
    await page.locator('tr[data-payment]').nth(1).waitFor();
    assert.equal(await page.locator('tr[data-payment]').count(), 2);
    await screenshot(page, 'cards-device-removed-desktop');
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });
});
