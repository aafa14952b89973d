import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import Database from 'better-sqlite3';
import fc from 'fast-check';

import {
  addressFromPublicKey,
  canonicalize,
  keyPairFromSecret,
  sha256Hex,
  type KeyPair,
} from '../crypto/index.js';
import { auditLedger, emptyAccount, ledgerKeys, type AccountRecord } from '../ledger/index.js';
import { ParsedRecordCache, SqliteBlockStore } from '../state/index.js';
import { TestBlockSigner } from '../../test/support/block-signer.js';
import {
  decodeBlockSignature,
  signBlockHeader,
  verifyBlockSignature,
  type BlockHeader,
  type SignedBlock,
} from './block.js';
import { Chain, UnsupportedProtocolError } from './chain.js';
import { executeBlock, InvalidBlockError } from './execute.js';
import type { Genesis } from './genesis.js';
import { ledgerModule } from './ledger-module.js';
import { defineTx, type ChainModule } from './module.js';
import { ModuleRegistry } from './registry.js';
import { decodeTx, isRejection, signTx, type DecodedTx, type SignedTx } from './tx.js';

// ---- fixtures ------------------------------------------------------------------------------

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-execute-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
let files = 0;
function newFile(): string {
  files += 1;
  return path.join(directory, `chain-${files}.db`);
}

interface Account extends KeyPair {
  address: string;
}
function account(seed: number): Account {
  const pair = keyPairFromSecret(new Uint8Array(32).fill(seed));
  return { ...pair, address: addressFromPublicKey(pair.publicKey) };
}

/** 0 issues USD, 1 issues EUR; 4 is in no genesis balance. */
const users = [account(1), account(2), account(3), account(4), account(5)];
const [usdIssuer, eurIssuer, carol, dave, stranger] = users as [
  Account,
  Account,
  Account,
  Account,
  Account,
];
const producer = new TestBlockSigner(new Uint8Array(32).fill(99), 'coffer-test');

const chainId = 'coffer-test';
const genesisTime = 1_700_000_000_000;
const genesis: Genesis = {
  chainId,
  time: genesisTime,
  producer: producer.producer,
  assets: [
    { symbol: 'USD', decimals: 2, issuer: usdIssuer.address },
    { symbol: 'EUR', decimals: 2, issuer: eurIssuer.address, maxSupply: '100000' },
  ],
  balances: [
    { address: usdIssuer.address, asset: 'USD', amount: '10000' },
    { address: eurIssuer.address, asset: 'USD', amount: '5000' },
    { address: carol.address, asset: 'USD', amount: '5000' },
    { address: dave.address, asset: 'USD', amount: '5000' },
    { address: carol.address, asset: 'EUR', amount: '3000' },
  ],
};

const preimage = 'c0ffee';
const condition = sha256Hex(Buffer.from(preimage, 'hex'));

/**
 * A test module whose one tx runs a list of steps for real (module state, ledger transfers and
 * holds, events) and then ends as told: `ok`, a rejection, a thrown Error or a failed assertion.
 * It is how these tests reach the kernel's snapshot-and-restore with writes to undo.
 */
type ProbeStep =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'delete'; key: string }
  /** A write of any key as text, past the ledger (how a buggy module would write a balance). */
  | { kind: 'raw'; key: string; value: string }
  | { kind: 'transfer'; to: string; amount: string }
  | { kind: 'hold'; to: string; amount: string };
type ProbeOutcome = 'ok' | 'reject' | 'throw' | 'assert' | 'bad-event';
interface ProbePayload {
  steps: ProbeStep[];
  outcome: ProbeOutcome;
}

const probeModule: ChainModule = {
  name: 'probe',
  rejections: { probe_refused: 'The probe refused after writing.' },
  txs: {
    'probe.run': defineTx<ProbePayload>({
      parse: (payload) => ({ value: payload }),
      execute: (ctx, p) => {
        p.steps.forEach((step, index) => {
          switch (step.kind) {
            case 'set':
              ctx.state.set(`probe/${step.key}`, step.value);
              break;
            case 'delete':
              ctx.state.delete(`probe/${step.key}`);
              break;
            case 'raw':
              ctx.state.set(step.key, step.value);
              break;
            case 'transfer':
              ctx.ledger.transfer(ctx.sender, step.to, 'USD', BigInt(step.amount));
              break;
            case 'hold':
              ctx.ledger.createHold(
                {
                  id: sha256Hex(`${ctx.txHash}/${index}`),
                  payer: ctx.sender,
                  payee: step.to,
                  asset: 'USD',
                  amount: BigInt(step.amount),
                  expiresAtHeight: ctx.height + 2,
                },
                ctx.height,
              );
              break;
          }
          ctx.emit('probe.step', { index, kind: step.kind });
        });
        if (p.outcome === 'reject') return 'probe_refused';
        if (p.outcome === 'throw') throw new Error('probe exploded');
        if (p.outcome === 'assert') assert.fail('probe broke an invariant');
        if (p.outcome === 'bad-event') ctx.emit('probe.bad', { amount: 1n });
        return undefined;
      },
    }),
  },
};

const registry = new ModuleRegistry([ledgerModule, probeModule]);

interface Node {
  file: string;
  store: SqliteBlockStore;
  chain: Chain;
  logged: string[];
}

function newNode(): Node {
  const file = newFile();
  const store = new SqliteBlockStore(file);
  Chain.initialize(store, genesis, producer);
  const logged: string[] = [];
  const chain = new Chain(store, registry, (message, error) =>
    logged.push(`${message}: ${error instanceof Error ? error.message : String(error)}`),
  );
  return { file, store, chain, logged };
}

