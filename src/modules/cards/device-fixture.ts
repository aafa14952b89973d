import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toHex } from '../../crypto/index.js';
import { cardTokenKeyHash, deriveCardTokenKey, randomBytes, sealTokenKeys } from './crypto.js';
import type { CardRecord, MintResult, TerminalRequest } from './schema.js';

/*
 * Test support for device.test.ts and cli-device.test.ts: the issuer's side of a card as the
 * node would answer it (a card record, batches of tokens whose keys are derived from a master key
 * and sealed to the device's box key, exactly as crypto.ts specifies). Nothing but tests imports it.
 */

export const chainId = 'coffer-test';
/** The consortium's card master key of the tests. */
export const masterKey = new Uint8Array(32).fill(7);
export const pin = '918273645';
/** scrypt at 2^10: cheap enough for hundreds of opens per test. */
export const scryptLogN = 10;
export const dayMs = 24 * 3_600_000;
export const startMs = 1_800_000_000_000;

export function temporaryDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cardRecord(card: string, device: string, overrides: Partial<CardRecord> = {}) {
  const record: CardRecord = {
    card,
    issuer: device,
    token: '4000001234567899',
    account: device,
    asset: 'USD',
    face: {
      issuerName: 'First Bank',
      product: 'Everyday Debit',
      art: 'blue-wave',
      colour: '#1a2b3c',
    },
    last4: '7899',
    expiry: '2030-12',
    status: 'active',
    tokensMax: 10,
    tokenLifeMs: 30 * dayMs,
    devices: [device],
    linkedAtHeight: 5,
    ...overrides,
  };
  return record;
}

/** A batch as the node answers it, with each token's key and the ledger's key hash beside it. */
export interface TestBatch {
  result: MintResult;
  keys: Map<string, Uint8Array>;
  keyHashes: Record<string, string>;
}

export function mintBatch(options: {
  card: string;
  device: string;
  boxKey: string;
  n: number;
  expiresAt: number | readonly number[];
  count?: number;
  chain?: string;
}): TestBatch {
  const chain = options.chain ?? chainId;
  const expiries =
    typeof options.expiresAt === 'number'
      ? Array.from({ length: options.count ?? 1 }, () => options.expiresAt as number)
      : options.expiresAt;
  const tokens = expiries.map((expiresAt) => {
    const token = toHex(randomBytes(16));
    return { token, expiresAt, key: deriveCardTokenKey(masterKey, chain, token) };
  });
  const sealed = sealTokenKeys(options.boxKey, chain, options.card, options.device, tokens);
  return {
    result: {
      card: options.card,
      device: options.device,
      n: options.n,
      ephemeralKey: sealed.ephemeralKey,
      tokens: tokens.map(({ token, expiresAt }, i) => ({
        token,
        expiresAt,
        iv: sealed.tokens[i]!.iv,
        sealedKey: sealed.tokens[i]!.sealedKey,
      })),
    },
    keys: new Map(tokens.map(({ token, key }) => [token, key])),
    keyHashes: Object.fromEntries(tokens.map(({ token, key }) => [token, cardTokenKeyHash(key)])),
  };
}

export function terminalRequest(overrides: Partial<TerminalRequest> = {}): TerminalRequest {
  return {
    amount: '1250',
    currency: 'USD',
    merchantId: 'cafe-42',
    unpredictableNumber: '0a1b2c3d',
    ...overrides,
  };
}
