import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';

import { TestBlockSigner } from '../../test/support/block-signer.js';
import { ModuleTestHarness, testAccount } from '../../test/support/module-chain.js';
import {
  blockHash,
  blockSigningMessage,
  signTx,
  txHashBytes,
  type BlockHeader,
  type DecodedTx,
  type Genesis,
} from '../chain/index.js';
import { encryptHiddenInfo, signAtHeight, toHex } from '../crypto/index.js';
import { ledgerKeys } from '../ledger/index.js';
import { getTimebank, hashUserId, timecreditsKeys } from '../modules/timecredits/index.js';
import { auditDataDir, auditStore, type AuditReport } from './audit.js';
import { nodeBlockValidator, nodeModuleRegistry } from './chain-rules.js';
import { DataDirError, dataFiles, devProducerParams } from './data-dir.js';

// The audit replays with the node's own modules and block validator, so the chains here are
// built with the very same: every module's txs, and blocks the producer registry checks.
const chainId = 'coffer-audit';
const harness = new ModuleTestHarness({
  name: 'audit',
  chainId,
  registry: nodeModuleRegistry(),
  validateBlock: nodeBlockValidator,
});
after(() => harness.close());

const signer = harness.signer;
const issuer = testAccount(1);
const alice = testAccount(2);
const bob = testAccount(3);
/** Paid once, at `heights.carolPaid`, and never touched again. */
const carol = testAccount(4);
const coordinator = testAccount(5);
const filmmaker = testAccount(6);
const operator = testAccount(7);

/** A tx's row id in the `txs` table is `height * 2^20 + index` (src/state/sqlite-store.ts). */
const txIdStride = 2 ** 20;

function genesis(): Genesis {
  const hidden = encryptHiddenInfo(signer.key.secretScalar, { name: 'audit producer' });
  return harness.genesis({
    assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
    balances: [{ address: issuer.address, asset: 'USD', amount: '10000000' }],
    modules: {
      producers: {
        params: devProducerParams('USD'),
        producers: [
          {
            operator: operator.address,
            publicKey: toHex(signer.key.publicKey),
            hiddenInfo: hidden.hiddenInfo,
            commitment: hidden.commitment,
            bond: '0',
            nonces: signer.range(0),
          },
        ],
      },
    },
  });
}

interface BuiltChain {
  file: string;
  lastHeight: number;
  heights: { bank: number; carolPaid: number; failedTransfer: number; commitNonces: number };
  bankId: string;
  /** A hold alice created at `carolPaid` and bob voided at `commitNonces`, which deleted it. */
  holdId: string;
  /** Where carol's payment and the failed transfer are in their block (`carolPaid`). */
  indexes: { carolPayment: number; failedTransfer: number };
}

/**
 * A chain with txs of every module: transfers (one that fails), a hold created and voided (a
 * deleted key), a time bank with a member and an issuance, a campaign invested in and settled at
 * its deadline by beginBlock, and the producer's next nonce commitment; then a few more blocks, so
 * that nothing the tests change is at the head.
 */