function signed(
  sender: Account,
  nonce: number,
  type: string,
  payload: Record<string, unknown>,
  expiresAt?: number,
): DecodedTx {
  const tx = signTx(
    {
      chainId,
      type,
      sender: sender.address,
      nonce,
      payload,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    },
    sender.secretKey,
  );
  const decoded = decodeTx(tx, chainId, registry.parserFor);
  if (isRejection(decoded))
    assert.fail(`test tx does not decode: ${decoded.code} ${decoded.field ?? ''}`);
  return decoded;
}

/** Signs with the sender's next committed nonce. */
function next(
  node: Node,
  sender: Account,
  type: string,
  payload: Record<string, unknown>,
  expiresAt?: number,
): DecodedTx {
  return signed(sender, node.chain.nonceOf(sender.address), type, payload, expiresAt);
}

function state(store: SqliteBlockStore): Map<string, string> {
  return new Map(store.scan(''));
}

function audit(store: SqliteBlockStore): string[] {
  return auditLedger((prefix) => store.scan(prefix)).problems;
}

function accountOf(text: string | undefined): AccountRecord {
  return text === undefined ? emptyAccount() : (JSON.parse(text) as AccountRecord);
}

/**
 * Asserts that `after` equals `before` in every state row but the sender's account, and that the
 * sender's account differs only by a nonce one higher.
 */
function assertOnlyNonceMoved(
  before: Map<string, string>,
  after: Map<string, string>,
  sender: string,
): void {
  const senderKey = ledgerKeys.account(sender);
  const others = (s: Map<string, string>) => [...s].filter(([key]) => key !== senderKey);
  assert.deepEqual(others(after), others(before), 'no row but the sender account changed');
  const was = accountOf(before.get(senderKey));
  assert.deepEqual(accountOf(after.get(senderKey)), { ...was, nonce: was.nonce + 1 });
}

/** A replica: the same genesis, then every stored block of `source` replayed through execute and commit. */
function replay(source: SqliteBlockStore): Node {
  const replica = newNode();
  assert.equal(replica.store.getBlock(0)?.hash, source.getBlock(0)?.hash, 'same genesis block');
  for (let height = 1; height <= source.lastHeight(); height++) {
    const stored = source.getBlock(height)!;
    const header = JSON.parse(stored.header) as BlockHeader;
    const block: SignedBlock = {
      header,
      hash: stored.hash,
      signature: decodeBlockSignature(stored.signature),
    };
    assert.ok(verifyBlockSignature(block));
    const storedTxs = source.getTxs(height);
    const txs = storedTxs.map((t) => {
      const decoded = decodeTx(JSON.parse(t.body) as SignedTx, chainId, registry.parserFor);
      assert.ok(!isRejection(decoded));
      assert.equal(decoded.hash, t.hash);
      return decoded;
    });
    const result = replica.chain.execute(txs, header.time, false);
    assert.equal(result.time, header.time);
    assert.deepEqual(result.dropped, []);
    assert.equal(result.stateRoot, header.stateRoot, `stateRoot at ${height}`);
    assert.equal(result.txRoot, header.txRoot, `txRoot at ${height}`);
    assert.equal(result.receiptRoot, header.receiptRoot, `receiptRoot at ${height}`);
    assert.deepEqual(
      result.receipts.map((r) => canonicalize(r)),
      storedTxs.map((t) => t.receipt),
      `receipts at ${height}`,
    );
    replica.chain.commit(block, result);
  }
  return replica;
}

// ---- random blocks ---------------------------------------------------------------------------

const senderIndex = fc.integer({ min: 0, max: users.length - 1 });
const symbol = fc.constantFrom('USD', 'USD', 'USD', 'EUR', 'NOPE');
const smallAmount = fc.integer({ min: 1, max: 3000 }).map(String);

type TxPlan =
  | { kind: 'transfer'; to: number; asset: string; amount: string }
  | { kind: 'mint'; asset: string; to: number; amount: string; byIssuer: boolean }
  | { kind: 'burn'; asset: string; amount: string; byIssuer: boolean }
  | { kind: 'createAsset'; asset: string; decimals: number }
  | { kind: 'freeze'; asset: string; account: number; frozen: boolean; byIssuer: boolean }
  | {
      kind: 'holdCreate';
      to: number;
      asset: string;
      amount: string;
      expiryOffset: number;
      arbiter?: number;
      locked: boolean;
    }
  | { kind: 'holdPost'; ref: number; amount?: string; byParty: boolean }
  | { kind: 'holdVoid'; ref: number; byParty: boolean }
  | { kind: 'holdRelease'; ref: number; right: boolean }
  | { kind: 'probe'; steps: ProbeStep[]; outcome: Exclude<ProbeOutcome, 'assert' | 'bad-event'> };

