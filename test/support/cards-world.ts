// The cards console test's world (test/console-cards.test.ts): a node process with a vault key
// file, headless Chromium, and through the API the token service and its participants, two vault
// tokens, a card linked, accepted and put on a device whose keys are made here (as the device
// program would), a batch of card tokens opened with the device's box key and one payment
// authorised with a token's cryptogram; a second device the issuer added to that card, which the
// cardholder has not approved; a second card left pending.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser } from 'playwright-core';

import { addressFromPublicKey, generateKeyPair, toHex } from '../../src/crypto/index.js';
import {
  boxKeySignedFields,
  cardTxs,
  cryptogram,
  newBoxKeyPair,
  openTokenKeys,
  signAuthorisation,
  signCardRequest,
  signMintRequest,
  type TerminalRequest,
} from '../../src/modules/cards/client.js';
import {
  luhnCheckDigit,
  signProvisionRequest,
  tokenServiceTxs,
} from '../../src/modules/tokens/client.js';
import { newVaultKeyDocument } from '../../src/modules/tokens/vault.js';
import {
  CofferError,
  createClient,
  generateKey,
  importKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../../src/sdk/index.js';
import { launchChromium } from './chromium.js';
import { childEnv, cliPath } from './cli.js';
import { shotsDir } from './console.js';
import { NodeProcess, assertBuilt } from './node-process.js';

const issuerBin = '456789';
const tokenBin = '990001';
const pan = (body: string) => body + luhnCheckDigit(body);
export const panMain = pan(issuerBin + '001234567');
const panPending = pan(issuerBin + '007654321');
export const face = {
  issuerName: 'Harbour Bank',
  product: 'Debit',
  art: 'harbour',
  colour: '#1f4e79',
};
export const cardMain = 'card-main';
export const cardPending = 'card-pending';
const thirtyDaysMs = 30 * 24 * 3_600_000;

export interface CardsWorld {
  url: string;
  client: CofferClient;
  browser: Browser;
  /** The cardholder: the account of both cards. */
  holder: SigningKey;
  /** The issuer of both cards. */
  issuer: SigningKey;
  /** The device's id (the address of its ed25519 key). */
  device: string;
  /** A second device on the main card, added by the issuer and still pending. */
  pendingDevice: { device: string; boxKey: string };
  /** The hold of the first payment. */
  firstHold: string;
  /** Pays `amount` (minor units of USD) at m-1 with the next token; answers the hold id. */
  pay(amount: string): Promise<string>;
  /** The API's unused tokens of the main card on the device, not expired at the latest block. */
  paymentsLeftByApi(): Promise<number>;
  close(): Promise<void>;
}

export async function startCardsWorld(): Promise<CardsWorld> {
  assertBuilt(cliPath);
  assert.ok(fs.existsSync('dist/web/index.html'), 'dist/web is missing: npm run build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-console-cards-'));
  const dataDir = path.join(workDir, 'node');
  const vaultFile = path.join(workDir, 'vault.json');
  fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
  const node = NodeProcess.spawn({
    cliPath,
    dataDir,
    blockIntervalMs: 50,
    logLevel: 'warn',
    env: { ...childEnv, COFFER_VAULT_KEY_FILE: vaultFile },
    startTimeoutMs: 15_000,
  });
  const killOnExit = () => node.killNow();
  process.on('exit', killOnExit);
  const { url } = await node.listening();
  const client = createClient(url);
  const { chainId } = await client.health();
  const secretOf = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(dataDir, file), 'utf8')) as { secretKey: string })
      .secretKey;
  const operator = importKey(secretOf('producer-key.json'));
  const dev = importKey(secretOf('dev-account.json'));
  const browser = await launchChromium();
  fs.mkdirSync(shotsDir, { recursive: true });
  const [issuer, requestor, acquirer, holder] = [1, 2, 3, 4].map(() => generateKey()) as [
    SigningKey,
    SigningKey,
    SigningKey,
    SigningKey,
  ];
  // The device: an ed25519 key (its address is the device id) and an X25519 box key.
  const deviceKeys = generateKeyPair();
  const device = addressFromPublicKey(deviceKeys.publicKey);
  const box = newBoxKeyPair();

  /** Sends a tx and checks it committed; the operator's key is also the node's (nonces retried). */
  async function ok(key: SigningKey, tx: { type: string; payload: object }): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const payload = tx.payload as Record<string, unknown>;
        const result = await client.send(key, { type: tx.type, payload });
        assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
        return;
      } catch (error) {
        if (error instanceof CofferError && error.code.startsWith('nonce') && attempt < 5) continue;
        throw error;
      }
    }
  }

  /** A vault token for `cardPan`, issued by `issuer`, usable contactless at merchant m-1. */
  async function vaultToken(requestId: string, cardPan: string): Promise<string> {
    const result = await client.tokens.provision(
      signProvisionRequest(requestor, chainId, {
        requestId,
        pan: cardPan,
        expiry: '2030-11',
        domain: { channels: ['contactless'], merchantIds: ['m-1'] },
        assuranceLevel: 'high',
      }),
    );
    return result.token!.token;
  }

  // The token service and its participants; two vault tokens of the issuer's BIN.
  await ok(operator, tokenServiceTxs.configure([tokenBin]));
  for (const [key, role] of [
    [issuer, 'issuer'],
    [requestor, 'requestor'],
    [acquirer, 'acquirer'],
  ] as const) {
    await ok(
      operator,
      tokenServiceTxs.registerParticipant({
        address: key.address,
        name: role,
        roles: [role],
        ...(role === 'issuer' ? { bins: [issuerBin] } : {}),
        ...(role === 'acquirer' ? { merchantIds: ['m-1'] } : {}),
      }),
    );
  }
  const mainToken = await vaultToken('req-main', panMain);
  const pendingToken = await vaultToken('req-pending', panPending);
  // The cardholder holds 500.00 USD; both cards pay from that account.
  await ok(dev, txs.transfer({ to: holder.address, asset: 'USD', amount: '50000' }));
  const terms = { account: holder.address, asset: 'USD', face, tokensMax: 10 };
  await ok(
    issuer,
    cardTxs.link({ card: cardMain, token: mainToken, ...terms, tokenLifeMs: thirtyDaysMs }),
  );
  await ok(
    issuer,
    cardTxs.link({ card: cardPending, token: pendingToken, ...terms, tokenLifeMs: 3_600_000 }),
  );
  await ok(holder, cardTxs.accept(cardMain));
  /** What `coffer card-device info` prints: the device id and its box key, signed by the device. */
  const deviceInfo = (
    keys: { publicKey: Uint8Array; secretKey: Uint8Array },
    boxPublic: Uint8Array,
  ) => {
    const id = addressFromPublicKey(keys.publicKey);
    const boxKey = toHex(boxPublic);
    const boxKeySignature = signCardRequest(
      'deviceBoxKey',
      chainId,
      boxKeySignedFields({ device: id, boxKey }),
      keys.secretKey,
    );
    return { device: id, boxKey, boxKeySignature };
  };
  await ok(issuer, cardTxs.addDevice({ card: cardMain, ...deviceInfo(deviceKeys, box.publicKey) }));
  await ok(holder, cardTxs.approveDevice(cardMain, device));
  // A second device, its keys made as the first's: added, not approved (the browser test does).
  const second = deviceInfo(generateKeyPair(), newBoxKeyPair().publicKey);
  await ok(issuer, cardTxs.addDevice({ card: cardMain, ...second }));

  // The device asks for five tokens and opens their keys.
  const batch = await client.cards.mint(
    cardMain,
    device,
    signMintRequest(deviceKeys.secretKey, chainId, {
      card: cardMain,
      device,
      n: 1,
      count: 5,
      by: 'device',
    }),
  );
  const tokenKeys = openTokenKeys(box.secretKey, chainId, cardMain, device, batch);
  assert.equal(tokenKeys.length, 5);
  let counter = 0;

  async function pay(amount: string): Promise<string> {
    const { token, key } = tokenKeys[counter]!;
    counter += 1;
    const terminal: TerminalRequest = {
      amount,
      currency: 'USD',
      merchantId: 'm-1',
      unpredictableNumber: toHex(crypto.getRandomValues(new Uint8Array(4))),
    };
    const paid = { token, counter, ...terminal };
    const answer = { ...paid, cryptogram: cryptogram(key, chainId, paid) };
    const result = await client.cards.authorise(
      signAuthorisation(acquirer, chainId, terminal, answer),
    );
    return result.holdId;
  }

  // One payment of 12.50 USD.
  const firstHold = await pay('1250');
  return {
    url,
    client,
    browser,
    holder,
    issuer,
    device,
    pendingDevice: { device: second.device, boxKey: second.boxKey },
    firstHold,
    pay,
    async paymentsLeftByApi() {
      const [link, { blockTime }] = await Promise.all([
        client.cards.device(cardMain, device),
        client.health(),
      ]);
      return link.outstanding.filter((t) => t.expiresAt >= blockTime).length;
    },
    async close() {
      await browser.close();
      await node.kill();
      process.off('exit', killOnExit);
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}