function buildChain(): BuiltChain {
  const node = harness.open(genesis());
  const statuses = (txs: DecodedTx[]) => node.produce(txs).receipts.map((r) => r.status);
  const issuerNonces = new Map<string, number>();

  const funding = [alice, bob, filmmaker].map((to) =>
    node.tx(
      issuer,
      'ledger.transfer',
      { to: to.address, asset: 'USD', amount: '50000' },
      issuerNonces,
    ),
  );
  const bank = node.tx(coordinator, 'timebank.create', {
    name: 'Audit time bank',
    coordinators: [coordinator.address],
    policy: { kind: 'expiry', expiryDays: 30 },
    creditLimitMinutes: '0',
  });
  assert.deepEqual(statuses([...funding, bank]), ['ok', 'ok', 'ok', 'ok']);
  const bankHeight = node.chain.height();
  const bankId = bank.hash.slice(0, 16);

  const salt = getTimebank(node.store, bankId)!.salt;
  const member = node.tx(coordinator, 'timebank.addMember', {
    bankId,
    account: alice.address,
    userIdHash: hashUserId(salt, 'alice@example.org'),
  });
  const campaign = node.tx(filmmaker, 'campaign.create', {
    title: 'The Audit',
    asset: 'USD',
    target: '10000',
    minInvestment: '1000',
    maxInvestment: '20000',
    opensAt: { height: 1 },
    deadline: { height: node.chain.height() + 5 },
    cancelWindow: 1,
    earlyClose: false,
    reporters: [filmmaker.address],
    distribution: {
      tranches: [
        {
          name: 'all to investors',
          shareBasisPoints: 10_000,
          recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
        },
      ],
    },
  });
  assert.deepEqual(statuses([member, campaign]), ['ok', 'ok']);
  const campaignId = campaign.hash.slice(0, 16);

  const offsets = new Map<string, number>();
  const block = [
    node.tx(coordinator, 'timecredits.issue', {
      bankId,
      account: alice.address,
      minutes: '120',
      requestId: 'req-1',
    }),
    node.tx(alice, 'campaign.invest', { campaignId, amount: '6000' }, offsets),
    node.tx(bob, 'campaign.invest', { campaignId, amount: '5000' }, offsets),
    node.tx(alice, 'ledger.transfer', { to: carol.address, asset: 'USD', amount: '250' }, offsets),
    node.tx(
      bob,
      'ledger.transfer',
      { to: alice.address, asset: 'USD', amount: '99999999' },
      offsets,
    ),
    node.tx(
      alice,
      'hold.create',
      { to: bob.address, asset: 'USD', amount: '700', expiresAtHeight: 100 },
      offsets,
    ),
  ];
  assert.deepEqual(statuses(block), ['ok', 'ok', 'ok', 'ok', 'insufficient_funds', 'ok']);
  const hold = block[5]!;
  const carolPaid = node.chain.height();

  const next = signer.commitment(signer.rangeHeights);
  const commit = node.tx(operator, 'producer.commitNonces', {
    producer: signer.producer,
    fromHeight: signer.rangeHeights,
    count: next.count,
    root: next.root,
  });
  const voided = node.tx(bob, 'hold.void', { holdId: hold.hash });
  assert.deepEqual(statuses([commit, voided]), ['ok', 'ok']);
  const commitNonces = node.chain.height();

  node.until(12);
  const settled = JSON.parse(node.store.get(`crowdfund/campaign/${campaignId}`)!) as {
    status: string;
  };
  assert.equal(settled.status, 'succeeded', 'beginBlock settled the campaign at its deadline');
  assert.deepEqual(
    statuses([node.tx(bob, 'ledger.transfer', { to: alice.address, asset: 'USD', amount: '1' })]),
    ['ok'],
  );
  return {
    file: node.store.file,
    lastHeight: node.chain.height(),
    heights: { bank: bankHeight, carolPaid, failedTransfer: carolPaid, commitNonces },
    bankId,
    holdId: hold.hash,
    indexes: { carolPayment: 3, failedTransfer: 4 },
  };
}

/** Runs SQL against the store file as an outside writer would (the node need not be running). */
function tamper(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  try {
    assert.equal(db.prepare(sql).run(...params).changes, 1, `tampering changed one row: ${sql}`);
  } finally {
    db.close();
  }
}

function storedHeader(file: string, height: number): BlockHeader {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT header FROM blocks WHERE height = ?').get(height) as {
      header: string;
    };
    return JSON.parse(row.header) as BlockHeader;
  } finally {
    db.close();
  }
}

function divergenceOf(report: AuditReport) {
  assert.equal(report.ok, false, 'the audit finds a divergence');
  assert.ok(report.divergence);
  return report.divergence;
}

