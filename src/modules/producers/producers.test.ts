import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

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
  Chain,
  GenesisError,
  InvalidBlockError,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  zeroHash,
  type BlockHeader,
  type Genesis,
} from '../../chain/index.js';
import {
  commitNonces,
  encryptHiddenInfo,
  signAtHeight,
  toHex,
  type AccountableSignature,
} from '../../crypto/index.js';
import { auditLedger, ledgerKeys, type AssetRecord } from '../../ledger/index.js';
import {
  escrowOf,
  getProducer,
  listProducers,
  nonceRangeHistory,
  producersModule,
  validateBlockSignature,
  type ProducerParams,
  type ProducersGenesis,
} from './index.js';

const chainId = 'coffer-producers';
const harness = new ModuleTestHarness({
  name: 'producers',
  chainId,
  registry: new ModuleRegistry([ledgerModule, producersModule]),
  validateBlock: validateBlockSignature,
});
after(() => harness.close());

const alice = testAccount(1);
const bob = testAccount(2);
const soloSigner = harness.signer;
/** A second producer, registered by alice in the tests. */
const second = new TestBlockSigner(new Uint8Array(32).fill(7), chainId, 16);
const secondInfo = { name: 'Second Producer Ltd', contact: 'ops@second.example' };

const params: ProducerParams = {
  bondAsset: 'USD',
  bondMin: '1000',
  unbondingPeriodHeights: 10,
  evidenceWindowHeights: 5,
  slashBurnBasisPoints: 2_500,
  nonceRangeHeightsMax: 64,
  nonceRangesAheadMax: 2,
};

function genesisWith(overrides: Partial<ProducerParams> = {}): Genesis {
  const hidden = encryptHiddenInfo(soloSigner.key.secretScalar, { name: 'solo' });
  const section: ProducersGenesis = {
    params: { ...params, ...overrides },
    producers: [
      {
        operator: bob.address,
        publicKey: toHex(soloSigner.key.publicKey),
        hiddenInfo: hidden.hiddenInfo,
        commitment: hidden.commitment,
        bond: '0',
        nonces: soloSigner.range(0),
      },
    ],
  };
  return harness.genesis({
    assets: [{ symbol: 'USD', decimals: 2, issuer: alice.address }],
    balances: [
      { address: alice.address, asset: 'USD', amount: '100000' },
      { address: bob.address, asset: 'USD', amount: '500' },
    ],
    modules: { producers: section },
  });
}

const newChain = (genesis = genesisWith()) => harness.open(genesis);
type Node = ModuleTestChain;

/** Runs one tx in its own block and returns its receipt status (or the admission rejection). */
function status(
  node: Node,
  sender: TestAccount,
  type: string,
  payload: Record<string, unknown>,
): string {
  const decoded = node.admit(sender, type, payload);
  if (isRejection(decoded)) return decoded.code;
  return node.produce([decoded]).receipts[0]!.status;
}

function registerPayload(node: Node, overrides: Record<string, unknown> = {}) {
  const hidden = encryptHiddenInfo(second.key.secretScalar, secondInfo);
  const from = node.chain.height() + 2;
  const range = commitNonces(second.key.nonceSecret, chainId, from, 16);
  return {
    publicKey: toHex(second.key.publicKey),
    hiddenInfo: hidden.hiddenInfo,
    commitment: hidden.commitment,
    bond: '4000',
    nonces: { fromHeight: from, count: 16, root: range.root },
    ...overrides,
  };
}

/** Registers `second` (operated by alice) and has bob, the one validator's operator, approve it. */
function registerApproved(node: Node): void {
  assert.equal(status(node, alice, 'producer.register', registerPayload(node)), 'ok');
  assert.equal(status(node, bob, 'producer.approve', { producer: second.producer }), 'ok');
  assert.equal(getProducer(node.store, second.producer)?.status, 'active');
}

