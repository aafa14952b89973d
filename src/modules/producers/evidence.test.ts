import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  blockHash,
  blockSigningMessage,
  isRejection,
  registerRejections,
  zeroHash,
  type BlockHeader,
  type TxContext,
} from '../../chain/index.js';
import {
  addressFromPublicKey,
  deriveAccountableKey,
  encryptHiddenInfo,
  keyPairFromSecret,
  signAtHeight,
  toHex,
  type AccountableKey,
  type AccountableSignature,
} from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import {
  checkEvidence,
  evidenceSecret,
  evidenceTxs,
  type EquivocationEvidence,
  type SignedHeader,
} from './evidence.js';
import { producerRejections } from './rejections.js';
import { producerEscrowAddress } from './schema.js';
import {
  producerKeys,
  readProducer,
  writeParams,
  writeProducer,
  type ProducerRecord,
  type RegistryParams,
} from './state.js';

/*
 * evidence.ts on its own: the stateless checks of equivocation evidence (each guard with evidence
 * that would pass but for it), the secret it reveals, and the tx against a bare state view and
 * ledger (no chain, no blocks): each rejection in precedence order, the slashing's exact amounts,
 * the record and the event read whole.
 */

registerRejections(producerRejections);

const chainId = 'coffer-evidence';
const key = deriveAccountableKey(new Uint8Array(32).fill(21));
const producer = addressFromPublicKey(key.publicKey);
const other = deriveAccountableKey(new Uint8Array(32).fill(22));
const operator = addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(23)).publicKey);
const reporter = addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(24)).publicKey);
const issuer = addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(25)).publicKey);
const escrow = producerEscrowAddress(producer);
const info = { name: 'Equivocating Producer Ltd', contact: 'ops@equivocating.example' };
const hidden = encryptHiddenInfo(key.secretScalar, info);
const txHash = 'ee'.repeat(32);

const params: RegistryParams = {
  bondAsset: 'USD',
  bondMin: '1000',
  unbondingPeriodHeights: 10,
  evidenceWindowHeights: 5,
  slashBurnBasisPoints: 2_500,
  nonceRangeHeightsMax: 64,
  nonceRangesAheadMax: 2,
  activeProducersMax: 10,
  downtimeWindowHeights: 100,
  downtimeJailHeights: 10,
};

function headerAt(height: number, stateRoot: string, overrides: Partial<BlockHeader> = {}) {
  return {
    chainId,
    height,
    prevHash: zeroHash,
    time: 1_700_000_000_000,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot,
    producer,
    ...overrides,
  };
}

/** `header` signed by `signer` at `signatureHeight` (the header's height unless given). */
function signed(
  header: BlockHeader,
  options: { signer?: AccountableKey; nonceChain?: string; signatureHeight?: number } = {},
): SignedHeader {
  const signature: AccountableSignature = signAtHeight(
    options.signer ?? key,
    options.nonceChain ?? chainId,
    options.signatureHeight ?? header.height,
    blockSigningMessage(blockHash(header)),
  );
  return { header, signature };
}

/** Two headers the producer signed at `height`. */
function equivocation(height: number): EquivocationEvidence {
  return {
    a: signed(headerAt(height, 'aa'.repeat(32))),
    b: signed(headerAt(height, 'bb'.repeat(32))),
  };
}

interface World {
  state: StateView;
  ledger: Ledger;
  events: { type: string; data: Record<string, unknown> }[];
}