describe('coffer audit: replaying a stored chain', () => {
  it('replays every block of a chain of several modules and finds all of it as stored', () => {
    const chain = buildChain();
    const told: number[] = [];
    const report = auditStore(chain.file, { onProgress: (height) => told.push(height) });
    assert.deepEqual(report, {
      ok: true,
      lastHeight: chain.lastHeight,
      blocksMatched: chain.lastHeight + 1,
    });
    assert.deepEqual(
      told,
      Array.from({ length: chain.lastHeight + 1 }, (_, h) => h),
      'progress is told of every block, in order',
    );
  });

  it('a stored state value changed after the fact is pinned on the block that last wrote it', () => {
    const chain = buildChain();
    const key = ledgerKeys.account(carol.address);
    tamper(
      chain.file,
      `UPDATE state SET value = replace(value, '"250"', '"25000"') WHERE key = ?`,
      key,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.equal(divergence.check, 'state');
    assert.equal(divergence.height, chain.heights.carolPaid);
    assert.ok(chain.heights.carolPaid > 0 && chain.heights.carolPaid < chain.lastHeight);
    assert.match(
      divergence.message,
      new RegExp(`^${key}, last written at height ${chain.heights.carolPaid}`),
    );
    assert.match(divergence.expected!, /"250"/);
    assert.match(divergence.found!, /"25000"/);
  });

  it('a state key deleted from the store, added to it, or kept after a block deleted it, is found', () => {
    const deleted = buildChain();
    // The issuance request's record is written once, by the block of the issuance.
    const requestKey = timecreditsKeys.request(deleted.bankId, 'req-1');
    tamper(deleted.file, 'DELETE FROM state WHERE key = ?', requestKey);
    const missing = divergenceOf(auditStore(deleted.file));
    assert.deepEqual(
      { check: missing.check, height: missing.height, found: missing.found },
      { check: 'state', height: deleted.heights.carolPaid, found: '(absent)' },
    );
    assert.equal(
      missing.message,
      `${requestKey}, last written at height ${deleted.heights.carolPaid}, is missing from the store`,
    );

    const added = buildChain();
    tamper(added.file, `INSERT INTO state (key, value) VALUES ('ledger/account/cof1stray', '{}')`);
    const stray = divergenceOf(auditStore(added.file));
    assert.deepEqual(
      { check: stray.check, height: stray.height },
      { check: 'state', height: null },
      'a key no block wrote has no height',
    );
    assert.match(stray.message, /ledger\/account\/cof1stray, which no block wrote/);

    const kept = buildChain();
    const holdKey = ledgerKeys.hold(kept.holdId);
    tamper(kept.file, `INSERT INTO state (key, value) VALUES (?, '{}')`, holdKey);
    const deletedByBlock = divergenceOf(auditStore(kept.file));
    assert.deepEqual(
      { check: deletedByBlock.check, height: deletedByBlock.height },
      { check: 'state', height: kept.heights.commitNonces },
    );
    assert.equal(
      deletedByBlock.message,
      `${holdKey} was deleted at height ${kept.heights.commitNonces}, and the store still holds it`,
    );
  });

  it('a stored receipt changed names its block, and no block before it', () => {
    const chain = buildChain();
    const id = chain.heights.failedTransfer * txIdStride + chain.indexes.failedTransfer;
    tamper(
      chain.file,
      `UPDATE txs SET receipt = replace(receipt, '"insufficient_funds"', '"ok"') WHERE id = ?`,
      id,
    );
    const report = auditStore(chain.file);
    const divergence = divergenceOf(report);
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height: chain.heights.failedTransfer, check: 'receipt' },
    );
    assert.match(divergence.message, new RegExp(`^tx ${chain.indexes.failedTransfer} `));
    assert.match(divergence.expected!, /insufficient_funds/);
    assert.equal(report.blocksMatched, chain.heights.failedTransfer);
  });

  it('a stored tx body changed no longer hashes to its stored hash', () => {
    const chain = buildChain();
    const id = chain.heights.carolPaid * txIdStride + chain.indexes.carolPayment;
    tamper(chain.file, `UPDATE txs SET body = replace(body, '"250"', '"251"') WHERE id = ?`, id);
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height: chain.heights.carolPaid, check: 'tx_hash' },
    );
  });

  it('a stored tx swapped for one its sender signed with another nonce fails execution', () => {
    const chain = buildChain();
    const id = chain.heights.carolPaid * txIdStride + chain.indexes.carolPayment;
    // Signed by alice and stored under its own hash: only executing it shows the nonce is wrong.
    const swapped = signTx(
      {
        chainId,
        type: 'ledger.transfer',
        sender: alice.address,
        nonce: 99,
        payload: { to: carol.address, asset: 'USD', amount: '250' },
      },
      alice.secretKey,
    );
    tamper(
      chain.file,
      'UPDATE txs SET body = ?, hash = ? WHERE id = ?',
      JSON.stringify(swapped),
      Buffer.from(txHashBytes(swapped)),
      id,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height: chain.heights.carolPaid, check: 'execution' },
    );
    assert.match(
      divergence.message,
      new RegExp(
        `^tx ${chain.indexes.carolPayment} \\([0-9a-f]{64}\\) has nonce 99, not its sender's next`,
      ),
    );
  });

  it('a header field changed fails the hash check at its height', () => {
    const chain = buildChain();
    const height = chain.heights.bank;
    const header = storedHeader(chain.file, height);
    const changed = JSON.stringify({ ...header, time: header.time + 1 });
    tamper(chain.file, 'UPDATE blocks SET header = ? WHERE height = ?', changed, height);
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height, check: 'header_hash' },
    );
  });

  it('a header changed and hashed again fails the signature', () => {
    const chain = buildChain();
    const height = chain.heights.bank;
    const header = { ...storedHeader(chain.file, height), time: 1 };
    tamper(
      chain.file,
      'UPDATE blocks SET header = ?, hash = ? WHERE height = ?',
      JSON.stringify(header),
      blockHash(header),
      height,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height, check: 'signature' },
    );
  });

  it('a block re-signed by its producer with a nonce it never committed fails the nonce proof', () => {
    const chain = buildChain();
    const height = chain.heights.carolPaid;
    // The producer's own key, its nonces committed in ranges of 32 instead of the registered 64:
    // the signature verifies, the nonce proof matches no committed range.
    const stray = new TestBlockSigner(signer.seed, chainId, 32);
    const header = storedHeader(chain.file, height);
    const signature = stray.sign(header, blockHash(header));
    tamper(
      chain.file,
      'UPDATE blocks SET signature = ? WHERE height = ?',
      JSON.stringify(signature),
      height,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height, check: 'nonce_proof' },
    );
    assert.match(divergence.message, /R is not the nonce the producer committed/);
  });

  it('a forked header, validly signed with the committed nonce, differs from the rebuilt one', () => {
    const chain = buildChain();
    const height = chain.heights.commitNonces;
    const header: BlockHeader = { ...storedHeader(chain.file, height), stateRoot: 'ab'.repeat(32) };
    const hash = blockHash(header);
    const signature = signer.sign(header, hash);
    tamper(
      chain.file,
      'UPDATE blocks SET header = ?, hash = ?, signature = ? WHERE height = ?',
      JSON.stringify(header),
      hash,
      JSON.stringify(signature),
      height,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height, check: 'header' },
    );
    assert.match(divergence.message, /stateRoot/);
    assert.match(divergence.found!, /abab/);
  });

  it('a block signed with an accountable signature of another height fails the signature', () => {
    const chain = buildChain();
    const height = chain.heights.bank;
    const header = storedHeader(chain.file, height);
    const other = signAtHeight(
      signer.key,
      chainId,
      height + 1,
      blockSigningMessage(blockHash(header)),
    );
    const stored = { ...signer.sign(header, blockHash(header)), ...other };
    tamper(
      chain.file,
      'UPDATE blocks SET signature = ? WHERE height = ?',
      JSON.stringify(stored),
      height,
    );
    const divergence = divergenceOf(auditStore(chain.file));
    assert.deepEqual(
      { height: divergence.height, check: divergence.check },
      { height, check: 'signature' },
    );
  });

  it('says clearly when a directory holds no chain', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-empty-'));
    try {
      const refused = (message: RegExp) => (error: unknown) =>
        error instanceof DataDirError && message.test(error.message);
      assert.throws(
        () => auditDataDir(path.join(dir, 'nowhere')),
        refused(/nowhere: no such directory$/),
      );
      assert.throws(
        () => auditDataDir(dir),
        refused(new RegExp(`no ${dataFiles.database}, so no chain to audit`)),
      );
      fs.writeFileSync(path.join(dir, dataFiles.database), '');
      assert.throws(() => auditDataDir(dir), refused(/is not a Coffer store/));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
