// The licensing console pages (issue 21) against a node process and a content gateway, in
// headless Chromium (test/support/chromium.js, through support/licensing-console.js). A creator
// uploads a WebM (recorded by the same Chromium) to the gateway and registers it, then offers a
// licence from Node. In the browser, with the console's own CSP (it names the gateway as a media
// origin), a wallet created in the page buys the licence from the content page and plays the
// video on the play page: a token from the gateway signed by the wallet's key, a `<video>`
// streaming from the gateway with ranges, played to the `ended` event. The play is counted on
// the chain; the creator's dashboard shows the royalty received. Screenshots licensing-*.png go to
// test-results/console/.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { licensingTxBuilders } from '../src/modules/licensing/client.js';
import { testKey, uploadHeaders } from '../src/modules/licensing/gateway/fixture.js';
import { createClient, txs, type CofferClient } from '../src/sdk/index.js';
import {
  checkConsolePages,
  createWallet,
  desktop,
  openPage,
  problemsOf,
  screenshot,
  toSignOf,
} from './support/console.js';
import { startLicensingConsole, type LicensingConsoleWorld } from './support/licensing-console.js';
import { makeWebm } from './support/webm.js';

const suiteTimeoutMs = 90_000;
const title = 'Canvas, a short film';

describe('web console: content licensing', { timeout: suiteTimeoutMs }, () => {
  let world: LicensingConsoleWorld;
  let client: CofferClient;
  let contentId = '';
  let agreementId = '';
  const creator = testKey();

  before(async () => {
    world = await startLicensingConsole();
    client = createClient(world.url);
    const video = await makeWebm({ browser: world.browser, durationMs: 1_500 });
    contentId = createHash('sha256').update(video).digest('hex');
    const upload = await fetch(`${world.gatewayUrl}/v1/gateway/uploads`, {
      method: 'POST',
      headers: uploadHeaders(creator, video, Date.now()),
      body: video,
    });
    assert.equal(upload.status, 201, await upload.clone().text());
    const { publicKey, proof } = (await upload.json()) as { publicKey: string; proof: string };
    const send = async (tx: { type: string; payload: Record<string, unknown> }) =>
      assert.equal((await client.send(creator, tx)).status, 'ok', tx.type);
    await send(
      licensingTxBuilders.register({
        contentId,
        title,
        mediaType: 'video/webm',
        size: video.length,
        publicKey,
        proof,
      }),
    );
    await send(
      licensingTxBuilders.offer(contentId, 'watch-twice', {
        permission: [
          {
            action: 'play',
            constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 2 }],
          },
        ],
        duty: [{ action: 'compensate', payAmount: '500', unit: 'USD' }],
      }),
    );
  });

  after(() => world?.close());

  it('buys a licence in the page and plays the video from the gateway to its end', async () => {
    const context = await world.browser.newContext({ viewport: desktop });
    const page = await openPage(context, world.url, '/wallet');
    const buyer = await createWallet(page, world.url);
    await client.send(world.dev, txs.transfer({ to: buyer, asset: 'USD', amount: '2000' }));

    // In-page navigation: the wallet stays unlocked (a reload would lock it).
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Licensing' })
      .click();
    const card = page.locator(`[data-content="${contentId}"]`);
    await card.getByTestId('open-offers').filter({ hasText: '1 open' }).waitFor();
    await screenshot(page, 'licensing-catalogue-desktop');
    await card.getByRole('link', { name: title }).click();
    await page.locator('main h1').filter({ hasText: title }).waitFor();
    const offer = page.locator('[data-offer="watch-twice"]');
    await offer.getByText('Play at most 2 times').waitFor();
    await offer.getByTestId('offer-price').filter({ hasText: '5.00 USD' }).waitFor();
    await offer.getByRole('button', { name: 'Buy for 5.00 USD' }).click();
    const toSign = await toSignOf(page);
    assert.deepEqual(
      { type: toSign.type, sender: toSign.sender, payload: toSign.payload },
      {
        type: 'licence.accept',
        sender: buyer,
        payload: { contentId, offerId: 'watch-twice', maxAmount: '500' },
      },
    );
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByTestId('bought').waitFor();
    const agreements = await client.licensing.agreementsOf(buyer);
    assert.equal(agreements.agreements.length, 1);
    agreementId = agreements.agreements[0]!.agreementId;
    assert.equal(
      (await client.getAccount(creator.address)).balances.find((b) => b.asset === 'USD')?.balance,
      '500',
    );

    await page.getByRole('link', { name: 'Play it' }).click();
    await page.getByTestId('plays-left').filter({ hasText: '2' }).waitFor();
    await page.getByLabel('Content gateway').fill(world.gatewayUrl);
    await page.getByRole('button', { name: 'Play' }).click();
    await page.getByTestId('token-remaining').filter({ hasText: '1' }).waitFor();
    const player = page.getByTestId('player');
    await player.waitFor();
    assert.ok((await player.getAttribute('src'))!.startsWith(`${world.gatewayUrl}/content/`));
    // The whole video plays (1.5 s) to its `ended` event.
    await page.getByTestId('playback-ended').waitFor({ timeout: 20_000 });
    await screenshot(page, 'licensing-played-desktop');
    assert.deepEqual(problemsOf(page), []);

    // The second and last play of the licence, then a third: the gateway refuses it, and the page
    // shows its code.
    await page.getByRole('button', { name: 'Play' }).click();
    await page.getByTestId('token-remaining').filter({ hasText: '0' }).waitFor();
    await page.getByRole('button', { name: 'Play' }).click();
    await page.getByRole('alert').filter({ hasText: 'count_exhausted' }).waitFor();
    assert.deepEqual(
      problemsOf(page).filter((p) => !p.includes('status of 403')),
      [],
      'no error but the refused token request',
    );

    // The plays are counted on the chain (the gateway flushes its uses every 200 ms).
    for (let i = 0; ; i++) {
      const { agreement } = await client.licensing.agreement(agreementId);
      if (agreement.used.play === 2) break;
      assert.ok(i < 50, 'the two plays counted on the chain within 5 s');
      await sleep(100);
    }

    // The creator's dashboard: the content and the royalty received.
    await page.goto(`${world.url}/licensing/dashboard?account=${creator.address}`);
    await page.getByTestId('royalties').filter({ hasText: '5.00 USD' }).waitFor();
    await page
      .locator(`[data-content="${contentId}"]`)
      .getByTestId('to-you')
      .filter({ hasText: '5.00 USD' })
      .waitFor();
    await screenshot(page, 'licensing-dashboard-desktop');
    await context.close();
  });
  it('the pages: no accessibility violation, nothing wider than a phone', async () => {
    await checkConsolePages(world.browser, world.url, [
      ['licensing-catalogue', '/licensing', `[data-content="${contentId}"]`],
      ['licensing-content', `/licensing/content/${contentId}`, '[data-offer="watch-twice"]'],
      ['licensing-play', `/licensing/play/${agreementId}`, '[data-testid="need-wallet"]'],
      [
        'licensing-dashboard',
        `/licensing/dashboard?account=${creator.address}`,
        '[data-testid="royalties"]',
      ],
    ]);
  });
});