function usd(node: Node, address: string): bigint {
  const text = node.store.get(ledgerKeys.account(address));
  return BigInt(
    text ? ((JSON.parse(text) as { balances: Record<string, string> }).balances.USD ?? '0') : '0',
  );
}

function supply(node: Node): bigint {
  return BigInt((JSON.parse(node.store.get(ledgerKeys.asset('USD'))!) as AssetRecord).supply);
}

function header(node: Node, height: number, stateRoot: string): BlockHeader {
  return {
    chainId,
    height,
    prevHash: zeroHash,
    time: genesisTime,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot,
    producer: second.producer,
  };
}

function signedHeader(node: Node, height: number, stateRoot: string, key = second.key) {
  const h = header(node, height, stateRoot);
  const signature: AccountableSignature = signAtHeight(
    key,
    chainId,
    height,
    blockSigningMessage(blockHash(h)),
  );
  return { header: h, signature };
}

describe('producer registry genesis', () => {
  it('registers the genesis producer with its first nonce range', () => {
    const node = newChain();
    const [record] = listProducers(node.store);
    assert.equal(record?.id, soloSigner.producer);
    assert.equal(record?.status, 'active');
    assert.equal(record?.operator, bob.address);
    assert.deepEqual(record?.nonceRanges, [soloSigner.range(0)]);
    assert.equal(node.chain.latest().header.producer, soloSigner.producer);
    // The history: the genesis range, committed by no tx, at height 0.
    assert.deepEqual(nonceRangeHistory(node.store, soloSigner.producer), [
      { ...soloSigner.range(0), tx: null, committedAtHeight: 0 },
    ]);
  });

  it('refuses an unbonding period that does not exceed the evidence window', () => {
    const store = harness.emptyStore();
    assert.throws(
      () =>
        Chain.initialize(
          store,
          genesisWith({ unbondingPeriodHeights: 5, evidenceWindowHeights: 5 }),
          soloSigner,
          harness.registry.modules,
        ),
      GenesisError,
    );
    store.close();
  });
});

describe('block signatures against the registry', () => {
  it('a block signed with a nonce outside the committed range is invalid and not stored', () => {
    const node = newChain();
    // Same key, nonces committed in other ranges: R for height 1 is right but its proof is not.
    const stray = new TestBlockSigner(soloSigner.seed, chainId, 32);
    assert.throws(() => node.chain.produce([], genesisTime + 1000, stray), InvalidBlockError);
    assert.equal(node.store.lastHeight(), 0);
  });

  it('a block by an unregistered producer is invalid', () => {
    const node = newChain();
    assert.throws(() => node.chain.produce([], genesisTime + 1000, second), /not registered/);
    node.produce([]);
    assert.equal(node.store.lastHeight(), 1);
  });
});

describe('producer.register', () => {
  it('holds the bond in escrow and records the producer, pending approval', () => {
    const node = newChain();
    const before = usd(node, alice.address);
    assert.equal(status(node, alice, 'producer.register', registerPayload(node)), 'ok');
    const record = getProducer(node.store, second.producer)!;
    assert.equal(record.status, 'pending');
    assert.deepEqual(record.approvals, []);
    assert.equal(record.operator, alice.address);
    assert.equal(record.bond, '4000');
    assert.equal(usd(node, escrowOf(second.producer)), 4000n);
    assert.equal(usd(node, alice.address), before - 4000n);
  });

  it('rejections, in precedence order', () => {
    const node = newChain();
    const cases: [string, Record<string, unknown>, string][] = [
      ['invalid_public_key', { publicKey: '00'.repeat(32) }, 'parse'],
      ['invalid_hidden_info', { hiddenInfo: 'xyz' }, 'parse'],
      ['invalid_commitment', { commitment: 'ab' }, 'parse'],
      ['invalid_amount', { bond: '-1' }, 'parse'],
      ['invalid_nonce_range', { nonces: { fromHeight: 3, count: 0, root: zeroHash } }, 'parse'],
      ['bond_too_low', { bond: '999' }, 'execute'],
      [
        'nonce_range_too_large',
        { nonces: { fromHeight: 50, count: 65, root: zeroHash } },
        'execute',
      ],
      ['nonce_range_in_past', { nonces: { fromHeight: 1, count: 16, root: zeroHash } }, 'execute'],
      ['insufficient_funds', { bond: '1000000' }, 'execute'],
    ];
    for (const [code, overrides] of cases) {
      assert.equal(
        status(node, alice, 'producer.register', registerPayload(node, overrides)),
        code,
        code,
      );
    }
    assert.equal(status(node, alice, 'producer.register', registerPayload(node)), 'ok');
    assert.equal(
      status(node, alice, 'producer.register', registerPayload(node)),
      'producer_exists',
    );
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  });
});

