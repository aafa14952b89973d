import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { blockHash, blockHeaderFields, blockSigningMessage, zeroHash } from '../../chain/index.js';
import {
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  encryptHiddenInfo,
  fromHex,
  hiddenInfoCiphertextBytesMax,
  isAccountablePublicKey,
  isAddress,
  signAtHeight,
  toHex,
} from '../../crypto/index.js';
import { escrowAddress, parsePositiveAmount } from '../../ledger/index.js';
import { checkEvidence } from './evidence.js';
import { producersModule } from './index.js';
import { producerEscrowAddress, producerIdOfPublicKey } from './schema.js';

/*
 * The payload schemas against a reference model: the hand-written readers the registry parsed its
 * payloads with before the schemas (copied here as they were). Every payload, valid or not, gets
 * the same answer from both: the same parsed value, or the same rejection code and field.
 */

// ---- the reference: the readers as they were ---------------------------------------------------

type Rejection = { code: string; field?: string };
type Reader = (value: unknown) => unknown;
const rejected = (code: string): Rejection => ({ code });
const isRejected = (v: unknown): v is Rejection =>
  typeof v === 'object' && v !== null && 'code' in v && Object.keys(v).length === 1;

function referenceParser(fields: Record<string, Reader>) {
  return (payload: Record<string, unknown>): { value: Record<string, unknown> } | Rejection => {
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(fields, key)) return { code: 'unknown_field', field: key };
    }
    const value: Record<string, unknown> = {};
    for (const [key, read] of Object.entries(fields)) {
      const result = read(payload[key]);
      if (isRejected(result)) return { ...result, field: key };
      if (result !== undefined) value[key] = result;
    }
    return { value };
  };
}