const probeStep: fc.Arbitrary<ProbeStep> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    value: fc.string({ maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({
    kind: fc.constant('transfer' as const),
    to: senderIndex.map((i) => users[i]!.address),
    amount: fc.integer({ min: 1, max: 800 }).map(String),
  }),
  fc.record({
    kind: fc.constant('hold' as const),
    to: senderIndex.map((i) => users[i]!.address),
    amount: fc.integer({ min: 1, max: 800 }).map(String),
  }),
);

/** Three times in four: the plan's sender is replaced by the one entitled to act. */
const mostly = fc.constantFrom(true, true, true, false);

const txPlan: fc.Arbitrary<TxPlan> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('transfer' as const),
      to: senderIndex,
      asset: symbol,
      amount: smallAmount,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('mint' as const),
      asset: symbol,
      to: senderIndex,
      amount: smallAmount,
      byIssuer: mostly,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('burn' as const),
      asset: symbol,
      amount: smallAmount,
      byIssuer: mostly,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('createAsset' as const),
      asset: fc.constantFrom('GBP', 'USD'),
      decimals: fc.constantFrom(0, 2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('freeze' as const),
      asset: symbol,
      account: senderIndex,
      frozen: fc.boolean(),
      byIssuer: mostly,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        kind: fc.constant('holdCreate' as const),
        to: senderIndex,
        asset: symbol,
        amount: fc.integer({ min: 1, max: 2000 }).map(String),
        expiryOffset: fc.integer({ min: 0, max: 3 }),
        arbiter: senderIndex,
        locked: fc.boolean(),
      },
      { requiredKeys: ['kind', 'to', 'asset', 'amount', 'expiryOffset', 'locked'] },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        kind: fc.constant('holdPost' as const),
        ref: fc.nat(),
        amount: fc.integer({ min: 1, max: 1500 }).map(String),
        byParty: mostly,
      },
      { requiredKeys: ['kind', 'ref', 'byParty'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('holdVoid' as const),
      ref: fc.nat(),
      byParty: mostly,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('holdRelease' as const),
      ref: fc.nat(),
      right: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('probe' as const),
      steps: fc.array(probeStep, { maxLength: 4 }),
      outcome: fc.constantFrom('ok' as const, 'reject' as const, 'throw' as const),
    }),
  },
);

interface SignedPlan {
  sender: number;
  plan: TxPlan;
  /** Signs a nonce past the sender's next: the producer must drop it. */
  staleNonce: boolean;
  /** 0: no expiry; 1: expires at the block time (still valid); 2: expired before the block. */
  expiry: 0 | 1 | 2;
}

const signedPlan: fc.Arbitrary<SignedPlan> = fc.record({
  sender: senderIndex,
  plan: txPlan,
  staleNonce: fc.constantFrom(false, false, false, false, false, false, false, true),
  expiry: fc.constantFrom<0 | 1 | 2>(0, 0, 0, 0, 0, 0, 0, 0, 1, 2),
});

const blockPlan = fc.record({
  /** Milliseconds after the previous block; negative asks for a time before the head (clamped). */
  delta: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constant(-1000)),
  txs: fc.array(signedPlan, { maxLength: 10, size: 'max' }),
});

/** A hold that was really created, and who may act on it. */
interface HoldRef {
  id: string;
  payee: number;
  arbiter: number | undefined;
}

const issuerIndex: Record<string, number> = { USD: 0, EUR: 1 };

/**
 * The signed tx for a plan: its sender (the planned one, or the one entitled to act) and payload.
 * Hold operations with no hold yet to act on become transfers.
 */
function txOf(
  senderPlanned: number,
  plan: TxPlan,
  height: number,
  holds: HoldRef[],
): { sender: number; type: string; payload: Record<string, unknown> } {
  const hold = (ref: number) => holds[ref % holds.length]!;
  const issuerOr = (byIssuer: boolean, asset: string) =>
    byIssuer ? (issuerIndex[asset] ?? senderPlanned) : senderPlanned;
  if (
    (plan.kind === 'holdPost' || plan.kind === 'holdVoid' || plan.kind === 'holdRelease') &&
    holds.length === 0
  ) {
    plan = {
      kind: 'transfer',
      to: (senderPlanned + 1) % users.length,
      asset: 'USD',
      amount: '100',
    };
  }
  switch (plan.kind) {
    case 'transfer':
      return {
        sender: senderPlanned,
        type: 'ledger.transfer',
        payload: { to: users[plan.to]!.address, asset: plan.asset, amount: plan.amount },
      };
    case 'mint':
      return {
        sender: issuerOr(plan.byIssuer, plan.asset),
        type: 'asset.mint',
        payload: { symbol: plan.asset, to: users[plan.to]!.address, amount: plan.amount },
      };
    case 'burn':
      return {
        sender: issuerOr(plan.byIssuer, plan.asset),
        type: 'asset.burn',
        payload: { symbol: plan.asset, amount: plan.amount },
      };
    case 'createAsset':
      return {
        sender: senderPlanned,
        type: 'asset.create',
        payload: { symbol: plan.asset, decimals: plan.decimals },
      };
    case 'freeze':
      return {
        sender: issuerOr(plan.byIssuer, plan.asset),
        type: plan.frozen ? 'asset.freeze' : 'asset.unfreeze',
        payload: { symbol: plan.asset, account: users[plan.account]!.address },
      };
    case 'holdCreate':
      return {
        sender: senderPlanned,
        type: 'hold.create',
        payload: {
          to: users[plan.to]!.address,
          asset: plan.asset,
          amount: plan.amount,
          expiresAtHeight: height + plan.expiryOffset,
          ...(plan.arbiter === undefined ? {} : { arbiter: users[plan.arbiter]!.address }),
          ...(plan.locked ? { condition } : {}),
        },
      };
    case 'holdPost': {
      const h = hold(plan.ref);
      return {
        sender: plan.byParty ? (h.arbiter ?? h.payee) : senderPlanned,
        type: 'hold.post',
        payload: { holdId: h.id, ...(plan.amount === undefined ? {} : { amount: plan.amount }) },
      };
    }
    case 'holdVoid': {
      const h = hold(plan.ref);
      return {
        sender: plan.byParty ? h.payee : senderPlanned,
        type: 'hold.void',
        payload: { holdId: h.id },
      };
    }
    case 'holdRelease':
      return {
        sender: senderPlanned,
        type: 'hold.release',
        payload: { holdId: hold(plan.ref).id, preimage: plan.right ? preimage : 'dead' },
      };
    case 'probe':
      return {
        sender: senderPlanned,
        type: 'probe.run',
        payload: { steps: plan.steps, outcome: plan.outcome },
      };
  }
}

