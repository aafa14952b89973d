import {
  runTx,
  testKey as key,
  txHashOf,
  type TestKey,
  type TxEvent,
} from '../../../test/support/tx-runner.js';
import { canonicalize, sign, signingMessage, toHex } from '../../crypto/index.js';
import type { TxDefinition } from '../../chain/index.js';
import { StateView } from '../../state/index.js';
import { producerKeys } from '../producers/index.js';
import {
  detokeniseSignedFields,
  luhnCheckDigit,
  panCommitment,
  panUpdateSignedFields,
  provisionSignedFields,
  tokenRequestHash,
  type TokenDomain,
  type TokenRequestKind,
} from './schema.js';
import { tokensTxs } from './txs.js';
import { panFingerprint, parseVaultKeys, sealPan } from './vault.js';

/*
 * A small runner for the unit tests of the module's tx handlers (txs-*.test.ts): a tx is parsed
 * by its type's parser, then executed against one state view; a rejected tx's writes are reverted
 * and its events dropped, as the chain does. The token service provider is a validator operator
 * written into the producers' active index. Test support only; nothing on chain imports it.
 */

export { key, type TestKey, type TxEvent };

export const chainId = 'coffer-tokens-unit';
export const startTime = 1_700_000_000_000;

export const tsp = key(1);
export const issuer = key(2);
export const requestor = key(3);
export const acquirer = key(4);
export const wallet = key(5);
export const outsider = key(6);
export const otherIssuer = key(7);

export const issuerBin = '411111';
export const otherIssuerBin = '520000';
export const tokenBin = '990001';
/** Test PANs (Luhn-valid, of the test issuers' BINs). */
export const pan = withCheckDigit('411111000012345');
export const otherPan = withCheckDigit('411111000067890');

export function withCheckDigit(body: string): string {
  return body + luhnCheckDigit(body);
}

export const vaultKeys = parseVaultKeys({
  fingerprintKey: '11'.repeat(32),
  keks: [{ id: 'k1', key: '22'.repeat(32) }],
});

export class TxWorld {
  readonly state = new StateView({ get: () => undefined, range: () => [] });
  time = startTime;
  height = 1;
  private count = 0;
  /** The events of the last tx that succeeded (empty after a rejection). */
  events: TxEvent[] = [];
  field: string | undefined;

  constructor(
    operators: TestKey[] = [tsp],
    /** The tx types it runs (another module's tests add theirs to the vault's). */
    private readonly txs: Record<string, TxDefinition<never>> = tokensTxs,
  ) {
    this.state.set(
      producerKeys.active,
      canonicalize(operators.map((o, i) => ({ producer: `p${i}`, operator: o.address }))),
    );
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>) {
    this.count += 1;
    const result = runTx(
      this.txs,
      {
        chainId,
        height: this.height,
        time: this.time,
        txHash: txHashOf(this.count),
        sender: typeof sender === 'string' ? sender : sender.address,
        state: this.state,
      },
      type,
      payload,
    );
    this.events = result.events;
    this.field = result.field;
    if (result.status !== 'ok') return result.status;
    this.height += 1;
    return 'ok';
  }
}

/** Token BINs, an issuer, a requestor, an acquirer and a wallet, registered by the TSP. */
export function serviceIn(w: TxWorld): void {
  const steps: [string, Record<string, unknown>][] = [
    ['tokens.configure', { tokenBins: [tokenBin] }],
    [
      'tokens.registerParticipant',
      { address: issuer.address, name: 'Bank', roles: ['issuer'], bins: [issuerBin] },
    ],
    [
      'tokens.registerParticipant',
      { address: otherIssuer.address, name: 'Other', roles: ['issuer'], bins: [otherIssuerBin] },
    ],
    [
      'tokens.registerParticipant',
      { address: requestor.address, name: 'Pay', roles: ['requestor'] },
    ],
    [
      'tokens.registerParticipant',
      { address: acquirer.address, name: 'Acq', roles: ['acquirer'], merchantIds: ['m-1'] },
    ],
    ['tokens.registerParticipant', { address: wallet.address, name: 'Wal', roles: ['wallet'] }],
  ];
  for (const [type, payload] of steps) {
    const result = w.run(tsp, type, payload);
    if (result !== 'ok') throw new Error(`${type}: ${result}`);
  }
}