const hexPattern = /^[0-9a-f]{64}$/;
const wholeFrom = (min: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min;
const reference = {
  publicKey: (v: unknown) =>
    typeof v === 'string' && hexPattern.test(v) && isAccountablePublicKey(fromHex(v, 'publicKey'))
      ? v
      : rejected('invalid_public_key'),
  hiddenInfo: (v: unknown) =>
    typeof v === 'string' &&
    v.length <= 2 * hiddenInfoCiphertextBytesMax &&
    /^([0-9a-f]{2})+$/.test(v)
      ? v
      : rejected('invalid_hidden_info'),
  commitment: (v: unknown) =>
    typeof v === 'string' && hexPattern.test(v) ? v : rejected('invalid_commitment'),
  amount: (v: unknown) => parsePositiveAmount(v) ?? rejected('invalid_amount'),
  nonceRange: (v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return rejected('invalid_nonce_range');
    const { fromHeight, count, root, ...rest } = v as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return rejected('invalid_nonce_range');
    if (!wholeFrom(0)(fromHeight) || !wholeFrom(1)(count)) return rejected('invalid_nonce_range');
    if (typeof root !== 'string' || !hexPattern.test(root)) return rejected('invalid_nonce_range');
    return { fromHeight, count, root };
  },
  producer: (v: unknown) => (isAddress(v) ? v : rejected('invalid_producer')),
  evidenceHalf: (value: unknown) => {
    const bad = rejected('invalid_evidence');
    if (typeof value !== 'object' || value === null) return bad;
    const { header, signature, ...rest } = value as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return bad;
    if (typeof header !== 'object' || header === null) return bad;
    const h = header as Record<string, unknown>;
    if (
      Object.keys(h).length !== blockHeaderFields.length ||
      !blockHeaderFields.every((f) => Object.hasOwn(h, f))
    )
      return bad;
    if (typeof h.chainId !== 'string' || !wholeFrom(0)(h.height)) return bad;
    if (!Number.isSafeInteger(h.time)) return bad;
    if (!wholeFrom(0)(h.txCount)) return bad;
    for (const field of ['prevHash', 'txRoot', 'receiptRoot', 'stateRoot']) {
      if (typeof h[field] !== 'string' || !hexPattern.test(h[field])) return bad;
    }
    if (!isAddress(h.producer)) return bad;
    if (typeof signature !== 'object' || signature === null) return bad;
    const s = signature as Record<string, unknown>;
    if (typeof s.height !== 'number' || typeof s.R !== 'string' || typeof s.s !== 'string')
      return bad;
    return { header: h, signature: { height: s.height, R: s.R, s: s.s } };
  },
};

const producerOnly = referenceParser({ producer: reference.producer });
const referenceParsers: Record<string, (p: Record<string, unknown>) => unknown> = {
  'producer.register': referenceParser({
    publicKey: reference.publicKey,
    hiddenInfo: reference.hiddenInfo,
    commitment: reference.commitment,
    bond: reference.amount,
    nonces: reference.nonceRange,
  }),
  'producer.commitNonces': referenceParser({
    producer: reference.producer,
    fromHeight: (v) => (wholeFrom(0)(v) ? v : rejected('invalid_nonce_range')),
    count: (v) => (wholeFrom(1)(v) ? v : rejected('invalid_nonce_range')),
    root: (v) =>
      typeof v === 'string' && hexPattern.test(v) ? v : rejected('invalid_nonce_range'),
  }),
  'producer.unbond': producerOnly,
  'producer.approve': producerOnly,
  'producer.withdraw': producerOnly,
  'producer.unjail': producerOnly,
  'producer.claimBond': producerOnly,
  'evidence.equivocation': (payload) => {
    const parsed = referenceParser({ a: reference.evidenceHalf, b: reference.evidenceHalf })(
      payload,
    );
    if ('code' in parsed) return parsed;
    const code = checkEvidence(parsed.value as never);
    return code ? { code } : parsed;
  },
};

// ---- payloads to try ---------------------------------------------------------------------------

const chainId = 'coffer-schema';
const key = deriveAccountableKey(new Uint8Array(32).fill(5));
const producer = addressFromPublicKey(key.publicKey);
const hidden = encryptHiddenInfo(key.secretScalar, { name: 'P' });
const root = commitNonces(key.nonceSecret, chainId, 10, 4).root;

function signedHalf(stateRoot: string, height = 7) {
  const header = {
    chainId,
    height,
    prevHash: zeroHash,
    time: 1_700_000_000_000,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot,
    producer,
  };
  const signature = signAtHeight(key, chainId, height, blockSigningMessage(blockHash(header)));
  return { header, signature: { ...signature, nonceProof: { extra: true } } };
}

const valid: Record<string, Record<string, unknown>> = {
  'producer.register': {
    publicKey: toHex(key.publicKey),
    hiddenInfo: hidden.hiddenInfo,
    commitment: hidden.commitment,
    bond: '4000',
    nonces: { fromHeight: 10, count: 4, root },
  },
  'producer.commitNonces': { producer, fromHeight: 14, count: 4, root },
  'producer.unbond': { producer },
  'producer.approve': { producer },
  'producer.withdraw': { producer },
  'producer.unjail': { producer },
  'producer.claimBond': { producer },
  'evidence.equivocation': { a: signedHalf('aa'.repeat(32)), b: signedHalf('bb'.repeat(32)) },
};

/** Values near the edges of what a field accepts, and anything at all. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    1.5,
    2 ** 53,
    '0',
    '01',
    '1',
    (2n ** 127n).toString(),
    (2n ** 127n - 1n).toString(),
    '',
    'ab',
    'AB'.repeat(32),
    'ab'.repeat(32),
    'zz'.repeat(32),
    'a'.repeat(2 * hiddenInfoCiphertextBytesMax + 2),
    toHex(key.publicKey),
    zeroHash,
    producer,
    null,
    [],
    {},
    { fromHeight: 1, count: 0, root },
    { fromHeight: 1, count: 1, root },
    { fromHeight: 1, count: 1, root, extra: 1 },
    { fromHeight: -1, count: 1, root },
    'constructor',
  ),
  fc.anything(),
);

/** A valid payload with some fields changed, dropped or added, and halves of evidence bent. */
function mutated(type: string): fc.Arbitrary<Record<string, unknown>> {
  const base = valid[type]!;
  const keys = Object.keys(base);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set'), key: fc.constantFrom(...keys), value: oddValue }),
    fc.record({ kind: fc.constant('drop'), key: fc.constantFrom(...keys) }),
    fc.record({
      kind: fc.constant('add'),
      key: fc.constantFrom('extra', 'constructor', '__proto__', 'toString'),
      value: oddValue,
    }),
    fc.record({
      kind: fc.constant('bend'),
      key: fc.constantFrom(...keys),
      inner: fc.constantFrom('header', 'signature'),
      field: fc.constantFrom(...blockHeaderFields, 'height', 'R', 's', 'extra'),
      value: oddValue,
    }),
  );
  return fc.array(edit, { maxLength: 3 }).map((edits) => {
    const payload = structuredClone(base);
    for (const e of edits) {
      if (e.kind === 'set') payload[e.key] = e.value;
      else if (e.kind === 'drop') delete payload[e.key];
      else if (e.kind === 'add')
        Object.defineProperty(payload, e.key, {
          value: e.value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      else {
        const half = payload[e.key];
        if (typeof half === 'object' && half !== null) {
          const part = (half as Record<string, unknown>)[e.inner];
          if (typeof part === 'object' && part !== null) {
            (part as Record<string, unknown>)[e.field] = e.value;
          }
        }
      }
    }
    return payload;
  });
}

/** A parse's answer as compared: the value, or the code and field (messages aside). */
const normalise = (answer: unknown): unknown => {
  const { value, code, field } = answer as { value?: unknown; code?: string; field?: string };
  const shown = code === undefined ? { value } : { code, field };
  return JSON.parse(
    JSON.stringify(shown, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
  ) as unknown;
};

describe('producer payload schemas, against the readers they replaced', () => {
  for (const type of Object.keys(valid)) {
    it(`${type}: the same value, or the same code and field, for any payload`, () => {
      const parse = producersModule.txs[type]!.parse;
      const expected = referenceParsers[type]!;
      assert.ok('value' in (parse(valid[type]!) as object), `${type} accepts a valid payload`);
      fc.assert(
        fc.property(mutated(type), (payload) => {
          assert.deepEqual(normalise(parse(payload)), normalise(expected(payload)));
        }),
        { numRuns: type === 'evidence.equivocation' ? 150 : 400 },
      );
    });
  }

  it('rejections name their field, in the order of the payload schema', () => {
    const parse = producersModule.txs['producer.register']!.parse;
    const base = valid['producer.register']!;
    const cases: [Record<string, unknown>, string, string | undefined][] = [
      [{ ...base, extra: 1 }, 'unknown_field', 'extra'],
      [{ ...base, publicKey: 'ab'.repeat(32), bond: '0' }, 'invalid_public_key', 'publicKey'],
      [{ ...base, hiddenInfo: 'abc' }, 'invalid_hidden_info', 'hiddenInfo'],
      [{ ...base, commitment: 'AB'.repeat(32) }, 'invalid_commitment', 'commitment'],
      [{ ...base, bond: '0' }, 'invalid_amount', 'bond'],
      [{ ...base, nonces: { fromHeight: 1, count: 0, root } }, 'invalid_nonce_range', 'nonces'],
    ];
    for (const [payload, code, field] of cases) {
      assert.deepEqual(normalise(parse(payload)), { code, field });
    }
    const evidence = producersModule.txs['evidence.equivocation']!.parse;
    const half = signedHalf('aa'.repeat(32));
    // One header twice is no evidence: a check across the halves, with no field.
    assert.deepEqual(normalise(evidence({ a: half, b: half })), { code: 'invalid_evidence' });
    assert.deepEqual(normalise(evidence({ a: half, b: signedHalf('bb'.repeat(32), 8) })), {
      code: 'invalid_evidence',
    });
  });
});

describe('shared helpers', () => {
  it('property: the escrow address is the ledger escrow of the module, the id the key address', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const accountable = deriveAccountableKey(seed);
        const id = producerIdOfPublicKey(toHex(accountable.publicKey));
        assert.equal(id, addressFromPublicKey(accountable.publicKey));
        assert.equal(producerEscrowAddress(id), escrowAddress('producers', id));
      }),
      { numRuns: 20 },
    );
  });
});