describe('headers (protocol v2)', () => {
  it('count the txs of their block, and the count is signed', () => {
    const node = newNode();
    try {
      assert.equal(node.chain.latest().header.txCount, 0, 'genesis holds no tx');
      const txs = [0, 1, 2].map((nonce) =>
        signed(carol, nonce, 'ledger.transfer', { to: dave.address, asset: 'USD', amount: '1' }),
      );
      const { block } = node.chain.produce(txs, genesisTime + 1, producer);
      assert.equal(block.header.txCount, 3);
      assert.ok(verifyBlockSignature(block));
      const recounted = { ...block, header: { ...block.header, txCount: 4 } };
      assert.equal(verifyBlockSignature(recounted), false, 'a changed count breaks the hash');
      const stored = node.store.getBlock(1)!;
      assert.equal((JSON.parse(stored.header) as BlockHeader).txCount, 3);
    } finally {
      node.store.close();
    }
  });

  it('a commit whose header miscounts its txs is a broken invariant', () => {
    const node = newNode();
    try {
      const tx = signed(carol, 0, 'ledger.transfer', {
        to: dave.address,
        asset: 'USD',
        amount: '1',
      });
      const result = node.chain.execute([tx], genesisTime + 1);
      const head = node.chain.latest();
      const header: BlockHeader = {
        chainId,
        height: 1,
        prevHash: head.hash,
        time: result.time,
        txCount: 2,
        txRoot: result.txRoot,
        receiptRoot: result.receiptRoot,
        stateRoot: result.stateRoot,
        producer: producer.producer,
      };
      assert.throws(
        () => node.chain.commit(signBlockHeader(header, producer), result),
        /count the executed txs/,
      );
      assert.equal(node.store.lastHeight(), 0, 'nothing was stored');
    } finally {
      node.store.close();
    }
  });

  it('a store written by protocol v1 (no txCount) is refused with unsupported_protocol', () => {
    const node = newNode();
    const { txCount: _dropped, ...v1Header } = node.chain.latest().header;
    node.store.close();
    const db = new Database(node.file);
    db.prepare('UPDATE blocks SET header = ? WHERE height = 0').run(canonicalize(v1Header));
    db.close();
    const store = new SqliteBlockStore(node.file);
    try {
      assert.throws(
        () => new Chain(store, registry),
        (error: unknown) =>
          error instanceof UnsupportedProtocolError &&
          error.code === 'unsupported_protocol' &&
          /protocol v1/.test(error.message) &&
          /new chain/.test(error.message),
      );
    } finally {
      store.close();
    }
  });
});