describe('producer.commitNonces and producer.unbond', () => {
  it('commits contiguous ranges, ahead of time, only by the operator', () => {
    const node = newChain();
    // Pending: it keeps its nonces ahead for the day it is approved.
    assert.equal(status(node, alice, 'producer.register', registerPayload(node)), 'ok');
    const first = getProducer(node.store, second.producer)!.nonceRanges[0]!;
    const next = first.fromHeight + first.count;
    const range = (fromHeight: number) => ({
      producer: second.producer,
      fromHeight,
      count: 16,
      root: commitNonces(second.key.nonceSecret, chainId, fromHeight, 16).root,
    });
    assert.equal(
      status(node, alice, 'producer.commitNonces', { ...range(next), producer: bob.address }),
      'producer_not_found',
    );
    assert.equal(status(node, bob, 'producer.commitNonces', range(next)), 'not_producer_operator');
    assert.equal(
      status(node, alice, 'producer.commitNonces', range(next + 1)),
      'nonce_range_not_contiguous',
    );
    assert.equal(status(node, alice, 'producer.commitNonces', range(next)), 'ok');
    // Two ranges wholly ahead of the current height are the most nonceRangesAheadMax allows.
    assert.equal(status(node, alice, 'producer.commitNonces', range(next + 16)), 'ok');
    assert.equal(
      status(node, alice, 'producer.commitNonces', range(next + 32)),
      'too_many_nonce_ranges',
    );
    assert.deepEqual(
      getProducer(node.store, second.producer)!.nonceRanges.map((r) => r.fromHeight),
      [first.fromHeight, next, next + 16],
    );
    // Every accepted range is in the history, with the tx and height that committed it; the
    // refused ones are not. The history outlives pruning: it is what verifiers of old headers read.
    const history = nonceRangeHistory(node.store, second.producer);
    assert.deepEqual(
      history.map((r) => [r.fromHeight, r.count, r.root]),
      [
        [first.fromHeight, first.count, first.root],
        [next, 16, range(next).root],
        [next + 16, 16, range(next + 16).root],
      ],
    );
    for (const entry of history) {
      assert.match(entry.tx ?? '', /^[0-9a-f]{64}$/);
      const stored = node.store.getTx(entry.tx!)!;
      assert.equal(stored.height, entry.committedAtHeight);
      assert.equal((JSON.parse(stored.receipt) as { status: string }).status, 'ok');
    }
    assert.deepEqual(
      nonceRangeHistory(node.store, second.producer, next + 16).map((r) => r.fromHeight),
      [next + 16],
      'paged from a height',
    );
    assert.equal(
      status(node, alice, 'producer.commitNonces', {
        ...range(node.chain.height() + 1),
        fromHeight: node.chain.height(),
      }),
      'nonce_range_in_past',
    );
  });

  it('unbonding returns the bond after the unbonding period, and the producer stops', () => {
    const node = newChain();
    assert.equal(status(node, alice, 'producer.register', registerPayload(node)), 'ok');
    assert.equal(
      status(node, alice, 'producer.unbond', { producer: second.producer }),
      'producer_not_active',
      'a pending producer is withdrawn, not unbonded',
    );
    assert.equal(status(node, bob, 'producer.approve', { producer: second.producer }), 'ok');
    const before = usd(node, alice.address);
    assert.equal(
      status(node, bob, 'producer.unbond', { producer: second.producer }),
      'not_producer_operator',
    );
    assert.equal(status(node, alice, 'producer.unbond', { producer: second.producer }), 'ok');
    const record = getProducer(node.store, second.producer)!;
    assert.equal(record.status, 'unbonding');
    assert.equal(record.unbondAtHeight, node.chain.height() + params.unbondingPeriodHeights);
    assert.equal(
      status(node, alice, 'producer.unbond', { producer: second.producer }),
      'producer_not_active',
    );
    while (node.chain.height() < record.unbondAtHeight - 1) node.produce([]);
    assert.equal(usd(node, alice.address), before, 'still bonded the block before');
    node.produce([]);
    assert.equal(usd(node, alice.address), before + 4000n);
    assert.equal(getProducer(node.store, second.producer)!.status, 'unbonded');
    assert.equal(usd(node, escrowOf(second.producer)), 0n);
  });
});

