// The permissioned validator set (issue 13): registration leaves a producer pending; validators'
// operators approve it into the active set at more than two thirds; a producer that stops
// producing is jailed for downtime, from chain state alone; finality's quorum is over the set.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';

import { TestBlockSigner } from '../../../test/support/block-signer.js';
import {
  genesisTime,
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import {
  blockHash,
  blockSigningMessage,
  InvalidBlockError,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  zeroHash,
  type BlockHeader,
  type CommittedBlock,
  type DecodedTx,
  type Genesis,
} from '../../chain/index.js';
import { validatorQuorum } from '../../consensus/index.js';
import { encryptHiddenInfo, signAtHeight, toHex } from '../../crypto/index.js';
import { auditLedger, ledgerKeys } from '../../ledger/index.js';
import {
  activeValidatorSet,
  escrowOf,
  getProducer,
  listProducers,
  nonceRangeHistory,
  producerKeys,
  producersModule,
  readProducerCount,
  validateBlockSignature,
  type ProducerParams,
  type ProducersGenesis,
} from './index.js';

const chainId = 'coffer-validators';
const harness = new ModuleTestHarness({
  name: 'validators',
  chainId,
  registry: new ModuleRegistry([ledgerModule, producersModule]),
  validateBlock: validateBlockSignature,
});
after(() => harness.close());

/** The USD issuer; it funds the candidates' operators. */
const issuer = testAccount(1);
const outsider = testAccount(2);

/** A producer with its block signer and the account that operates it. */
interface Member {
  signer: TestBlockSigner;
  operator: TestAccount;
}

/** Genesis validators: the first signs with the harness's key (seed 99), so `node.produce` works. */
const validators: Member[] = [
  { signer: harness.signer, operator: testAccount(21) },
  ...[11, 12, 13, 14].map((seed, i) => ({
    signer: new TestBlockSigner(new Uint8Array(32).fill(seed), chainId),
    operator: testAccount(22 + i),
  })),
];

/** Producers that register after genesis (their nonces start at height 64: aligned ranges). */
const candidates: Member[] = [31, 32, 33].map((seed, i) => ({
  signer: new TestBlockSigner(new Uint8Array(32).fill(seed), chainId),
  operator: testAccount(41 + i),
}));

const baseParams: ProducerParams = {
  bondAsset: 'USD',
  bondMin: '1000',
  unbondingPeriodHeights: 10,
  evidenceWindowHeights: 5,
  slashBurnBasisPoints: 2_500,
  nonceRangeHeightsMax: 64,
  nonceRangesAheadMax: 2,
};

/** A chain whose genesis makes the first `count` validators active, with `overrides`. */
function chainOf(count: number, overrides: Partial<ProducerParams> = {}): ModuleTestChain {
  const section: ProducersGenesis = {
    params: { ...baseParams, ...overrides },
    producers: validators.slice(0, count).map(({ signer, operator }) => {
      const hidden = encryptHiddenInfo(signer.key.secretScalar, { name: signer.producer });
      return {
        operator: operator.address,
        publicKey: toHex(signer.key.publicKey),
        hiddenInfo: hidden.hiddenInfo,
        commitment: hidden.commitment,
        bond: '0',
        nonces: signer.range(0),
      };
    }),
  };
  const genesis: Genesis = harness.genesis({
    assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
    balances: [
      { address: issuer.address, asset: 'USD', amount: '1000000' },
      ...candidates.map((c) => ({ address: c.operator.address, asset: 'USD', amount: '10000' })),
    ],
    modules: { producers: section },
  });
  return harness.open(genesis);
}

/** Runs one tx in a block of its own (by the harness's signer); the receipt status or admission code. */
function run(node: ModuleTestChain, sender: TestAccount, type: string, payload: object): string {
  const decoded = node.admit(sender, type, payload as Record<string, unknown>);
  if (isRejection(decoded)) return decoded.code;
  return node.produce([decoded]).receipts[0]!.status;
}

function registerPayload(candidate: Member) {
  const hidden = encryptHiddenInfo(candidate.signer.key.secretScalar, { name: 'candidate' });
  return {
    publicKey: toHex(candidate.signer.key.publicKey),
    hiddenInfo: hidden.hiddenInfo,
    commitment: hidden.commitment,
    bond: '2000',
    nonces: candidate.signer.range(64),
  };
}

const statusOf = (node: ModuleTestChain, member: Member) =>
  getProducer(node.store, member.signer.producer)?.status;

const activeProducers = (node: ModuleTestChain) => activeValidatorSet(node.store).producers;

function usd(node: ModuleTestChain, address: string): bigint {
  const text = node.store.get(ledgerKeys.account(address));
  const balances = text ? (JSON.parse(text) as { balances: Record<string, string> }).balances : {};
  return BigInt(balances.USD ?? '0');
}

/** The next block, by `member` (its nonce must be committed there). */
function produceBy(node: ModuleTestChain, member: Member, txs: DecodedTx[] = []): CommittedBlock {
  return node.chain.produce(txs, node.chain.latest().header.time + 1_000, member.signer);
}

describe('producer.approve', () => {
  it('activates a pending producer at more than two thirds of the validators, not before', () => {
    const node = chainOf(4);
    const [candidate] = candidates;
    assert.equal(
      run(node, candidate!.operator, 'producer.register', registerPayload(candidate!)),
      'ok',
    );
    assert.equal(statusOf(node, candidate!), 'pending');
    const id = candidate!.signer.producer;
    // 4 validators: 2 approvals are half, not more than two thirds; the third activates.
    for (const [index, validator] of validators.slice(0, 2).entries()) {
      const decoded = node.admit(validator.operator, 'producer.approve', { producer: id });
      assert.ok(!isRejection(decoded));
      const [receipt] = node.produce([decoded]).receipts;
      assert.equal(receipt?.status, 'ok');
      assert.deepEqual(receipt.events, [
        {
          type: 'producer.approved',
          data: {
            producer: id,
            approver: validator.operator.address,
            approvals: index + 1,
            validators: 4,
          },
        },
      ]);
      assert.equal(statusOf(node, candidate!), 'pending');
      assert.ok(!activeProducers(node).includes(id));
    }
    const decoded = node.admit(validators[2]!.operator, 'producer.approve', { producer: id });
    assert.ok(!isRejection(decoded));
    const block = node.produce([decoded]);
    assert.equal(block.receipts[0]?.events[0]?.type, 'producer.activated');
    const record = getProducer(node.store, id)!;
    assert.equal(record.status, 'active');
    assert.equal(record.approvals, undefined);
    assert.equal(record.activatedAtHeight, block.block.header.height);
    assert.equal(record.lastSeenHeight, block.block.header.height);
    assert.ok(activeProducers(node).includes(id));
    // Its operator is a validator now: five validators, quorum four.
    const set = activeValidatorSet(node.store);
    assert.equal(set.operators.size, 5);
    assert.equal(validatorQuorum(set.operators), 4);
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  });

  it('one validator alone approves on a chain of one (the solo dev chain)', () => {
    const node = chainOf(1);
    const [candidate] = candidates;
    assert.equal(
      run(node, candidate!.operator, 'producer.register', registerPayload(candidate!)),
      'ok',
    );
    assert.equal(
      run(node, validators[0]!.operator, 'producer.approve', {
        producer: candidate!.signer.producer,
      }),
      'ok',
    );
    assert.equal(statusOf(node, candidate!), 'active');
  });

  it('rejections, in precedence order: every forbidden approval', () => {
    const node = chainOf(4, { activeProducersMax: 5 });
    const [a, b, c] = candidates as [Member, Member, Member];
    for (const candidate of [a, b, c]) {
      assert.equal(
        run(node, candidate.operator, 'producer.register', registerPayload(candidate)),
        'ok',
      );
    }
    const approve = (sender: TestAccount, producer: string) =>
      run(node, sender, 'producer.approve', { producer });
    const [v0, v1, v2, v3] = validators as [Member, Member, Member, Member];

    // Malformed, and unknown.
    assert.equal(approve(v0.operator, 'not-an-address'), 'invalid_producer');
    assert.equal(approve(v0.operator, outsider.address), 'producer_not_found');
    // An active producer is not approved again.
    assert.equal(approve(v0.operator, v1.signer.producer), 'producer_not_pending');
    // Not a validator's operator: an outsider, the issuer, a pending producer's operator.
    assert.equal(approve(outsider, a.signer.producer), 'not_validator_operator');
    assert.equal(approve(issuer, a.signer.producer), 'not_validator_operator');
    assert.equal(approve(b.operator, a.signer.producer), 'not_validator_operator');
    assert.equal(approve(a.operator, a.signer.producer), 'not_validator_operator');
    // A jailed producer's operator: v3 equivocates and is jailed by evidence.
    const height = node.chain.height() + 1;
    const half = (stateRoot: string) => {
      const header: BlockHeader = {
        chainId,
        height,
        prevHash: zeroHash,
        time: genesisTime,
        txCount: 0,
        txRoot: zeroHash,
        receiptRoot: zeroHash,
        stateRoot,
        producer: v3.signer.producer,
      };
      const signed = signAtHeight(
        v3.signer.key,
        chainId,
        height,
        blockSigningMessage(blockHash(header)),
      );
      return { header, signature: signed };
    };
    assert.equal(
      run(node, outsider, 'evidence.equivocation', {
        a: half('aa'.repeat(32)),
        b: half('bb'.repeat(32)),
      }),
      'ok',
    );
    assert.equal(statusOf(node, v3), 'jailed');
    assert.equal(approve(v3.operator, a.signer.producer), 'not_validator_operator');
    // Three validators left: v0 approves, then not twice.
    assert.equal(approve(v0.operator, a.signer.producer), 'ok');
    assert.equal(approve(v0.operator, a.signer.producer), 'approval_duplicate');
    assert.deepEqual(getProducer(node.store, a.signer.producer)?.approvals, [v0.operator.address]);
    // v1 and v2 bring a to 3 of 3: active, and four validators.
    assert.equal(approve(v1.operator, a.signer.producer), 'ok');
    assert.equal(statusOf(node, a), 'pending', '2 of 3 is not more than two thirds');
    assert.equal(approve(v2.operator, a.signer.producer), 'ok');
    assert.equal(statusOf(node, a), 'active');
    // b: four validators (v0 v1 v2 a); three approvals make five active, the most allowed.
    for (const v of [v0, v1, v2]) assert.equal(approve(v.operator, b.signer.producer), 'ok');
    assert.equal(statusOf(node, b), 'active');
    assert.equal(activeProducers(node).length, 5);
    // c: the set is full.
    assert.equal(approve(v0.operator, c.signer.producer), 'active_set_full');
    assert.equal(getProducer(node.store, c.signer.producer)?.approvals?.length, 0);
    assert.equal(statusOf(node, c), 'pending');
    // A failed approval changed nothing but its sender's nonce.
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  });

  it('approvals of operators who left do not count; a repeat activates once the set shrank below them', () => {
    // 5 validators; v0..v2 approve (3 of 5 is not more than two thirds).
    const node = chainOf(5, { downtimeWindowHeights: 0 });
    const [candidate] = candidates as [Member];
    const id = candidate.signer.producer;
    assert.equal(
      run(node, candidate.operator, 'producer.register', registerPayload(candidate)),
      'ok',
    );
    for (const v of validators.slice(0, 3)) {
      assert.equal(run(node, v.operator, 'producer.approve', { producer: id }), 'ok');
    }
    assert.equal(statusOf(node, candidate), 'pending');
    // v3 and v4 leave: 3 of 3 have approved, and none can approve anew.
    for (const v of validators.slice(3, 5)) {
      assert.equal(run(node, v.operator, 'producer.unbond', { producer: v.signer.producer }), 'ok');
    }
    assert.equal(statusOf(node, candidate), 'pending', 'the set shrinking activates no one');
    // A repeat is let through because it now reaches the threshold: it activates.
    assert.equal(run(node, validators[0]!.operator, 'producer.approve', { producer: id }), 'ok');
    assert.equal(statusOf(node, candidate), 'active');
  });
});

describe('producer.withdraw', () => {
  it('gives a pending registration and its bond back at once, to its operator only, and frees its slot', () => {
    const node = chainOf(2);
    const [a, b] = candidates as [Member, Member];
    for (const c of [a, b]) {
      assert.equal(run(node, c.operator, 'producer.register', registerPayload(c)), 'ok');
    }
    assert.equal(listProducers(node.store).length, 4);
    const before = usd(node, a.operator.address);
    const withdraw = (sender: TestAccount, producer: string) =>
      run(node, sender, 'producer.withdraw', { producer });
    assert.equal(withdraw(a.operator, outsider.address), 'producer_not_found');
    assert.equal(withdraw(b.operator, a.signer.producer), 'not_producer_operator');
    assert.equal(
      withdraw(validators[0]!.operator, validators[0]!.signer.producer),
      'producer_not_pending',
    );
    const decoded = node.admit(a.operator, 'producer.withdraw', { producer: a.signer.producer });
    assert.ok(!isRejection(decoded));
    const [receipt] = node.produce([decoded]).receipts;
    assert.equal(receipt?.status, 'ok');
    assert.deepEqual(receipt.events.at(-1), {
      type: 'producer.withdrawn',
      data: { producer: a.signer.producer, operator: a.operator.address, bond: '2000' },
    });
    assert.equal(usd(node, a.operator.address), before + 2000n);
    assert.equal(usd(node, escrowOf(a.signer.producer)), 0n);
    // Gone from the registry: a loop of register and withdraw cannot fill its slots.
    assert.equal(getProducer(node.store, a.signer.producer), undefined);
    assert.deepEqual(
      listProducers(node.store).map((p) => p.id),
      [...validators.slice(0, 2).map((v) => v.signer.producer), b.signer.producer].sort(),
    );
    assert.equal(withdraw(a.operator, a.signer.producer), 'producer_not_found');
    assert.equal(
      run(node, validators[0]!.operator, 'producer.approve', { producer: a.signer.producer }),
      'producer_not_found',
    );
    // Its nonce-range history stays (light clients); the key may register again.
    assert.equal(nonceRangeHistory(node.store, a.signer.producer).length, 1);
    const again = { ...registerPayload(a), nonces: a.signer.range(128) };
    assert.equal(run(node, a.operator, 'producer.register', again), 'ok');
    assert.equal(statusOf(node, a), 'pending');
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  });

  it('a loop of register and withdraw holds no registry slot', () => {
    // The registry holds at most producersMax (1,000) producers, counted in producers/count.
    const node = chainOf(1);
    const [a] = candidates as [Member];
    assert.equal(readProducerCount(node.store), 1);
    for (let round = 0; round < 3; round++) {
      const payload = { ...registerPayload(a), nonces: a.signer.range(64 * (round + 1)) };
      assert.equal(run(node, a.operator, 'producer.register', payload), 'ok');
      assert.equal(listProducers(node.store).length, 2);
      assert.equal(readProducerCount(node.store), 2);
      assert.equal(
        run(node, a.operator, 'producer.withdraw', { producer: a.signer.producer }),
        'ok',
      );
      assert.equal(listProducers(node.store).length, 1);
      assert.equal(readProducerCount(node.store), 1);
    }
    // One key per producer: no list of every producer ever registered.
    assert.equal(node.store.get(producerKeys.legacyIds), undefined);
    assert.deepEqual(
      [...node.store.scan(producerKeys.producers)].map(([key]) => key),
      [producerKeys.producer(validators[0]!.signer.producer)],
    );
  });
});

describe('downtime', () => {
  const window = 6;
  const jailHeights = 4;

  /** Produces `count` blocks, each by the next of `live` in turn. */
  function rotate(node: ModuleTestChain, live: Member[], count: number): CommittedBlock[] {
    const blocks: CommittedBlock[] = [];
    for (let i = 0; i < count; i++) {
      blocks.push(produceBy(node, live[(node.chain.height() + 1) % live.length]!));
    }
    return blocks;
  }

  it('jails a validator of four that never produces; the quorum is then 3 of the 3 left', () => {
    const node = chainOf(4, { downtimeWindowHeights: window, downtimeJailHeights: jailHeights });
    const [v0, v1, v2, dead] = validators as [Member, Member, Member, Member];
    const live = [v0, v1, v2];
    assert.equal(validatorQuorum(activeValidatorSet(node.store).operators), 3, '3 of 4');
    // Its window starts at its first check (block 1, seeing height 0): jailed once more than
    // `window` heights passed without a block from it.
    const blocks = rotate(node, live, window + 1);
    assert.equal(
      statusOf(node, dead),
      'active',
      `${window} heights without a block is within the window`,
    );
    blocks.push(...rotate(node, live, 1));
    const jailedAt = blocks.at(-1)!;
    const event = jailedAt.blockEvents.find((e) => e.type === 'producer.jailed');
    const height = jailedAt.block.header.height;
    assert.deepEqual(event?.data, {
      producer: dead.signer.producer,
      operator: dead.operator.address,
      reason: 'downtime',
      lastSeenHeight: 0,
      releaseHeight: height + jailHeights,
    });
    const record = getProducer(node.store, dead.signer.producer)!;
    assert.equal(record.status, 'jailed');
    assert.deepEqual(record.jail, {
      reason: 'downtime',
      jailedAtHeight: height,
      lastSeenHeight: 0,
      releaseHeight: height + jailHeights,
    });
    // The live three were never jailed; the active set, and finality's quorum over it, is 3 of 3.
    const set = activeValidatorSet(node.store);
    assert.deepEqual(set.producers, live.map((v) => v.signer.producer).sort());
    assert.equal(validatorQuorum(set.operators), 3);
    // A jailed producer's block is invalid.
    assert.throws(() => produceBy(node, dead), InvalidBlockError);

    // Its operator brings it back after the wait, and only then (the live three keep taking
    // turns meanwhile, each block carrying the tx).
    const runLive = (sender: TestAccount, type: string, payload: Record<string, unknown>) => {
      const decoded = node.admit(sender, type, payload);
      assert.ok(!isRejection(decoded));
      const by = live[(node.chain.height() + 1) % live.length]!;
      return produceBy(node, by, [decoded]).receipts[0]!.status;
    };
    const unjail = () =>
      runLive(dead.operator, 'producer.unjail', { producer: dead.signer.producer });
    assert.equal(
      runLive(outsider, 'producer.unjail', { producer: dead.signer.producer }),
      'not_producer_operator',
    );
    assert.equal(
      runLive(v0.operator, 'producer.unjail', { producer: v0.signer.producer }),
      'producer_not_jailed',
    );
    while (node.chain.height() + 1 < height + jailHeights) {
      assert.equal(unjail(), 'jail_not_expired');
    }
    assert.equal(unjail(), 'ok');
    const back = getProducer(node.store, dead.signer.producer)!;
    assert.equal(back.status, 'active');
    assert.equal(back.jail, undefined);
    assert.equal(back.lastSeenHeight, node.chain.height());
    // It produces again, and is not jailed while it keeps doing so.
    produceBy(node, dead);
    rotate(node, validators.slice(0, 4), 2 * window);
    assert.equal(activeProducers(node).length, 4);
  });

  it('never jails one of three (two of three live is not more than two thirds): finality waits', () => {
    const node = chainOf(3, { downtimeWindowHeights: window, downtimeJailHeights: jailHeights });
    const [v0, v1, dead] = validators as [Member, Member, Member];
    const blocks = rotate(node, [v0, v1], 4 * window);
    assert.ok(blocks.every((b) => b.blockEvents.every((e) => e.type !== 'producer.jailed')));
    assert.equal(statusOf(node, dead), 'active');
    assert.equal(validatorQuorum(activeValidatorSet(node.store).operators), 3);
  });

  it('a producer that makes every block itself cannot jail the others', () => {
    const node = chainOf(4, { downtimeWindowHeights: window, downtimeJailHeights: jailHeights });
    rotate(node, [validators[0]!], 4 * window);
    assert.equal(activeProducers(node).length, 4);
  });

  it('0 turns the check off', () => {
    const node = chainOf(4, { downtimeWindowHeights: 0 });
    rotate(node, validators.slice(0, 3), 4 * window);
    assert.equal(activeProducers(node).length, 4);
  });

  it('a producer jailed for downtime may commit nonces past a range that ran out, and unbond', () => {
    const node = chainOf(4, { downtimeWindowHeights: window, downtimeJailHeights: jailHeights });
    const dead = validators[3]!;
    rotate(node, validators.slice(0, 3), window + 2);
    assert.equal(statusOf(node, dead), 'jailed');
    // Its genesis range [0, 64) has not run out yet: the next must be contiguous.
    const commit = (fromHeight: number) =>
      run(node, dead.operator, 'producer.commitNonces', {
        producer: dead.signer.producer,
        ...dead.signer.range(fromHeight),
      });
    assert.equal(commit(128), 'nonce_range_not_contiguous');
    // The harness's producer (v0) commits its next range, and the chain passes height 64.
    const v0 = validators[0]!;
    assert.equal(
      run(node, v0.operator, 'producer.commitNonces', {
        producer: v0.signer.producer,
        ...v0.signer.range(64),
      }),
      'ok',
    );
    while (node.chain.height() < 64) node.produce([]);
    // Ended: anywhere above the height (here the aligned range from 128), never overlapping.
    assert.equal(commit(128), 'ok');
    // The ended range is pruned from the record; the history keeps both, with the gap between.
    assert.deepEqual(
      getProducer(node.store, dead.signer.producer)!.nonceRanges.map((r) => r.fromHeight),
      [128],
    );
    assert.deepEqual(
      nonceRangeHistory(node.store, dead.signer.producer).map((r) => r.fromHeight),
      [0, 128],
    );
    assert.equal(
      run(node, dead.operator, 'producer.unbond', { producer: dead.signer.producer }),
      'ok',
    );
    const record = getProducer(node.store, dead.signer.producer)!;
    assert.equal(record.status, 'unbonding');
    assert.equal(record.jail, undefined);
  });
});

describe('the active set, as a property', () => {
  /** One step: a tx in a block by one of the producers able to sign it, or an empty block. */
  type Step =
    | { kind: 'block'; producer: number }
    | { kind: 'register'; candidate: number; producer: number }
    | { kind: 'approve'; candidate: number; sender: number; producer: number }
    | { kind: 'withdraw'; candidate: number; producer: number }
    | { kind: 'unjail'; validator: number; producer: number };

  const producer = fc.nat({ max: 7 });
  // Two candidates (of three), and approvals mostly by validators' operators (indexes 0 to 4 of
  // the senders), so that runs reach the threshold as well as every refusal.
  const candidate = fc.oneof(
    { arbitrary: fc.constant(0), weight: 4 },
    { arbitrary: fc.constant(1), weight: 1 },
  );
  const sender = fc.oneof(
    { arbitrary: fc.nat({ max: 4 }), weight: 5 },
    { arbitrary: fc.integer({ min: 5, max: 8 }), weight: 1 },
  );
  const step: fc.Arbitrary<Step> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('block' as const), producer }), weight: 3 },
    {
      arbitrary: fc.record({ kind: fc.constant('register' as const), candidate, producer }),
      weight: 2,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('approve' as const), candidate, sender, producer }),
      weight: 6,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('withdraw' as const), candidate, producer }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('unjail' as const),
        validator: fc.nat({ max: 4 }),
        producer,
      }),
      weight: 1,
    },
  );

  it('changes only by approvals of more than two thirds of the validators, jailing, or unjailing', () => {
    // Senders of approvals: the five validators' operators, the three candidates', an outsider.
    const senders = [
      ...validators.map((v) => v.operator),
      ...candidates.map((c) => c.operator),
      outsider,
    ];
    // What the runs exercised, so the property cannot hold vacuously.
    const seen = { activated: 0, jailed: 0, unjailed: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc
          .array(step, { minLength: 10, maxLength: 50, size: 'max' })
          // Most runs start with a registration, so approvals have something to approve.
          .map((steps): Step[] => [{ kind: 'register', candidate: 0, producer: 0 }, ...steps]),
        (steps) => {
          const node = chainOf(5, {
            downtimeWindowHeights: 5,
            downtimeJailHeights: 3,
            activeProducersMax: 6,
          });
          // The reference model: approvals recorded per candidate, from the receipts.
          const approvals = new Map<string, Set<string>>();
          for (const s of steps) {
            const height = node.chain.height() + 1;
            const before = activeValidatorSet(node.store).members;
            // Producers able to sign the block: active, with a committed nonce at the height.
            const able = [...validators, ...candidates].filter((m) => {
              const record = getProducer(node.store, m.signer.producer);
              return (
                record?.status === 'active' &&
                record.nonceRanges.some(
                  (r) => height >= r.fromHeight && height < r.fromHeight + r.count,
                )
              );
            });
            if (able.length === 0 || height >= 64) return; // the chain ran out of signers: stop here
            const by = able[s.producer % able.length]!;
            let tx:
              { sender: TestAccount; type: string; payload: Record<string, unknown> } | undefined;
            let target: string | undefined;
            if (s.kind === 'register') {
              const c = candidates[s.candidate]!;
              tx = { sender: c.operator, type: 'producer.register', payload: registerPayload(c) };
            } else if (s.kind === 'approve') {
              target = candidates[s.candidate]!.signer.producer;
              tx = {
                sender: senders[s.sender]!,
                type: 'producer.approve',
                payload: { producer: target },
              };
            } else if (s.kind === 'withdraw') {
              const c = candidates[s.candidate]!;
              target = c.signer.producer;
              tx = { sender: c.operator, type: 'producer.withdraw', payload: { producer: target } };
            } else if (s.kind === 'unjail') {
              const v = validators[s.validator]!;
              target = v.signer.producer;
              tx = { sender: v.operator, type: 'producer.unjail', payload: { producer: target } };
            }
            const targetBefore = target === undefined ? undefined : getProducer(node.store, target);
            const decoded = tx && node.admit(tx.sender, tx.type, tx.payload);
            assert.ok(decoded === undefined || !isRejection(decoded));
            const block = produceBy(node, by, decoded ? [decoded] : []);
            const status = block.receipts[0]?.status;

            // Jailing, in beginBlock: only active producers leave that way.
            const jailed = new Set(
              block.blockEvents
                .filter((e) => e.type === 'producer.jailed')
                .map((e) => e.data.producer as string),
            );
            const beforeIds = new Set(before.map((m) => m.producer));
            for (const id of jailed) assert.ok(beforeIds.has(id), `jailed ${id} was active`);
            const afterJail = before.filter((m) => !jailed.has(m.producer));
            const operators = new Set(afterJail.map((m) => m.operator));

            // What the tx should have done, by the model.
            let added: string | undefined;
            if (s.kind === 'approve') {
              const recorded = approvals.get(target!) ?? new Set<string>();
              const sender = tx!.sender.address;
              const reached = (set: Set<string>) =>
                3 * [...set].filter((o) => operators.has(o)).length > 2 * operators.size;
              let expected: string;
              if (!targetBefore) expected = 'producer_not_found';
              else if (targetBefore.status !== 'pending') expected = 'producer_not_pending';
              else if (!operators.has(sender)) expected = 'not_validator_operator';
              else if (recorded.has(sender) && !reached(recorded)) expected = 'approval_duplicate';
              else if (afterJail.length >= 6) expected = 'active_set_full';
              else expected = 'ok';
              assert.equal(status, expected, `approve by ${sender}`);
              if (status === 'ok') {
                const next = new Set([...recorded, sender]);
                if (reached(next)) {
                  added = target;
                  approvals.delete(target!);
                } else approvals.set(target!, next);
              }
            } else if (s.kind === 'unjail' && status === 'ok') {
              added = target;
            } else if (s.kind === 'withdraw' && status === 'ok') {
              approvals.delete(target!);
            }

            seen.jailed += jailed.size;
            if (added && s.kind === 'approve') seen.activated += 1;
            if (added && s.kind === 'unjail') seen.unjailed += 1;
            if (s.kind === 'approve' && status !== 'ok') seen.refused += 1;

            // The set after the block is exactly the set after jailing plus what the tx activated.
            const after = activeValidatorSet(node.store).producers;
            const expectedSet = [
              ...afterJail.map((m) => m.producer),
              ...(added ? [added] : []),
            ].sort();
            assert.deepEqual(after, expectedSet, `${JSON.stringify(s)} at ${height}`);
          }
        },
      ),
      { numRuns: 40 },
    );
    assert.ok(
      seen.activated > 0 && seen.jailed > 0 && seen.refused > 0,
      `exercised: ${JSON.stringify(seen)}`,
    );
  });
});