describe('block execution against a real SQLite store', () => {
  it('replaying the stored blocks on a fresh store reproduces every root; supply is conserved after every block (property)', () => {
    const statuses = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(blockPlan, { minLength: 1, maxLength: 6, size: 'max' }), (blocks) => {
        const node = newNode();
        const holdRefs: HoldRef[] = [];
        try {
          for (const plan of blocks) {
            const height = node.chain.height() + 1;
            const headTime = node.chain.latest().header.time;
            const time = headTime + plan.delta;
            const blockTime = Math.max(time, headTime);
            const nonces = new Map(users.map((u) => [u.address, node.chain.nonceOf(u.address)]));
            const stale = new Set<string>();
            const txs = plan.txs.map((p) => {
              const {
                sender: senderIndex,
                type,
                payload,
              } = txOf(p.sender, p.plan, height, holdRefs);
              const sender = users[senderIndex]!;
              const nonce = nonces.get(sender.address)!;
              if (!p.staleNonce) nonces.set(sender.address, nonce + 1);
              const expiresAt =
                p.expiry === 0 ? undefined : p.expiry === 1 ? blockTime : blockTime - 1;
              const decoded = signed(
                sender,
                p.staleNonce ? nonce + 5 : nonce,
                type,
                payload,
                expiresAt,
              );
              if (p.staleNonce) stale.add(decoded.hash);
              return decoded;
            });

            const committed = node.chain.produce(txs, time, producer);
            assert.equal(committed.block.header.height, height);
            assert.equal(committed.block.header.time, blockTime, 'block time never goes backwards');
            assert.deepEqual(
              new Set(committed.dropped.map((d) => d.hash)),
              stale,
              'exactly the stale nonces are dropped',
            );
            assert.deepEqual(
              committed.txs.map((d) => d.hash),
              txs.filter((d) => !stale.has(d.hash)).map((d) => d.hash),
            );
            // Later blocks post, void and release the holds that were really created.
            for (const [index, d] of committed.txs.entries()) {
              if (d.tx.type === 'hold.create' && committed.receipts[index]?.status === 'ok') {
                const payload = d.tx.payload as { to: string; arbiter?: string };
                const indexOf = (address: string) => users.findIndex((u) => u.address === address);
                holdRefs.push({
                  id: d.hash,
                  payee: indexOf(payload.to),
                  arbiter: payload.arbiter === undefined ? undefined : indexOf(payload.arbiter),
                });
              }
            }
            committed.receipts.forEach((receipt, index) => {
              const p = plan.txs.filter((t, i) => !stale.has(txs[i]!.hash))[index]!;
              if (p.expiry === 2) assert.equal(receipt.status, 'tx_expired');
              if (p.plan.kind === 'probe' && p.expiry !== 2) {
                const expected = { ok: 'ok', reject: 'probe_refused', throw: 'internal_error' }[
                  p.plan.outcome
                ];
                assert.equal(receipt.status, expected);
              }
              if (receipt.status !== 'ok') assert.deepEqual(receipt.events, []);
              statuses.set(receipt.status, (statuses.get(receipt.status) ?? 0) + 1);
            });
            assert.equal(node.store.lastHeight(), height);
            assert.deepEqual(audit(node.store), [], `audit after block ${height}`);
          }

          const replica = replay(node.store);
          try {
            assert.deepEqual(
              [...replica.store.scan('')],
              [...node.store.scan('')],
              'replica state equals the original',
            );
            assert.equal(replica.chain.latest().hash, node.chain.latest().hash);
          } finally {
            replica.store.close();
          }
        } finally {
          node.store.close();
        }
      }),
      { numRuns: 40 },
    );
    // The generators must reach both outcomes, or the property proves little.
    // (Loose bounds: the seed is random; each code is reached on purpose in the tests below.)
    const failed = [...statuses].filter(([code]) => code !== 'ok');
    const seen = JSON.stringify([...statuses]);
    assert.ok((statuses.get('ok') ?? 0) >= 100, `too few ok receipts: ${seen}`);
    assert.ok(failed.reduce((sum, [, n]) => sum + n, 0) >= 100, `too few failed receipts: ${seen}`);
    assert.ok(failed.length >= 8, `too few kinds of failure: ${seen}`);
  });

  describe('a failed tx leaves state byte-identical but for the sender nonce', () => {
    /** Block 1: probe keys a and b exist, carol pays a plain and a hash-locked hold to dave. */
    function prepared(): { node: Node; plainHold: string; lockedHold: string } {
      const node = newNode();
      const setKeys = next(node, usdIssuer, 'probe.run', {
        steps: [
          { kind: 'set', key: 'a', value: 'A' },
          { kind: 'set', key: 'b', value: 'B' },
        ],
        outcome: 'ok',
      });
      const plain = signed(carol, 0, 'hold.create', {
        to: dave.address,
        asset: 'USD',
        amount: '300',
        expiresAtHeight: 1000,
      });
      const locked = signed(carol, 1, 'hold.create', {
        to: dave.address,
        asset: 'USD',
        amount: '200',
        expiresAtHeight: 1000,
        condition,
      });
      const first = node.chain.produce([setKeys, plain, locked], genesisTime + 1000, producer);
      assert.deepEqual(
        first.receipts.map((r) => r.status),
        ['ok', 'ok', 'ok'],
      );
      return { node, plainHold: plain.hash, lockedHold: locked.hash };
    }

    type Failing = {
      sender: Account;
      type: string;
      payload: Record<string, unknown>;
      expired?: boolean;
      expect: string;
    };
    const holdRef = fc.constantFrom('plain', 'locked');
    const failing = (holds: { plain: string; locked: string }): fc.Arbitrary<Failing> => {
      const idOf = (ref: 'plain' | 'locked') => holds[ref];
      const anyone = fc.constantFrom(...users);
      return fc.oneof(
        fc.record({
          sender: fc.constantFrom(carol, dave),
          type: fc.constant('ledger.transfer'),
          payload: fc
            .integer({ min: 5001, max: 100000 })
            .map((n) => ({ to: usdIssuer.address, asset: 'USD', amount: String(n) })),
          expect: fc.constant('insufficient_funds'),
        }),
        fc.record({
          sender: fc.constant(dave),
          type: fc.constant('ledger.transfer'),
          payload: fc.constant({ to: dave.address, asset: 'USD', amount: '1' }),
          expect: fc.constant('accounts_must_be_different'),
        }),
        fc.record({
          sender: fc.constantFrom(carol, dave, stranger),
          type: fc.constant('asset.mint'),
          payload: fc.constant({ symbol: 'USD', to: carol.address, amount: '10' }),
          expect: fc.constant('not_issuer'),
        }),
        fc.record({
          sender: fc.constant(usdIssuer),
          type: fc.constant('asset.burn'),
          payload: fc.constant({ symbol: 'USD', amount: '10001' }),
          expect: fc.constant('insufficient_funds'),
        }),
        fc.record({
          sender: anyone,
          type: fc.constant('asset.create'),
          payload: fc.constant({ symbol: 'EUR', decimals: 2 }),
          expect: fc.constant('asset_exists'),
        }),
        fc.record({
          sender: fc.constant(carol),
          type: fc.constant('hold.create'),
          payload: fc.constant({ to: dave.address, asset: 'USD', amount: '1', expiresAtHeight: 2 }),
          expect: fc.constant('invalid_hold_expiry'),
        }),
        fc.record({
          sender: fc.constant(carol),
          type: fc.constant('hold.post'),
          payload: fc.constant({ holdId: idOf('plain') }),
          expect: fc.constant('hold_forbidden'),
        }),
        fc.record({
          sender: fc.constant(dave),
          type: fc.constant('hold.post'),
          payload: fc.constant({ holdId: idOf('plain'), amount: '301' }),
          expect: fc.constant('hold_amount_exceeded'),
        }),
        holdRef.map((ref) => ({
          sender: stranger,
          type: 'hold.void',
          payload: { holdId: idOf(ref) },
          expect: ref === 'plain' ? 'hold_forbidden' : 'hold_hash_locked',
        })),
        fc.record({
          sender: anyone,
          type: fc.constant('hold.release'),
          payload: fc.constant({ holdId: idOf('locked'), preimage: 'beef' }),
          expect: fc.constant('preimage_mismatch'),
        }),
        // Would succeed, but arrives after its expiry.
        fc.record({
          sender: fc.constantFrom(carol, dave),
          type: fc.constant('ledger.transfer'),
          payload: fc.constant({ to: usdIssuer.address, asset: 'USD', amount: '1' }),
          expired: fc.constant(true),
          expect: fc.constant('tx_expired'),
        }),
        fc.record({
          sender: fc.constant(dave),
          type: fc.constant('hold.post'),
          payload: fc.constant({ holdId: idOf('plain'), amount: '1' }),
          expired: fc.constant(true),
          expect: fc.constant('tx_expired'),
        }),
        // Real writes (module state, transfers, holds, events), then a rejection or a throw.
        fc.record({
          sender: anyone,
          type: fc.constant('probe.run'),
          payload: fc.record({
            steps: fc.array(probeStep, { minLength: 1, maxLength: 6 }),
            outcome: fc.constantFrom('reject', 'throw'),
          }),
          expect: fc.constant(''),
        }),
      );
    };

    it('for any rejection, expiry or throw (property)', () => {
      const { node, plainHold, lockedHold } = prepared();
      try {
        fc.assert(
          fc.property(
            failing({ plain: plainHold, locked: lockedHold }),
            fc.integer({ min: 0, max: 10_000 }),
            (f, delta) => {
              const time = node.chain.latest().header.time + delta;
              const tx = next(node, f.sender, f.type, f.payload, f.expired ? time - 1 : undefined);
              const before = state(node.store);
              const committed = node.chain.produce([tx], time, producer);
              const receipt = committed.receipts[0]!;
              const expected =
                f.type === 'probe.run'
                  ? (f.payload as unknown as ProbePayload).outcome === 'reject'
                    ? 'probe_refused'
                    : 'internal_error'
                  : f.expect;
              assert.equal(receipt.status, expected);
              assert.deepEqual(receipt.events, []);
              assert.deepEqual(committed.blockEvents, []);
              assertOnlyNonceMoved(before, state(node.store), f.sender.address);
              assert.deepEqual(audit(node.store), []);
            },
          ),
          { numRuns: 60 },
        );
      } finally {
        node.store.close();
      }
    });

    it('the same probe steps that end in ok do change state (the property above can fail)', () => {
      const { node } = prepared();
      const before = state(node.store);
      const tx = next(node, carol, 'probe.run', {
        steps: [
          { kind: 'transfer', to: dave.address, amount: '5' },
          { kind: 'delete', key: 'a' },
        ],
        outcome: 'ok',
      });
      const committed = node.chain.produce([tx], genesisTime + 2000, producer);
      assert.equal(committed.receipts[0]?.status, 'ok');
      assert.deepEqual(
        committed.receipts[0]?.events.map((e) => e.type),
        ['ledger.transferred', 'probe.step', 'probe.step'],
      );
      assert.throws(
        () => assertOnlyNonceMoved(before, state(node.store), carol.address),
        assert.AssertionError,
      );
      assert.equal(node.store.get('probe/a'), undefined);
      node.store.close();
    });
  });

  it('a tx whose events cannot be canonical JSON gets internal_error, and the block goes on', () => {
    const node = newNode();
    const tx = next(node, carol, 'probe.run', {
      steps: [{ kind: 'set', key: 'y', value: '1' }],
      outcome: 'bad-event',
    });
    const after = next(node, dave, 'ledger.transfer', {
      to: carol.address,
      asset: 'USD',
      amount: '7',
    });
    const committed = node.chain.produce([tx, after], genesisTime + 1000, producer);
    assert.deepEqual(
      committed.receipts.map((r) => r.status),
      ['internal_error', 'ok'],
    );
    assert.equal(node.store.get('probe/y'), undefined, 'the failed tx wrote nothing');
    assert.equal(node.logged.length, 1);
    node.store.close();
  });

  it('a handler that throws a plain Error gets internal_error, is logged, and changes nothing but the nonce', () => {
    const node = newNode();
    const before = state(node.store);
    const tx = next(node, carol, 'probe.run', {
      steps: [
        { kind: 'set', key: 'x', value: '1' },
        { kind: 'transfer', to: dave.address, amount: '100' },
        { kind: 'hold', to: dave.address, amount: '100' },
      ],
      outcome: 'throw',
    });
    const after = next(node, dave, 'ledger.transfer', {
      to: carol.address,
      asset: 'USD',
      amount: '7',
    });
    const committed = node.chain.produce([tx, after], genesisTime + 1000, producer);
    assert.deepEqual(
      committed.receipts.map((r) => [r.status, r.events.length]),
      [
        ['internal_error', 0],
        ['ok', 1],
      ],
    );
    assert.deepEqual(node.logged, [
      `tx ${tx.hash} (probe.run) threw; recorded as internal_error: probe exploded`,
    ]);
    const stored = node.store.getTx(tx.hash);
    assert.equal((JSON.parse(stored!.receipt) as { status: string }).status, 'internal_error');
    assert.equal(node.store.get('probe/x'), undefined);
    // Only the two nonces and the later transfer's 7 moved.
    const carolAccount = accountOf(node.store.get(ledgerKeys.account(carol.address)));
    assert.deepEqual(carolAccount, {
      ...accountOf(before.get(ledgerKeys.account(carol.address))),
      nonce: 1,
      balances: { EUR: '3000', USD: '5007' },
    });
    assert.deepEqual(audit(node.store), []);
    node.store.close();
  });

  it('a failed assertion in a handler stops the block: nothing is committed and the chain can go on', () => {
    const node = newNode();
    const before = state(node.store);
    const tx = next(node, carol, 'probe.run', {
      steps: [{ kind: 'set', key: 'x', value: '1' }],
      outcome: 'assert',
    });
    assert.throws(
      () => node.chain.produce([tx], genesisTime + 1000, producer),
      assert.AssertionError,
    );
    assert.equal(node.store.lastHeight(), 0);
    assert.equal(node.chain.height(), 0);
    assert.deepEqual(state(node.store), before);
    const retry = next(node, carol, 'ledger.transfer', {
      to: dave.address,
      asset: 'USD',
      amount: '1',
    });
    assert.equal(retry.tx.nonce, 0, 'the nonce was not consumed');
    assert.equal(
      node.chain.produce([retry], genesisTime + 1000, producer).receipts[0]?.status,
      'ok',
    );
    node.store.close();
  });

  it('tx_expired when expiresAt is before the block time; expiresAt equal to it is still valid', () => {
    const node = newNode();
    const time = genesisTime + 60_000;
    const expired = next(
      node,
      carol,
      'ledger.transfer',
      { to: dave.address, asset: 'USD', amount: '10' },
      time - 1,
    );
    const onTime = signed(
      carol,
      1,
      'ledger.transfer',
      { to: dave.address, asset: 'USD', amount: '20' },
      time,
    );
    const committed = node.chain.produce([expired, onTime], time, producer);
    assert.deepEqual(
      committed.receipts.map((r) => r.status),
      ['tx_expired', 'ok'],
    );
    assert.equal(node.chain.nonceOf(carol.address), 2, 'an expired tx still consumes its nonce');
    assert.equal(accountOf(node.store.get(ledgerKeys.account(dave.address))).balances.USD, '5020');
    assert.equal(
      node.store.getTx(expired.hash)?.height,
      1,
      'the expired tx is included with its receipt',
    );

    // The clamp: asking for a time before the head gives the head's time, and expiry uses it.
    const late = next(
      node,
      carol,
      'ledger.transfer',
      { to: dave.address, asset: 'USD', amount: '1' },
      time - 1,
    );
    const clamped = node.chain.produce([late], time - 30_000, producer);
    assert.equal(clamped.block.header.time, time);
    assert.equal(clamped.receipts[0]?.status, 'tx_expired');
    node.store.close();
  });

  it('a stale nonce is dropped by the producer and makes a received block invalid', () => {
    const node = newNode();
    const gap = signed(carol, 1, 'ledger.transfer', {
      to: dave.address,
      asset: 'USD',
      amount: '1',
    });
    const fine = signed(dave, 0, 'ledger.transfer', {
      to: carol.address,
      asset: 'USD',
      amount: '1',
    });
    assert.throws(() => node.chain.execute([fine, gap], genesisTime + 1, false), InvalidBlockError);
    const committed = node.chain.produce([fine, gap], genesisTime + 1, producer);
    assert.deepEqual(
      committed.txs.map((d) => d.hash),
      [fine.hash],
    );
    assert.deepEqual(
      committed.dropped.map((d) => d.hash),
      [gap.hash],
    );
    assert.equal(node.store.getTx(gap.hash), undefined);
    assert.equal(node.chain.nonceOf(carol.address), 0);
    node.store.close();
  });

  it('commit refuses a header that does not carry the executed state root', () => {
    const node = newNode();
    const tx = next(node, carol, 'ledger.transfer', {
      to: dave.address,
      asset: 'USD',
      amount: '1',
    });
    const result = node.chain.execute([tx], genesisTime + 1);
    const head = node.chain.latest();
    const header: BlockHeader = {
      chainId,
      height: 1,
      prevHash: head.hash,
      time: result.time,
      txCount: result.txs.length,
      txRoot: result.txRoot,
      receiptRoot: result.receiptRoot,
      stateRoot: head.header.stateRoot,
      producer: producer.producer,
    };
    const hash = sha256Hex(JSON.stringify(header));
    assert.throws(
      () => node.chain.commit({ header, hash, signature: producer.sign(header, hash) }, result),
      assert.AssertionError,
    );
    assert.equal(node.store.lastHeight(), 0);
    node.store.close();
  });

  it('commit refuses a header whose tx or receipt root differs from the executed ones', () => {
    // Two transfers between disjoint accounts: swapping them keeps the state root, not the tx root.
    const node = newNode();
    const a = next(node, carol, 'ledger.transfer', {
      to: usdIssuer.address,
      asset: 'USD',
      amount: '1',
    });
    const b = next(node, dave, 'ledger.transfer', {
      to: eurIssuer.address,
      asset: 'USD',
      amount: '2',
    });
    const { block } = node.chain.produce([a, b], genesisTime + 1, producer);
    const replica = newNode();
    try {
      const swapped = replica.chain.execute([b, a], block.header.time, false);
      assert.equal(swapped.stateRoot, block.header.stateRoot);
      assert.notEqual(swapped.txRoot, block.header.txRoot);
      assert.throws(() => replica.chain.commit(block, swapped), assert.AssertionError);
      assert.equal(replica.store.lastHeight(), 0);

      const inOrder = replica.chain.execute([a, b], block.header.time, false);
      assert.equal(inOrder.txRoot, block.header.txRoot);
      const otherReceipts = { ...inOrder, receiptRoot: 'ff'.repeat(32) };
      assert.throws(() => replica.chain.commit(block, otherReceipts), assert.AssertionError);
      assert.equal(replica.store.lastHeight(), 0);
      replica.chain.commit(block, inOrder);
      assert.equal(replica.store.lastHeight(), 1);
    } finally {
      replica.store.close();
      node.store.close();
    }
  });

  it('expired holds are refunded in beginBlock, as block events, and replay the same', () => {
    const node = newNode();
    const hold = next(node, carol, 'hold.create', {
      to: dave.address,
      asset: 'USD',
      amount: '250',
      expiresAtHeight: 2,
    });
    node.chain.produce([hold], genesisTime + 1, producer); // height 1
    const post = next(node, dave, 'hold.post', { holdId: hold.hash, amount: '50' });
    const atExpiry = node.chain.produce([], genesisTime + 2, producer); // height 2: still open
    assert.deepEqual(atExpiry.blockEvents, []);
    const refunded = node.chain.produce([post], genesisTime + 3, producer); // height 3
    assert.deepEqual(
      refunded.blockEvents.map((e) => [e.type, e.data.returned]),
      [['hold.expired', '250']],
    );
    assert.equal(
      refunded.receipts[0]?.status,
      'hold_not_found',
      'expiry runs before any tx of the block',
    );
    assert.equal(accountOf(node.store.get(ledgerKeys.account(carol.address))).balances.USD, '5000');
    const replica = replay(node.store);
    assert.deepEqual([...replica.store.scan('')], [...node.store.scan('')]);
    replica.store.close();
    node.store.close();
  });
});