describe('evidence.equivocation', () => {
  function registered() {
    const node = newChain();
    registerApproved(node);
    return node;
  }

  it('jails the producer, slashes its bond (burned share and reward) and reveals its info', () => {
    const node = registered();
    const height = node.chain.height() + 1;
    const a = signedHeader(node, height, 'aa'.repeat(32));
    const b = signedHeader(node, height, 'bb'.repeat(32));
    const supplyBefore = supply(node);
    const bobBefore = usd(node, bob.address);
    const decoded = node.admit(bob, 'evidence.equivocation', { a, b });
    assert.ok(!('code' in decoded));
    const [receipt] = node.produce([decoded]).receipts;
    assert.equal(receipt?.status, 'ok');
    const record = getProducer(node.store, second.producer)!;
    assert.equal(record.status, 'jailed');
    assert.equal(record.bond, '0');
    assert.deepEqual(record.equivocation?.info, secondInfo);
    assert.equal(record.equivocation?.infoRevealed, true);
    assert.equal(record.equivocation?.burned, '1000'); // 25% of 4000
    assert.equal(record.equivocation?.reward, '3000');
    assert.equal(usd(node, bob.address), bobBefore + 3000n);
    assert.equal(supply(node), supplyBefore - 1000n);
    assert.equal(usd(node, escrowOf(second.producer)), 0n);
    const event = receipt.events.find((e) => e.type === 'producer.equivocated');
    assert.deepEqual(event?.data.info, secondInfo);
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);

    // The same equivocation again, in either order, is a duplicate.
    assert.equal(status(node, bob, 'evidence.equivocation', { a: b, b: a }), 'evidence_duplicate');

    // Another equivocation at another height keeps the first slashing's record.
    const c = signedHeader(node, height + 1, 'cc'.repeat(32));
    const d = signedHeader(node, height + 1, 'dd'.repeat(32));
    assert.equal(
      status(node, bob, 'evidence.equivocation', { a: c, b: d }),
      'producer_already_jailed',
    );
    assert.equal(getProducer(node.store, second.producer)?.equivocation?.slashed, '4000');
  });

  it('rejections, in precedence order', () => {
    const node = registered();
    const height = node.chain.height() + 1;
    const a = signedHeader(node, height, 'aa'.repeat(32));
    const b = signedHeader(node, height, 'bb'.repeat(32));
    const atOther = signedHeader(node, height + 1, 'bb'.repeat(32));
    const tampered = { ...b, header: { ...b.header, stateRoot: 'cc'.repeat(32) } };
    // Same key, another nonce secret: a valid signature at the height that shares no nonce.
    const freshNonce = signedHeader(node, height, 'dd'.repeat(32), {
      ...second.key,
      nonceSecret: new Uint8Array(32).fill(5),
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ a, b: { header: b.header } }, 'invalid_evidence'],
      [{ a, b: a }, 'invalid_evidence'],
      [{ a, b: atOther }, 'invalid_evidence'],
      [{ a, b: tampered }, 'evidence_bad_signature'],
      [{ a, b: freshNonce }, 'evidence_no_secret'],
    ];
    for (const [payload, code] of cases) {
      assert.equal(status(node, bob, 'evidence.equivocation', payload), code, code);
    }
    // Evidence about a height more than evidenceWindowHeights below the current one.
    const old = signedHeader(node, 1, 'aa'.repeat(32));
    const oldB = signedHeader(node, 1, 'bb'.repeat(32));
    while (node.chain.height() < 1 + params.evidenceWindowHeights) node.produce([]);
    assert.equal(
      status(node, bob, 'evidence.equivocation', { a: old, b: oldB }),
      'evidence_too_old',
    );
    assert.equal(getProducer(node.store, second.producer)!.status, 'active');
  });

  it('an unregistered producer is producer_not_found', () => {
    const node = newChain();
    const a = signedHeader(node, 3, 'aa'.repeat(32));
    const b = signedHeader(node, 3, 'bb'.repeat(32));
    assert.equal(status(node, bob, 'evidence.equivocation', { a, b }), 'producer_not_found');
  });
});