/** A signature by `signer` over a request of `kind`. */
export function signRequest(
  signer: TestKey,
  kind: TokenRequestKind,
  fields: Record<string, string | undefined>,
  chain = chainId,
): string {
  return toHex(
    sign(signingMessage('tokenRequest', tokenRequestHash(kind, chain, fields)), signer.secretKey),
  );
}

export const salt = 'ab'.repeat(32);
export const defaultDomain: TokenDomain = {
  channels: ['ecommerce', 'contactless'],
  merchantIds: [],
};

let tokenCount = 0;
/** A fresh token number in the token BIN. */
export function nextToken(): string {
  tokenCount += 1;
  return withCheckDigit(tokenBin + String(tokenCount).padStart(9, '0'));
}

/** A signed `token.provision` payload (the route's output) for `cardPan`. */
export function provisionPayload(
  fields: {
    token?: string;
    cardPan?: string;
    requestId?: string;
    domain?: TokenDomain;
    wallet?: string;
    signer?: TestKey;
    requestorAddress?: string;
  } = {},
): Record<string, unknown> {
  const cardPan = fields.cardPan ?? pan;
  const token = fields.token ?? nextToken();
  const commitment = panCommitment(cardPan, salt);
  const body = {
    requestor: fields.requestorAddress ?? requestor.address,
    requestId: fields.requestId ?? `req-${token}`,
    commitment,
    expiry: '2030-12',
    domain: fields.domain ?? defaultDomain,
    assuranceLevel: 'high',
    ...(fields.wallet === undefined ? {} : { wallet: fields.wallet }),
  };
  return {
    ...body,
    token,
    bin: cardPan.slice(0, 6),
    last4: cardPan.slice(-4),
    fingerprint: panFingerprint(vaultKeys, cardPan),
    vault: sealPan(vaultKeys, chainId, token, cardPan),
    signature: signRequest(fields.signer ?? requestor, 'provision', provisionSignedFields(body)),
  };
}

/** Provisions a token and returns its number. */
export function provisioned(
  w: TxWorld,
  fields: Parameters<typeof provisionPayload>[0] = {},
): string {
  const payload = provisionPayload(fields);
  const result = w.run(tsp, 'token.provision', payload);
  if (result !== 'ok') throw new Error(`token.provision: ${result}`);
  return payload.token as string;
}

/** A signed `token.updatePan` payload by the issuer. */
export function panUpdatePayload(
  token: string,
  seq: number,
  newPan?: string,
  signer: TestKey = issuer,
): Record<string, unknown> {
  const commitment = newPan === undefined ? undefined : panCommitment(newPan, salt);
  const base = { token, seq, reason: 'card_reissued', expiry: '2031-06' };
  return {
    ...base,
    ...(newPan === undefined
      ? {}
      : {
          pan: {
            bin: newPan.slice(0, 6),
            last4: newPan.slice(-4),
            commitment,
            fingerprint: panFingerprint(vaultKeys, newPan),
            vault: sealPan(vaultKeys, chainId, token, newPan),
          },
        }),
    signature: signRequest(signer, 'panUpdate', panUpdateSignedFields({ ...base, commitment })),
  };
}

/** A signed `token.detokenise` payload. */
export function detokenisePayload(
  token: string,
  n: number,
  party: TestKey = acquirer,
  extra: { channel?: string; merchantId?: string; signer?: TestKey } = {},
): Record<string, unknown> {
  const body = {
    token,
    party: party.address,
    n,
    purpose: 'authorization',
    channel: extra.channel ?? 'ecommerce',
    ...(extra.merchantId === undefined ? {} : { merchantId: extra.merchantId }),
  };
  return {
    ...body,
    signature: signRequest(extra.signer ?? party, 'detokenise', detokeniseSignedFields(body)),
  };
}