describe('parsed records in execution', () => {
  /** Carol's account as the ledger would write it, with a USD balance of `usd`. */
  function carolWith(node: Node, usd: string): string {
    const account = accountOf(node.store.get(ledgerKeys.account(carol.address)));
    return canonicalize({
      ...account,
      nonce: account.nonce + 1,
      balances: { ...account.balances, USD: usd },
    });
  }

  it('a module that writes a balance with state.set past the ledger breaks conservation: the block stops', () => {
    const node = newNode();
    const before = state(node.store);
    const minted = next(node, carol, 'probe.run', {
      steps: [
        { kind: 'raw', key: ledgerKeys.account(carol.address), value: carolWith(node, '6000') },
      ],
      outcome: 'ok',
    });
    assert.throws(
      () => node.chain.produce([minted], genesisTime + 1000, producer),
      (error: unknown) =>
        error instanceof assert.AssertionError && /breaks conservation for USD/.test(error.message),
    );
    assert.deepEqual(state(node.store), before, 'nothing was committed');
    node.store.close();
  });

  it('conservation reads a text write over a record the ledger wrote in the same block', () => {
    const node = newNode();
    // The ledger writes carol's account (as a record), then the raw write replaces it as text.
    const tx = next(node, carol, 'probe.run', {
      steps: [
        { kind: 'transfer', to: dave.address, amount: '100' },
        { kind: 'raw', key: ledgerKeys.account(carol.address), value: carolWith(node, '5000') },
      ],
      outcome: 'ok',
    });
    assert.throws(
      () => node.chain.produce([tx], genesisTime + 1000, producer),
      /breaks conservation for USD/,
    );
    node.store.close();
  });

  it('a raw write that keeps the sums (and its text, byte for byte) is committed as written', () => {
    const node = newNode();
    const account = accountOf(node.store.get(ledgerKeys.account(dave.address)));
    // Not canonical (key order, spacing): the view keeps the text it was given.
    const text = JSON.stringify(
      { holds: [], frozen: [], held: {}, balances: account.balances, nonce: 0 },
      null,
      1,
    );
    const tx = next(node, carol, 'probe.run', {
      steps: [
        { kind: 'raw', key: ledgerKeys.account(dave.address), value: text },
        { kind: 'transfer', to: stranger.address, amount: '1' },
      ],
      outcome: 'ok',
    });
    const block = node.chain.produce([tx], genesisTime + 1000, producer);
    assert.equal(block.receipts[0]?.status, 'ok');
    assert.equal(node.store.get(ledgerKeys.account(dave.address)), text);
    assert.deepEqual(audit(node.store), []);
    node.store.close();
  });

  it('a kept ParsedRecordCache gives the same blocks as none, across blocks and failed txs', () => {
    const kept = newNode();
    const fresh = newNode();
    const parsed = new ParsedRecordCache(8);
    const blocks: [Account, string, Record<string, unknown>][][] = [
      [
        [carol, 'ledger.transfer', { to: dave.address, asset: 'USD', amount: '10' }],
        [dave, 'ledger.transfer', { to: stranger.address, asset: 'USD', amount: '99999' }],
        [usdIssuer, 'asset.mint', { symbol: 'USD', to: stranger.address, amount: '7' }],
      ],
      [
        [stranger, 'ledger.transfer', { to: carol.address, asset: 'USD', amount: '7' }],
        [
          carol,
          'probe.run',
          { steps: [{ kind: 'transfer', to: dave.address, amount: '5' }], outcome: 'reject' },
        ],
        [
          carol,
          'hold.create',
          { to: dave.address, asset: 'USD', amount: '20', expiresAtHeight: 4 },
        ],
      ],
      [[dave, 'ledger.transfer', { to: carol.address, asset: 'USD', amount: '1' }]],
      [],
      [[carol, 'ledger.transfer', { to: eurIssuer.address, asset: 'EUR', amount: '3' }]],
    ];
    for (const [index, txs] of blocks.entries()) {
      const time = genesisTime + 1000 * (index + 1);
      const decoded = txs.map(([sender, type, payload], position) =>
        signed(
          sender,
          kept.chain.nonceOf(sender.address) +
            txs.slice(0, position).filter(([s]) => s === sender).length,
          type,
          payload,
        ),
      );
      const head = kept.chain.latest();
      const withCache = executeBlock(
        kept.store,
        registry,
        {
          chainId,
          height: head.header.height + 1,
          time,
          previousStateRoot: head.header.stateRoot,
          previousProducer: head.header.producer,
          previousHash: head.hash,
          txs: decoded,
          dropStaleNonces: false,
        },
        () => {},
        { parsed },
      );
      const without = fresh.chain.execute(decoded, time, false);
      assert.deepEqual([...withCache.writes], [...without.writes], `block ${index + 1} writes`);
      assert.equal(withCache.stateRoot, without.stateRoot);
      assert.deepEqual(withCache.receiptTexts, without.receiptTexts);
      kept.chain.produce(decoded, time, producer);
      fresh.chain.produce(decoded, time, producer);
    }
    assert.ok(parsed.size > 0 && parsed.size <= 8, 'the cache stays within its bound');
    assert.deepEqual([...kept.store.scan('')], [...fresh.store.scan('')]);
    assert.deepEqual(audit(kept.store), []);
    kept.store.close();
    fresh.store.close();
  });
});
