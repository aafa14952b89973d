// The printing console pages (issue 23) against a node process, in headless Chromium
// (test/support/chromium.js, through support/console.js). Node plays the hardware-id authority,
// the print server and the designer by their txs (the servers themselves are the e2e test's
// subject): an SBC's id is recorded, its printer registered with the owner's signed consent, and
// two designs listed, one too large for the printer's bed. In the browser, the owner's key
// imported into the wallet buys a print of the one that fits on its printer from the store (the
// other offers no printer, saying why); the print page follows the token while the "server"
// starts it, reports 40 % and finishes it, then shows the payment split. The owner then revokes
// the printer from the printers page and cancels a second, unprinted token for a refund.
// Screenshots printing-*.png go to test-results/console/.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { fromHex, publicKeyFromAddress, sha256Hex, sign, toHex } from '../src/crypto/index.js';
import { ownerProofOf } from '../src/modules/printing/agent/enrol.js';
import {
  designIdOf,
  designUploadMessage,
  deviceKeyHashOf,
  hardwareIdOf,
  printerDeviceMessage,
  printingTxBuilders,
  profileHashOf,
  type PrinterProfile,
} from '../src/modules/printing/client.js';
import {
  createClient,
  generateKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import {
  checkConsolePages,
  desktop,
  openPage,
  problemsOf,
  screenshot,
  startConsole,
  toSignOf,
  walletPassphrase,
  type ConsoleWorld,
} from './support/console.js';

const suiteTimeoutMs = 120_000;
const title = 'Gear, 40 teeth';
const tooLargeTitle = 'Bridge span, 1 m';

const profile: PrinterProfile = {
  firmware: 'marlin',
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'petg',
  hotendC: 235,
  bedC: 80,
  flowPct: 95,
  startGcode: 'G28\nG92 E0',
  endGcode: 'M104 S0\nM140 S0\nM84',
};

describe('web console: 3D printing', { timeout: suiteTimeoutMs }, () => {
  let world: ConsoleWorld;
  let client: CofferClient;
  let chainId = '';
  const authority = generateKey();
  const server = generateKey();
  const designer = generateKey();
  const owner = generateKey();
  const printerId = `pr_${toHex(randomBytes(16))}`;
  let designId = '';
  let tokenId = '';
  let secondToken = '';

  const send = async (key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) => {
    const result = await client.send(key, tx);
    assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
    return result.hash;
  };

  async function listDesign(name: string, bbox: { x: number; y: number; z: number }) {
    const contentHash = sha256Hex(name);
    const id = designIdOf(server.address, designer.address, contentHash);
    const fields = { lines: 4_321, sizeBytes: 98_765, platformShareBp: 1_000 };
    const serverProof = toHex(
      sign(
        designUploadMessage(
          chainId,
          id,
          designer.address,
          contentHash,
          fields.lines,
          fields.sizeBytes,
          bbox,
          fields.platformShareBp,
        ),
        fromHex(server.secretKey),
      ),
    );
    await send(
      designer,
      printingTxBuilders.listDesign({
        designId: id,
        server: server.address,
        title: name,
        contentHash,
        ...fields,
        bbox,
        price: { asset: 'USD', amount: '1250' },
        printsMax: 10,
        licence: { commercial: false, remix: true },
        serverProof,
      }),
    );
    return id;
  }

  before(async () => {
    world = await startConsole();
    client = createClient(world.url);
    chainId = (await client.health()).chainId;
    await client.send(
      world.dev,
      txs.transfer({ to: owner.address, asset: 'USD', amount: '10000' }),
    );
    // The SBC's hardware id, then its printer registered by the "server" with the owner's consent.
    const device = generateKey();
    const deviceKey = toHex(publicKeyFromAddress(device.address));
    const hardwareId = hardwareIdOf(authority.address, deviceKeyHashOf(deviceKey));
    await send(
      authority,
      printingTxBuilders.hwid({ hardwareId, deviceKeyHash: deviceKeyHashOf(deviceKey) }),
    );
    await send(
      server,
      printingTxBuilders.registerPrinter({
        printerId,
        hardwareId,
        owner: owner.address,
        clientId: 'workshop-mk3',
        certFingerprint: sha256Hex('a client certificate'),
        profile,
        ownerProof: ownerProofOf({
          chainId,
          hardwareId,
          server: server.address,
          profile,
          ownerSecretKey: owner.secretKey,
        }),
        deviceKey,
        deviceProof: toHex(
          sign(
            printerDeviceMessage(
              chainId,
              hardwareId,
              server.address,
              owner.address,
              profileHashOf(profile),
            ),
            fromHex(device.secretKey),
          ),
        ),
      }),
    );
    designId = await listDesign(title, { x: 80_000, y: 80_000, z: 12_500 });
    await listDesign(tooLargeTitle, { x: 1_000_000, y: 60_000, z: 40_000 });
  });

  after(() => world?.close());

  it('buys a print in the store and follows it to the end', async () => {
    const context = await world.browser.newContext({ viewport: desktop });
    const page = await openPage(context, world.url, '/wallet');
    // The owner's key, imported into this browser's wallet.
    await page.getByLabel('Import an existing secret key instead of creating one').check();
    await page.getByLabel('Secret key (64 hex digits)').fill(owner.secretKey);
    await page.getByLabel('Passphrase', { exact: true }).fill(walletPassphrase);
    await page.getByLabel('Passphrase again').fill(walletPassphrase);
    await page.getByRole('button', { name: 'Import key' }).click();
    await page.getByTestId('address').filter({ hasText: owner.address }).waitFor();

    // In-page navigation: the wallet stays unlocked (a reload would lock it).
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Printing' })
      .click();
    const tooLarge = page.locator('[data-design]').filter({ hasText: tooLargeTitle });
    await tooLarge.getByTestId('no-printer').filter({ hasText: 'too small' }).waitFor();
    const card = page.locator(`[data-design="${designId}"]`);
    await card.getByTestId('design-price').filter({ hasText: '12.50 USD' }).waitFor();
    await card.getByTestId('prints-left').filter({ hasText: '10 of 10 left' }).waitFor();
    await card.getByText('80 × 80 × 12.5 mm').waitFor();
    await card.getByLabel('Print on').selectOption(printerId);
    await screenshot(page, 'printing-buy-desktop');
    await card.getByRole('button', { name: 'Buy a print for 12.50 USD' }).click();
    const toSign = await toSignOf(page);
    assert.deepEqual(
      { type: toSign.type, sender: toSign.sender, payload: toSign.payload },
      {
        type: 'print.buy',
        sender: owner.address,
        payload: { designId, printerId, price: { asset: 'USD', amount: '1250' } },
      },
    );
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await card.getByTestId('bought').waitFor();
    const { tokens } = await client.printing.tokensOf(owner.address);
    assert.equal(tokens.length, 1);
    tokenId = tokens[0]!.tokenId;
    assert.equal(tokens[0]!.status, 'issued');
    assert.equal(
      (await client.getAccount(owner.address)).balances.find((b) => b.asset === 'USD')?.balance,
      String(10_000 - 1_250),
      'the price left the wallet for the escrow',
    );

    await card.getByRole('link', { name: 'Follow the print' }).click();
    await page.getByTestId('design-title').filter({ hasText: title }).waitFor();
    await page.getByTestId('token-state').filter({ hasText: 'Ready to print until' }).waitFor();
    await page.getByText(`coffer print-agent print ${tokenId}`).waitFor();

    // The print server starts the print and reports its progress: the page follows by polling.
    await send(server, printingTxBuilders.start(tokenId, sha256Hex('watermark and salt')));
    await send(server, printingTxBuilders.progress(tokenId, 40, 45));
    await page.getByTestId('token-state').filter({ hasText: 'Printing: 40 %' }).waitFor();
    await page.getByTestId('percent').filter({ hasText: '40 %' }).waitFor();
    assert.equal(await page.locator('progress').getAttribute('value'), '40');
    await screenshot(page, 'printing-progress-desktop');
    await send(server, printingTxBuilders.finish(tokenId));
    await page.getByTestId('token-state').filter({ hasText: 'Printed' }).waitFor();
    await page
      .getByTestId('paid')
      .filter({ hasText: '11.25 USD to the designer, 1.25 USD to the print server' })
      .waitFor();
    assert.deepEqual(problemsOf(page), []);

    // A second print, bought from Node; then the owner revokes the printer in the page, and the
    // token that can no longer print is cancelled for a refund.
    secondToken = await send(
      owner,
      printingTxBuilders.buy(designId, printerId, { asset: 'USD', amount: '1250' }),
    );
    await page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Printing' })
      .click();
    await page.getByRole('link', { name: 'Your printers and prints' }).click();
    const printer = page.locator(`[data-printer="${printerId}"]`);
    await printer.getByTestId('printer-status').filter({ hasText: 'active' }).waitFor();
    await page.locator(`[data-token="${tokenId}"]`).getByText('Printed').waitFor();
    await screenshot(page, 'printing-revoke-desktop');
    await printer.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await printer.getByTestId('printer-status').filter({ hasText: 'revoked' }).waitFor();
    assert.equal((await client.printing.printer(printerId)).status, 'revoked');

    await page.locator(`[data-token="${secondToken}"]`).getByRole('link').click();
    await page.getByRole('button', { name: 'Cancel for a refund' }).click();
    await page.getByRole('button', { name: 'Sign and send' }).click();
    await page.getByTestId('token-state').filter({ hasText: 'Refunded' }).waitFor();
    assert.equal((await client.printing.token(secondToken)).status, 'refunded');
    assert.equal(
      (await client.getAccount(owner.address)).balances.find((b) => b.asset === 'USD')?.balance,
      String(10_000 - 1_250),
      'the second price came back',
    );
    assert.deepEqual(problemsOf(page), []);
    await context.close();
  });

  it('the pages: no accessibility violation, nothing wider than a phone', async () => {
    await checkConsolePages(world.browser, world.url, [
      ['printing-store', '/printing', `[data-design="${designId}"]`],
      [
        'printing-printers',
        `/printing/printers?owner=${owner.address}`,
        `[data-printer="${printerId}"]`,
      ],
      ['printing-print', `/printing/prints/${tokenId}`, '[data-testid="paid"]'],
    ]);
  });
});
