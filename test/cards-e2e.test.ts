// Payment cards end to end, as issue 18 asks: a node process with a vault key file and the device
// program (`coffer card-device`, the built CLI, its element a file sealed under a PIN). The
// consortium sets up the token service; an issuer links two cards on vault tokens it issued, the
// cardholder accepts them and approves the device; the device replenishes below its threshold,
// selects each card and pays three merchants at two acquirers, who authorise and capture; a copy
// of the element file spending a token already spent is refused by the ledger; a suspended
// card's tokens are refused; webhooks carry the card events; ten wrong PINs wipe the element.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cardTxs, signAuthorisation, type DeviceAnswer } from '../src/modules/cards/client.js';
import {
  lifecycleTx,
  luhnCheckDigit,
  signProvisionRequest,
  tokenServiceTxs,
} from '../src/modules/tokens/client.js';
import { newVaultKeyDocument } from '../src/modules/tokens/vault.js';
import {
  CofferError,
  createClient,
  generateKey,
  importKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import { childEnv, cliPath, describeRun, runCli } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';
import { WebhookReceiver, verifyWebhook } from './support/webhook-receiver.js';

const suiteTimeoutMs = 180_000;
const issuerBin = '456789';
const tokenBin = '990001';
const withCheck = (body: string) => body + luhnCheckDigit(body);
const pins = { right: '482916', wrong: '000000' };

describe(
  'payment cards through a node process and the device program',
  { timeout: suiteTimeoutMs },
  () => {
    let node: NodeProcess | undefined;
    let receiver: WebhookReceiver;
    let workDir = '';
    let dataDir = '';
    let url = '';
    let chainId = '';
    let client: CofferClient;
    const killOnExit = () => node?.killNow();

    let operator: SigningKey;
    const issuer = generateKey();
    const requestor = generateKey();
    const acquirerA = generateKey(); // merchants m-1 and m-2
    const acquirerB = generateKey(); // merchant m-3
    const holder = generateKey();
    let element = '';
    let pinFile = '';
    let device = '';
    const vaultTokens: string[] = [];

    async function send(key: SigningKey, tx: { type: string; payload: object }): Promise<string> {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return (
            await client.send(key, {
              type: tx.type,
              payload: tx.payload as Record<string, unknown>,
            })
          ).status;
        } catch (error) {
          if (!(error instanceof CofferError)) throw error;
          if (error.code.startsWith('nonce') && attempt < 5) continue;
          return error.txStatus ?? error.code;
        }
      }
    }

    /** The device talks to the node only to start, to add a card and to replenish. */
    const nodeOf = (args: string[]) =>
      ['init', 'add-card', 'replenish'].includes(args[0]!) ? ['--node', url] : [];

    /** Runs `coffer card-device ...` on the element; answers stdout, or fails the test. */
    async function deviceCli(args: string[], file = element): Promise<string> {
      const all = [
        'card-device',
        ...args,
        '--element',
        file,
        '--pin-file',
        pinFile,
        ...nodeOf(args),
      ];
      const result = await runCli(all, { env: childEnv, timeoutMs: 30_000 });
      assert.equal(result.code, 0, describeRun(all, result));
      return result.stdout;
    }

    /** Runs a device command that must fail; answers its one error line. */
    async function deviceFails(args: string[], pinPath: string, file = element): Promise<string> {
      const all = [
        'card-device',
        ...args,
        '--element',
        file,
        '--pin-file',
        pinPath,
        ...nodeOf(args),
      ];
      const result = await runCli(all, { env: childEnv, timeoutMs: 30_000 });
      assert.notEqual(result.code, 0, describeRun(all, result));
      return result.stderr;
    }

    const request = (amount: string, merchantId: string, un: string) => ({
      amount,
      currency: 'USD',
      merchantId,
      unpredictableNumber: un,
    });

    /** The device pays: select the card, answer the terminal's request. */
    async function pay(card: string, terminal: ReturnType<typeof request>, file = element) {
      await deviceCli(['select', card], file);
      const out = await deviceCli(['pay', '--request', JSON.stringify(terminal)], file);
      return JSON.parse(out) as DeviceAnswer;
    }

    /** An account's spendable USD. */
    async function usd(address: string): Promise<string> {
      const account = await client.getAccount(address);
      return account.balances.find((b) => b.asset === 'USD')?.balance ?? '0';
    }

    async function refusal(call: Promise<unknown>): Promise<[number, string]> {
      try {
        await call;
      } catch (error) {
        if (error instanceof CofferError) return [error.status ?? 0, error.code];
        throw error;
      }
      throw new Error('expected a refusal');
    }

    before(async () => {
      assertBuilt(cliPath);
      workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cards-e2e-'));
      dataDir = path.join(workDir, 'node');
      const vaultFile = path.join(workDir, 'vault.json');
      fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
      element = path.join(workDir, 'phone.element');
      pinFile = path.join(workDir, 'pin');
      fs.writeFileSync(pinFile, `${pins.right}\n`, { mode: 0o600 });
      receiver = await WebhookReceiver.start();
      process.on('exit', killOnExit);
      node = NodeProcess.spawn({
        cliPath,
        dataDir,
        blockIntervalMs: 20,
        logLevel: 'warn',
        env: { ...childEnv, COFFER_VAULT_KEY_FILE: vaultFile },
        startTimeoutMs: 15_000,
      });
      ({ url } = await node.listening());
      client = createClient(url);
      chainId = (await client.health()).chainId;
      const stored = JSON.parse(
        fs.readFileSync(path.join(dataDir, 'producer-key.json'), 'utf8'),
      ) as {
        secretKey: string;
      };
      operator = importKey(stored.secretKey);

      // The consortium: token BINs and participants; an asset and the cardholder's funds.
      assert.equal(await send(operator, tokenServiceTxs.configure([tokenBin])), 'ok');
      const register = (address: string, name: string, extra: object) =>
        send(operator, tokenServiceTxs.registerParticipant({ address, name, ...extra } as never));
      assert.equal(
        await register(issuer.address, 'Bank', { roles: ['issuer'], bins: [issuerBin] }),
        'ok',
      );
      assert.equal(await register(requestor.address, 'Wallet Co', { roles: ['requestor'] }), 'ok');
      assert.equal(
        await register(acquirerA.address, 'Acq A', {
          roles: ['acquirer'],
          merchantIds: ['m-1', 'm-2'],
        }),
        'ok',
      );
      assert.equal(
        await register(acquirerB.address, 'Acq B', { roles: ['acquirer'], merchantIds: ['m-3'] }),
        'ok',
      );
      // The dev chain's genesis account holds USD: it funds the cardholder.
      const dev = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
        secretKey: string;
      };
      assert.equal(
        await send(
          importKey(dev.secretKey),
          txs.transfer({ to: holder.address, asset: 'USD', amount: '100000' }),
        ),
        'ok',
      );
      // Two vault tokens for two of the issuer's PANs, usable contactless anywhere.
      for (const [i, pan] of [
        withCheck(issuerBin + '001234567'),
        withCheck(issuerBin + '007654321'),
      ].entries()) {
        const body = signProvisionRequest(requestor, chainId, {
          requestId: `card-${i}`,
          pan,
          expiry: '2030-11',
          domain: { channels: ['contactless'], merchantIds: [] },
          assuranceLevel: 'high',
        });
        vaultTokens.push((await client.tokens.provision(body)).token!.token);
      }
    });

    after(async () => {
      await node?.kill();
      await receiver?.down();
      process.off('exit', killOnExit);
      fs.rmSync(workDir, { recursive: true, force: true });
    });

    it('links two cards, which the cardholder accepts and whose device it approves', async () => {
      const tokenFile = path.join(dataDir, 'admin-token');
      const subscribe = [
        'webhooks',
        'add',
        `${receiver.url}/cards`,
        '--events',
        'card.*',
        '--admin-token-file',
        tokenFile,
        '--node',
        url,
        '--json',
      ];
      const added = await runCli(subscribe, { env: childEnv, timeoutMs: 30_000 });
      assert.equal(added.code, 0, describeRun(subscribe, added));
      (globalThis as { webhookSecret?: string }).webhookSecret = (
        JSON.parse(added.stdout) as { secret: string }
      ).secret;

      for (const [i, token] of vaultTokens.entries()) {
        const link = cardTxs.link({
          card: `card-${i + 1}`,
          token,
          account: holder.address,
          asset: 'USD',
          face: {
            issuerName: 'Bank',
            product: i === 0 ? 'Debit' : 'Travel',
            art: 'wave',
            colour: '#1f4e79',
          },
          tokensMax: 6,
          tokenLifeMs: 3_600_000,
        });
        assert.equal(await send(issuer, link), 'ok');
        assert.equal(await send(holder, cardTxs.accept(`card-${i + 1}`)), 'ok');
      }
      await deviceCli(['init']);
      assert.equal(fs.statSync(element).mode & 0o777, 0o600);
      const info = JSON.parse(await deviceCli(['info', '--json'])) as {
        device: string;
        boxKey: string;
        boxKeySignature: string;
      };
      device = info.device;
      for (const card of ['card-1', 'card-2']) {
        const add = cardTxs.addDevice({
          card,
          device,
          boxKey: info.boxKey,
          boxKeySignature: info.boxKeySignature,
        });
        assert.equal(await send(issuer, add), 'ok');
        // Pending: no batch before the cardholder approves the device.
        assert.equal((await client.cards.device(card, device)).status, 'pending');
        assert.equal(await send(holder, cardTxs.approveDevice(card, device)), 'ok');
        await deviceCli(['add-card', card]);
      }
    });

    it('replenishes below the threshold, pays three merchants at two acquirers, captures', async () => {
      await deviceCli(['replenish', '--card', 'card-1', '--threshold', '3']);
      await deviceCli(['replenish', '--card', 'card-2', '--threshold', '3']);
      const before1 = (await client.cards.device('card-1', device)).outstanding.length;
      assert.ok(before1 >= 3, `card-1 holds ${before1} tokens`);
      const display = await deviceCli(['select', 'card-1']);
      assert.match(display, /Bank/);
      assert.match(display, /Debit/);

      const sales: [string, ReturnType<typeof request>, SigningKey][] = [
        ['card-1', request('1250', 'm-1', '0a1b2c3d'), acquirerA],
        ['card-2', request('4000', 'm-2', '1a2b3c4d'), acquirerA],
        ['card-2', request('999', 'm-3', '2a3b4c5d'), acquirerB],
      ];
      const holds: string[] = [];
      for (const [card, terminal, acquirer] of sales) {
        const answer = await pay(card, terminal);
        const approved = await client.cards.authorise(
          signAuthorisation(acquirer, chainId, terminal, answer),
        );
        assert.equal(approved.card, card);
        assert.equal(approved.amount, terminal.amount);
        holds.push(approved.holdId);
      }
      assert.equal(await usd(holder.address), String(100000 - 1250 - 4000 - 999));
      // The acquirers capture: all of the first, part of the second (the rest returns), void the third.
      assert.equal(await send(acquirerA, txs.postHold({ holdId: holds[0]! })), 'ok');
      assert.equal(
        await send(acquirerA, txs.postHold({ holdId: holds[1]!, amount: '3500' })),
        'ok',
      );
      assert.equal(await send(acquirerB, txs.voidHold({ holdId: holds[2]! })), 'ok');
      assert.equal(await usd(acquirerA.address), '4750');
      assert.equal(await usd(holder.address), String(100000 - 4750));

      // card-2 paid twice: below the threshold of 3, replenish asks for more.
      const left = (await client.cards.device('card-2', device)).outstanding.length;
      await deviceCli(['replenish', '--card', 'card-2', '--threshold', '3']);
      const after = (await client.cards.device('card-2', device)).outstanding.length;
      assert.ok(left < 3 && after >= 3, `card-2: ${left} then ${after} tokens`);
    });

    it("refuses a copy of the element spending a token spent elsewhere, and a suspended card's tokens", async () => {
      await deviceCli(['select', 'card-1']);
      await deviceCli(['activate']);
      const copy = path.join(workDir, 'copy.element');
      fs.copyFileSync(element, copy);
      fs.chmodSync(copy, 0o600);
      const original = await pay('card-1', request('500', 'm-1', '3a4b5c6d'));
      await client.cards.authorise(
        signAuthorisation(acquirerA, chainId, request('500', 'm-1', '3a4b5c6d'), original),
      );
      // The copy still holds that token as unused and pays with it at another merchant.
      const copied = JSON.parse(
        await deviceCli(
          ['pay', '--request', JSON.stringify(request('700', 'm-3', '4a5b6c7d'))],
          copy,
        ),
      ) as DeviceAnswer;
      assert.equal(copied.token, original.token, 'the copy spends the same token');
      const terminal = request('700', 'm-3', '4a5b6c7d');
      assert.deepEqual(
        await refusal(
          client.cards.authorise(signAuthorisation(acquirerB, chainId, terminal, copied)),
        ),
        [409, 'card_token_consumed'],
      );

      // The issuer suspends card-2's vault token: its tokens are refused until it resumes.
      assert.equal(
        await send(
          issuer,
          lifecycleTx('token.suspend', {
            token: vaultTokens[1]!,
            seq: 1,
            initiator: 'issuer',
            reason: 'fraud_suspected',
          }),
        ),
        'ok',
      );
      const held = await pay('card-2', request('300', 'm-2', '5a6b7c8d'));
      assert.deepEqual(
        await refusal(
          client.cards.authorise(
            signAuthorisation(acquirerA, chainId, request('300', 'm-2', '5a6b7c8d'), held),
          ),
        ),
        [422, 'card_suspended'],
      );
      assert.equal(
        (await client.cards.token(held.token)).status,
        'unused',
        'refused before any tx',
      );
    });

    it('delivers the card events to a webhook subscriber, signed', async () => {
      const secret = (globalThis as { webhookSecret?: string }).webhookSecret!;
      for (let i = 0; i < 200; i++) {
        const bodies = receiver
          .delivered('/cards')
          .map((got) => JSON.stringify(verifyWebhook(secret, got)));
        if (
          bodies.some((b) => b.includes('card.authorised')) &&
          bodies.some((b) => b.includes('card.tokensMinted'))
        )
          return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail('no card.authorised and card.tokensMinted deliveries');
    });

    it('wipes the element after ten wrong PINs, for good', async () => {
      const wrong = path.join(workDir, 'wrong-pin');
      fs.writeFileSync(wrong, `${pins.wrong}\n`, { mode: 0o600 });
      for (let i = 1; i <= 9; i++) {
        assert.match(await deviceFails(['status'], wrong), /wrong_pin/);
      }
      assert.match(await deviceFails(['status'], wrong), /element_wiped|wrong_pin/);
      assert.match(await deviceFails(['status'], pinFile), /element_wiped/);
      const header = JSON.parse(fs.readFileSync(element, 'utf8')) as Record<string, unknown>;
      assert.equal(header.wiped, true);
      assert.equal('ciphertext' in header, false);
    });
  },
);