/** A registry with `params`, the USD asset, and the producer bonded with `bond` in escrow. */
function world(
  options: { bond?: bigint; escrowHolds?: bigint; record?: Partial<ProducerRecord> } = {},
): World {
  const state = new StateView({ get: () => undefined });
  const ledger = new Ledger(state);
  assert.equal(ledger.createAsset(issuer, { symbol: 'USD', decimals: 2 }), undefined);
  const bond = options.bond ?? 4_000n;
  const escrowHolds = options.escrowHolds ?? bond;
  if (escrowHolds > 0n) assert.equal(ledger.mint(issuer, 'USD', escrow, escrowHolds), undefined);
  writeParams(state, params);
  writeProducer(state, {
    id: producer,
    publicKey: toHex(key.publicKey),
    operator,
    hiddenInfo: hidden.hiddenInfo,
    commitment: hidden.commitment,
    bond: bond.toString(),
    status: 'active',
    registeredAtHeight: 0,
    nonceRanges: [{ fromHeight: 0, count: 64, root: zeroHash }],
    activatedAtHeight: 0,
    ...options.record,
  });
  return { state, ledger, events: [] };
}

function context(w: World, height: number, overrides: Partial<TxContext> = {}): TxContext {
  return {
    chainId,
    height,
    time: 1_700_000_000_000,
    txHash,
    txIndex: 0,
    sender: reporter,
    state: w.state,
    ledger: w.ledger,
    emit: (type, data) => w.events.push({ type, data }),
    ...overrides,
  };
}

const definition = evidenceTxs['evidence.equivocation']!;

/** Parses `evidence` as the tx does, then executes it: the rejection code, or 'ok'. */
function run(w: World, evidence: EquivocationEvidence, ctx: TxContext): string {
  const parsed = definition.parse(evidence);
  if (isRejection(parsed)) return parsed.code;
  return definition.execute(ctx, parsed.value as never) ?? 'ok';
}

describe('checkEvidence: each guard refuses evidence that would pass but for it', () => {
  const height = 7;
  const { a, b } = equivocation(height);

  it('accepts two headers of one chain, producer and height, each validly signed', () => {
    assert.equal(checkEvidence({ a, b }), undefined);
    assert.equal(checkEvidence({ a: b, b: a }), undefined);
  });

  it('refuses headers of two chains, though both signatures verify and share a nonce', () => {
    // Signed with the nonce of `chainId`: the signatures share R and would reveal the key.
    const elsewhere = signed(headerAt(height, 'bb'.repeat(32), { chainId: 'coffer-other' }));
    assert.equal(elsewhere.signature.R, a.signature.R);
    assert.notEqual(evidenceSecret({ a, b: elsewhere }), undefined);
    assert.equal(checkEvidence({ a, b: elsewhere }), 'invalid_evidence');
    assert.equal(checkEvidence({ a: elsewhere, b: a }), 'invalid_evidence');
  });

  it('refuses headers naming two producers, though the key of a signed both', () => {
    const named = signed(headerAt(height, 'bb'.repeat(32), { producer: operator }));
    assert.equal(checkEvidence({ a, b: named }), 'invalid_evidence');
  });

  it('refuses headers of two heights, though both signatures verify', () => {
    assert.equal(
      checkEvidence({ a, b: signed(headerAt(height + 1, 'bb'.repeat(32))) }),
      'invalid_evidence',
    );
  });

  it('refuses one header twice, though its signature verifies', () => {
    assert.equal(checkEvidence({ a, b: a }), 'invalid_evidence');
    assert.equal(
      checkEvidence({ a, b: signed(headerAt(height, 'aa'.repeat(32))) }),
      'invalid_evidence',
    );
  });

  it('refuses a signature made at another height than its header, on either half', () => {
    // The signature at height 8 of header 7's hash verifies: only the height check refuses it.
    const shifted = signed(headerAt(height, 'cc'.repeat(32)), { signatureHeight: height + 1 });
    assert.equal(shifted.signature.height, height + 1);
    assert.equal(checkEvidence({ a, b: shifted }), 'evidence_bad_signature');
    assert.equal(checkEvidence({ a: shifted, b }), 'evidence_bad_signature');
  });

  it('refuses a signature that does not verify for its header, on either half', () => {
    const tampered = { ...b, header: { ...b.header, stateRoot: 'cc'.repeat(32) } };
    assert.equal(checkEvidence({ a, b: tampered }), 'evidence_bad_signature');
    assert.equal(checkEvidence({ a: tampered, b }), 'evidence_bad_signature');
    // Signed by another key: valid for that key, not for the producer the headers name.
    const foreign = signed(headerAt(height, 'bb'.repeat(32)), { signer: other });
    assert.equal(checkEvidence({ a, b: foreign }), 'evidence_bad_signature');
  });

  it('the tx parser refuses with the same code and its message', () => {
    assert.deepEqual(definition.parse({ a, b: a }), {
      code: 'invalid_evidence',
      message: producerRejections.invalid_evidence,
    });
    assert.deepEqual(definition.parse({ a, b: { ...b, header: { ...b.header, txCount: 1 } } }), {
      code: 'evidence_bad_signature',
      message: producerRejections.evidence_bad_signature,
    });
    const parsed = definition.parse({ a, b });
    assert.ok(!isRejection(parsed));
    assert.deepEqual(parsed.value, { a, b });
  });
});