describe('a bond return the ledger refuses', () => {
  it('a frozen operator at the unbonding height: no halt, the bond is owed, claimed after the unfreeze', () => {
    const node = newChain();
    const carol = testAccount(3);
    assert.equal(
      status(node, alice, 'ledger.transfer', { to: carol.address, asset: 'USD', amount: '5000' }),
      'ok',
    );
    assert.equal(status(node, carol, 'producer.register', registerPayload(node)), 'ok');
    assert.equal(status(node, bob, 'producer.approve', { producer: second.producer }), 'ok');
    assert.equal(status(node, carol, 'producer.unbond', { producer: second.producer }), 'ok');
    const { unbondAtHeight } = getProducer(node.store, second.producer)!;
    // The bond asset's issuer freezes the operator while its bond is unbonding.
    assert.equal(
      status(node, alice, 'asset.freeze', { symbol: 'USD', account: carol.address }),
      'ok',
    );
    const carolBefore = usd(node, carol.address);
    node.until(unbondAtHeight!);
    // The block at the unbonding height commits (today's beginBlock threw here, every time).
    const block = node.produce([]);
    assert.equal(block.block.header.height, unbondAtHeight);
    const blocked = block.blockEvents.find((e) => e.type === 'producer.bondBlocked');
    assert.deepEqual(blocked?.data, {
      producer: second.producer,
      operator: carol.address,
      bond: '4000',
      code: 'account_frozen',
    });
    const owed = getProducer(node.store, second.producer)!;
    assert.equal(owed.status, 'unbonded');
    assert.equal(owed.bond, '0');
    assert.equal(owed.bondOwed, '4000');
    assert.equal(usd(node, escrowOf(second.producer)), 4000n, 'the bond waits in escrow');
    assert.equal(usd(node, carol.address), carolBefore);
    // The chain goes on, and the claim waits for the unfreeze.
    node.produce([]);
    assert.equal(
      status(node, carol, 'producer.claimBond', { producer: second.producer }),
      'account_frozen',
    );
    assert.equal(
      status(node, bob, 'producer.claimBond', { producer: second.producer }),
      'not_producer_operator',
    );
    assert.equal(
      status(node, alice, 'asset.unfreeze', { symbol: 'USD', account: carol.address }),
      'ok',
    );
    assert.equal(status(node, carol, 'producer.claimBond', { producer: second.producer }), 'ok');
    assert.equal(usd(node, carol.address), carolBefore + 4000n);
    assert.equal(usd(node, escrowOf(second.producer)), 0n);
    assert.equal(getProducer(node.store, second.producer)!.bondOwed, undefined);
    assert.equal(
      status(node, carol, 'producer.claimBond', { producer: second.producer }),
      'no_bond_owed',
    );
    assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  });
});
