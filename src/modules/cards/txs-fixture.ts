import { toHex } from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { tokensTxs } from '../tokens/txs.js';
import {
  TxWorld,
  acquirer,
  chainId,
  issuer,
  key,
  provisioned,
  serviceIn,
  tsp,
  type TestKey,
} from '../tokens/txs-fixture.js';
import {
  authoriseSignedFields,
  boxKeySignedFields,
  cardMasterKey,
  cardTokenKeyHash,
  cryptogram,
  deriveCardTokenKey,
  mintSignedFields,
  newBoxKeyPair,
  signCardRequest,
  type DeviceAnswer,
  type TerminalRequest,
} from './schema.js';
import { readCardDevice } from './state.js';
import { cardsTxs } from './txs.js';

export { acquirer, chainId, issuer, key, tsp, type TestKey };

/*
 * The cards module's handlers in process, over the token vault's fixture (its service, issuer,
 * requestor and acquirer `m-1`): a world with a USD asset, a cardholder holding funds, a card
 * linked and accepted, and devices whose keys the test holds, as the device program would.
 */

export const holder = key(20);
export const otherAcquirer = key(21);
export const asset = 'USD';
export const funds = 1_000_000n;
export const master = cardMasterKey(new Uint8Array(32).fill(0x11));

export interface TestDevice extends TestKey {
  boxSecret: Uint8Array;
  boxKey: string;
}

export function device(seed: number): TestDevice {
  const signing = key(seed);
  const box = newBoxKeyPair();
  return { ...signing, boxSecret: box.secretKey, boxKey: toHex(box.publicKey) };
}

export function cardsWorld(): TxWorld {
  const w = new TxWorld([tsp], { ...tokensTxs, ...cardsTxs });
  serviceIn(w);
  const ledger = new Ledger(w.state);
  if (ledger.createAsset(tsp.address, { symbol: asset, decimals: 2 })) throw new Error('asset');
  if (ledger.mint(tsp.address, asset, holder.address, funds)) throw new Error('mint');
  const other = w.run(tsp, 'tokens.registerParticipant', {
    address: otherAcquirer.address,
    name: 'Acq2',
    roles: ['acquirer'],
    merchantIds: ['m-2'],
  });
  if (other !== 'ok') throw new Error(other);
  return w;
}

export function expectOk(result: string, what: string): void {
  if (result !== 'ok') throw new Error(`${what}: ${result}`);
}

export const face = { issuerName: 'Bank', product: 'Debit', art: 'blue', colour: '#1f4e79' };

/** Links and accepts a card on a fresh vault token; returns the card id and the vault token. */
export function linkedCard(
  w: TxWorld,
  card = 'card-1',
  extra: { tokensMax?: number; tokenLifeMs?: number } = {},
): { card: string; token: string } {
  const token = provisioned(w);
  expectOk(
    w.run(issuer, 'card.link', {
      card,
      token,
      account: holder.address,
      asset,
      face,
      tokensMax: extra.tokensMax ?? 10,
      tokenLifeMs: extra.tokenLifeMs ?? 3_600_000,
    }),
    'card.link',
  );
  expectOk(w.run(holder, 'card.accept', { card }), 'card.accept');
  return { card, token };
}

export function addDevicePayload(card: string, d: TestDevice, chain = chainId) {
  return {
    card,
    device: d.address,
    boxKey: d.boxKey,
    boxKeySignature: signCardRequest(
      'deviceBoxKey',
      chain,
      boxKeySignedFields({ device: d.address, boxKey: d.boxKey }),
      d.secretKey,
    ),
  };
}

/** Adds the card to the device (the issuer) and approves it (the cardholder). */
export function approvedDevice(w: TxWorld, card: string, d: TestDevice): void {
  expectOk(w.run(issuer, 'card.addDevice', addDevicePayload(card, d)), 'card.addDevice');
  expectOk(w.run(holder, 'card.approveDevice', { card, device: d.address }), 'card.approveDevice');
}

let drawn = 0;
/** Distinct card token ids (deterministic, so failures replay). */
export function tokenId(): string {
  drawn += 1;
  return drawn.toString(16).padStart(32, '0');
}

/** A `card.mintTokens` payload signed by the device (or the issuer), for the next request. */
export function mintPayload(
  w: TxWorld,
  card: string,
  d: TestDevice,
  count: number,
  by: 'issuer' | 'device' = 'device',
  n = readCardDevice(w.state, card, d.address)?.nextRequest ?? 1,
) {
  const signer = by === 'device' ? d : issuer;
  const request = { card, device: d.address, n, count, by };
  return {
    ...request,
    signature: signCardRequest('mint', chainId, mintSignedFields(request), signer.secretKey),
    tokens: Array.from({ length: count }, () => {
      const token = tokenId();
      return { token, keyHash: cardTokenKeyHash(deriveCardTokenKey(master, chainId, token)) };
    }),
  };
}

/** Mints `count` tokens for the card on the device; returns their ids. */
export function minted(w: TxWorld, card: string, d: TestDevice, count: number): string[] {
  const payload = mintPayload(w, card, d, count);
  expectOk(w.run(tsp, 'card.mintTokens', payload), 'card.mintTokens');
  return payload.tokens.map((entry) => entry.token);
}

export function terminal(amount = '1250', merchantId = 'm-1'): TerminalRequest {
  return { amount, currency: asset, merchantId, unpredictableNumber: '0a1b2c3d' };
}

/** The device's answer for `token` (its key derived as every node derives it). */
export function answer(token: string, request: TerminalRequest, counter = 1): DeviceAnswer {
  const paid = { token, counter, ...request };
  return {
    ...paid,
    cryptogram: cryptogram(deriveCardTokenKey(master, chainId, token), chainId, paid),
  };
}

/** A `card.authorise` payload signed by the acquirer, with the token's key revealed. */
export function authorisePayload(
  t: TerminalRequest,
  a: DeviceAnswer,
  signer: TestKey = acquirer,
  holdBlocks = 100,
) {
  const body = { acquirer: signer.address, terminal: t, answer: a, holdBlocks };
  return {
    ...body,
    signature: signCardRequest('authorise', chainId, authoriseSignedFields(body), signer.secretKey),
    key: toHex(deriveCardTokenKey(master, chainId, a.token)),
  };
}