describe('evidenceSecret', () => {
  it('is the producer’s secret scalar for two headers signed at one height', () => {
    const { a, b } = equivocation(9);
    assert.equal(evidenceSecret({ a, b }), key.secretScalar);
    assert.equal(evidenceSecret({ a: b, b: a }), key.secretScalar);
  });

  it('is undefined when the signatures share no nonce or the key is another producer’s', () => {
    const { a } = equivocation(9);
    const fresh = signed(headerAt(9, 'bb'.repeat(32)), {
      signer: { ...key, nonceSecret: new Uint8Array(32).fill(5) },
    });
    assert.equal(evidenceSecret({ a, b: fresh }), undefined);
    const { a: otherA, b: otherB } = {
      a: signed(headerAt(9, 'aa'.repeat(32)), { signer: other }),
      b: signed(headerAt(9, 'bb'.repeat(32)), { signer: other }),
    };
    assert.equal(evidenceSecret({ a: otherA, b: otherB }), undefined);
  });
});

describe('evidence.equivocation: the slashing', () => {
  const height = 3;
  const evidence = equivocation(height);
  const hashes = [blockHash(evidence.a.header), blockHash(evidence.b.header)].sort();

  function usd(w: World, address: string): bigint {
    return w.ledger.balance(address, 'USD');
  }

  function supply(w: World): bigint {
    return BigInt(w.ledger.asset('USD')!.supply);
  }

  it('jails the producer, burns the floor of its share, pays the rest to the reporter', () => {
    const w = world({ bond: 4_001n });
    // 4001 * 25% = 1000.25: 1000 burned (rounded down), 3001 to the reporter.
    assert.equal(run(w, evidence, context(w, 8)), 'ok');
    assert.equal(usd(w, reporter), 3_001n);
    assert.equal(usd(w, escrow), 0n);
    assert.equal(supply(w), 3_001n);
    const equivocated = {
      height,
      headerHashes: hashes,
      info,
      infoRevealed: true,
      recordedAtHeight: 8,
      reporter,
      slashed: '4001',
      burned: '1000',
      reward: '3001',
    };
    assert.deepEqual(readProducer(w.state, producer), {
      id: producer,
      publicKey: toHex(key.publicKey),
      operator,
      hiddenInfo: hidden.hiddenInfo,
      commitment: hidden.commitment,
      bond: '0',
      status: 'jailed',
      registeredAtHeight: 0,
      nonceRanges: [{ fromHeight: 0, count: 64, root: zeroHash }],
      activatedAtHeight: 0,
      equivocation: equivocated,
    });
    assert.deepEqual(w.events, [
      {
        type: 'producer.equivocated',
        data: {
          producer,
          height,
          headerHashes: hashes,
          info,
          infoRevealed: true,
          reporter,
          slashed: '4001',
          burned: '1000',
          reward: '3001',
        },
      },
    ]);
    // The height is marked with the tx that slashed it.
    assert.equal(w.state.get(producerKeys.evidence(producer, height)), `{"tx":"${txHash}"}`);
    assert.equal(w.state.get(producerKeys.evidence(producer, height + 1)), undefined);
    // Out of the active set.
    assert.equal(w.state.get(producerKeys.active), '[]');
  });

  it('records the header hashes sorted, whichever half comes first', () => {
    const swapped = { a: evidence.b, b: evidence.a };
    // One of the two orders is not sorted, so sorting is what makes them agree.
    assert.notDeepEqual(
      [blockHash(evidence.a.header), blockHash(evidence.b.header)],
      [blockHash(swapped.a.header), blockHash(swapped.b.header)],
    );
    for (const order of [evidence, swapped]) {
      const w = world();
      assert.equal(run(w, order, context(w, 4)), 'ok');
      assert.deepEqual(readProducer(w.state, producer)?.equivocation?.headerHashes, hashes);
      assert.deepEqual(w.events[0]?.data.headerHashes, hashes);
    }
  });

  it('burns nothing at 0 basis points, pays nothing at 10000, moves nothing for a zero bond', () => {
    const cases: [number, bigint, bigint, bigint][] = [
      // basis points, bond, burned, reward
      [0, 4_000n, 0n, 4_000n],
      [10_000, 4_000n, 4_000n, 0n],
      [2_500, 0n, 0n, 0n],
      [1, 9_999n, 0n, 9_999n], // 0.9999 burned: rounded down to nothing
      [1, 10_000n, 1n, 9_999n],
    ];
    for (const [basisPoints, bond, burned, reward] of cases) {
      const w = world({ bond });
      writeParams(w.state, { ...params, slashBurnBasisPoints: basisPoints });
      assert.equal(run(w, evidence, context(w, 4)), 'ok', `${basisPoints} bp of ${bond}`);
      assert.equal(usd(w, reporter), reward);
      assert.equal(usd(w, escrow), 0n);
      assert.equal(supply(w), bond - burned);
      const record = readProducer(w.state, producer)!;
      assert.deepEqual(
        [record.equivocation?.slashed, record.equivocation?.burned, record.equivocation?.reward],
        [bond.toString(), burned.toString(), reward.toString()],
      );
    }
  });

  it('records info null and not revealed when the hidden information does not open', () => {
    const sealedForOther = encryptHiddenInfo(other.secretScalar, info);
    const w = world({ record: { ...sealedForOther } });
    assert.equal(run(w, evidence, context(w, 4)), 'ok');
    const record = readProducer(w.state, producer)!;
    assert.equal(record.equivocation?.info, null);
    assert.equal(record.equivocation?.infoRevealed, false);
    assert.equal(w.events[0]?.data.info, null);
    assert.equal(w.events[0]?.data.infoRevealed, false);
    assert.equal(record.status, 'jailed');
  });

  it('ends an unbonding, a downtime jail and a pending approval: only the slashing is left', () => {
    const records: Partial<ProducerRecord>[] = [
      { status: 'unbonding', unbondAtHeight: 12 },
      {
        status: 'jailed',
        jail: { reason: 'downtime', jailedAtHeight: 2, lastSeenHeight: 1, releaseHeight: 20 },
      },
      { status: 'pending', approvals: [operator] },
    ];
    for (const fields of records) {
      const w = world({ record: fields });
      assert.equal(run(w, evidence, context(w, 4)), 'ok', fields.status);
      const record = readProducer(w.state, producer)!;
      assert.equal(record.status, 'jailed');
      assert.equal(record.bond, '0');
      assert.equal('unbondAtHeight' in record, false);
      assert.equal('jail' in record, false);
      assert.equal('approvals' in record, false);
      assert.equal(usd(w, reporter), 3_000n);
    }
  });
});

describe('evidence.equivocation: rejections, in precedence order', () => {
  const height = 3;
  const evidence = equivocation(height);
  // The same key with another nonce secret: valid at the height, sharing no nonce.
  const noSecret = {
    a: evidence.a,
    b: signed(headerAt(height, 'dd'.repeat(32)), {
      signer: { ...key, nonceSecret: new Uint8Array(32).fill(5) },
    }),
  };

  it('each rejection, with every later fault present as well', () => {
    const marked = (w: World) => {
      w.state.set(producerKeys.evidence(producer, height), '{"tx":"00"}');
      return w;
    };
    const jailed = { equivocation: { ...equivocatedBefore } };
    const cases: [string, () => [World, TxContext, EquivocationEvidence]][] = [
      [
        'registry_not_initialized',
        () => {
          const w = world();
          w.state.delete(producerKeys.params);
          return [w, context(w, 4, { chainId: 'coffer-other' }), evidence];
        },
      ],
      [
        'evidence_wrong_chain',
        () => {
          const w = world();
          w.state.delete(producerKeys.producer(producer));
          return [w, context(w, 4, { chainId: 'coffer-other' }), evidence];
        },
      ],
      [
        'producer_not_found',
        () => {
          const w = world();
          w.state.delete(producerKeys.producer(producer));
          return [w, context(w, height + params.evidenceWindowHeights + 1), evidence];
        },
      ],
      [
        'evidence_too_old',
        () => {
          const w = marked(world({ record: jailed }));
          return [w, context(w, height + params.evidenceWindowHeights + 1), noSecret];
        },
      ],
      [
        'evidence_duplicate',
        () => {
          const w = marked(world({ record: jailed }));
          return [w, context(w, height + params.evidenceWindowHeights), noSecret];
        },
      ],
      [
        'producer_already_jailed',
        () => {
          const w = world({ record: jailed });
          return [w, context(w, 4), noSecret];
        },
      ],
      [
        'evidence_no_secret',
        () => {
          const w = world();
          assert.equal(w.ledger.setFrozen(issuer, 'USD', reporter, true), undefined);
          return [w, context(w, 4), noSecret];
        },
      ],
    ];
    for (const [code, setup] of cases) {
      const [w, ctx, payload] = setup();
      const before = readProducer(w.state, producer);
      assert.equal(run(w, payload, ctx), code, code);
      assert.deepEqual(w.events, [], code);
      assert.deepEqual(readProducer(w.state, producer), before, code);
    }
  });

  it('evidence at the edge of the window is taken; one height later it is too old', () => {
    const w = world();
    assert.equal(run(w, evidence, context(w, height + params.evidenceWindowHeights)), 'ok');
    const late = world();
    const ctx = context(late, height + params.evidenceWindowHeights + 1);
    assert.equal(run(late, evidence, ctx), 'evidence_too_old');
  });

  it('a duplicate is about this producer at this height only', () => {
    const w = world();
    w.state.set(producerKeys.evidence(producer, height + 1), '{"tx":"00"}');
    w.state.set(producerKeys.evidence(operator, height), '{"tx":"00"}');
    assert.equal(run(w, evidence, context(w, 4)), 'ok');
  });

  it('a reward the ledger refuses (the reporter frozen) is the rejection', () => {
    const w = world();
    assert.equal(w.ledger.setFrozen(issuer, 'USD', reporter, true), undefined);
    assert.equal(run(w, evidence, context(w, 4)), 'account_frozen');
    assert.deepEqual(w.events, []);
  });

  it('a burn the ledger refuses (an escrow short of the bond) is the rejection', () => {
    // The reward (3000 of 4000) leaves 500 in an escrow holding 3500: the burn of 1000 fails.
    const w = world({ bond: 4_000n, escrowHolds: 3_500n });
    assert.equal(run(w, evidence, context(w, 4)), 'insufficient_funds');
    assert.deepEqual(w.events, []);
  });
});

const equivocatedBefore = {
  height: 1,
  headerHashes: ['11'.repeat(32), '22'.repeat(32)] as [string, string],
  info: null,
  infoRevealed: false,
  recordedAtHeight: 2,
  reporter,
  slashed: '0',
  burned: '0',
  reward: '0',
};
