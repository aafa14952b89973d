import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import {
  addressFromPublicKey,
  deriveAccountableKey,
  fromHex,
  signAtHeight,
  signingMessage,
  toHex,
} from '../crypto/index.js';
import { CofferNode, parseNodeConfig } from '../node/index.js';
import { createClient, type Block, type CofferClient, type TxResponse } from './client.js';
import { generateKey, importKey, type SigningKey } from './keys.js';
import { signTx, txs } from './tx.js';
import {
  headerHash,
  verifyHeader,
  verifyHeaderChain,
  verifyTxInclusion,
  type BlockHeader,
  type SignedHeader,
  trustFromProducers,
  type ProducerTrust,
  type TxWithProof,
  type Verdict,
  type VerifyCheck,
} from './verify.js';

// ---- a real node -----------------------------------------------------------------------------

const batchLength = 7;

let node: CofferNode;
let dataDir: string;
let client: CofferClient;
let dev: SigningKey;
let producer: SigningKey;
/** Every tx of one block of `batchLength` txs, so proofs have several steps. */
let batch: TxResponse[];
/** The only tx of its block: a tree of one leaf, an empty path. */
let single: TxResponse;
/** Every block, genesis first. */
let chain: Block[];
/** The node's producer with its committed ranges, as the node reports them (trust on first use). */
let trust: ProducerTrust;

function committed(lookup: Awaited<ReturnType<CofferClient['getTx']>>): TxResponse {
  assert.notEqual(lookup.status, 'pending');
  return lookup as TxResponse;
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-sdk-'));
  node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir,
        port: 0,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 0,
        verifyWorkers: 1,
      },
      {},
    ),
  );
  client = createClient(await node.listen());
  dev = importKey(toHex(node.init.devAccount!.secretKey));
  producer = importKey(toHex(node.init.producer.secretKey));

  const { chainId } = await client.health();
  const { nonce } = await client.getAccount(dev.address);
  const signed = Array.from({ length: batchLength }, (_, i) =>
    signTx(
      {
        chainId,
        sender: dev.address,
        nonce: nonce + i,
        ...txs.transfer({ to: generateKey().address, asset: 'USD', amount: String(100 + i) }),
      },
      dev,
    ),
  );
  const answer = await client.submitBatch(signed, { wait: 'commit' });
  assert.equal(answer.accepted, batchLength, JSON.stringify(answer.results));
  batch = await Promise.all(
    answer.results.map(async (r) => committed(await client.getTx(r.hash!))),
  );
  for (let i = 0; i < 3; i++) {
    await client.send(dev, txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }));
  }
  const last = await client.send(
    dev,
    txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }),
  );
  single = committed(await client.getTx(last.hash));
  chain = (await client.getBlocks(0, last.height!)).blocks;
  trust = trustFromProducers((await client.listProducers()).producers);
  assert.deepEqual(Object.keys(trust.producers), [producerId(producer)]);
});

after(async () => {
  await node.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// ---- tampering -------------------------------------------------------------------------------

function copy<T>(value: T): T {
  return structuredClone(value);
}

/** `hex` with one bit of one byte flipped: always a different value, still lowercase hex. */
function flipBit(hex: string, byteIndex: number, bit = 0): string {
  const bytes = fromHex(hex);
  const index = byteIndex % bytes.length;
  bytes[index] = bytes[index]! ^ (1 << bit);
  return toHex(bytes);
}

/** A block signature with one bit of R || s flipped. */
function flipSignatureBit(
  signature: SignedHeader['signature'],
  byteIndex: number,
  bit = 0,
): SignedHeader['signature'] {
  const flipped = flipBit(signature.R + signature.s, byteIndex, bit);
  return { ...signature, R: flipped.slice(0, 64), s: flipped.slice(64) };
}

/** The header signed again by `key`, as a producer that means harm (or owns the key) would. */
function resign(
  block: SignedHeader,
  header: BlockHeader,
  key: SigningKey,
  nonce: 'committed' | 'fresh-nonce' = 'committed',
): SignedHeader {
  const hash = headerHash(header);
  const accountable = deriveAccountableKey(fromHex(key.secretKey, 'secretKey', 32));
  const nonceSecret =
    nonce === 'committed' ? accountable.nonceSecret : new Uint8Array(32).fill(0x5a);
  const signature = signAtHeight(
    { ...accountable, nonceSecret },
    header.chainId,
    header.height,
    signingMessage('block', hash),
  );
  // At the same height the committed nonce is the same, so the original proof still holds.
  const nonceProof = block.signature.nonceProof;
  return {
    ...block,
    header,
    hash,
    signature: { ...signature, ...(nonceProof ? { nonceProof } : {}) },
  };
}

/** The producer id of a key: the address of its accountable public key. */
function producerId(key: SigningKey): string {
  return addressFromPublicKey(
    deriveAccountableKey(fromHex(key.secretKey, 'secretKey', 32)).publicKey,
  );
}

/** The verdict failed the named check (and, if given, a message matches `pattern`). */
function assertFailsWith(verdict: Verdict, check: VerifyCheck, pattern?: RegExp): void {
  assert.equal(verdict.ok, false, `expected ${check} to fail`);
  const named = verdict.failures.filter((f) => f.check === check);
  assert.ok(named.length > 0, `no ${check} failure: ${JSON.stringify(verdict.failures)}`);
  if (pattern)
    assert.ok(
      named.some((f) => pattern.test(f.message)),
      JSON.stringify(named),
    );
  assert.deepEqual(
    verdict.problems,
    verdict.failures.map((f) => f.message),
  );
}

function assertFails(verdict: Verdict, pattern: RegExp, context = ''): void {
  assert.equal(verdict.ok, false, `expected a failure ${context}`);
  assert.ok(verdict.problems.length > 0);
  for (const problem of verdict.problems) {
    assert.equal(typeof problem, 'string');
    assert.ok(problem.length > 10, `a problem is a sentence: ${JSON.stringify(problem)}`);
  }
  assert.ok(
    verdict.problems.some((p) => pattern.test(p)),
    `${context}: no problem matches ${pattern}: ${JSON.stringify(verdict.problems)}`,
  );
}

/** A value of the same kind that is not `value`. */
function otherValue(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') {
    if (/^[0-9a-f]+$/.test(value) && value.length % 2 === 0) return flipBit(value, 0);
    return value + 'x';
  }
  return value === undefined ? 'added' : undefined;
}

const headerFields: (keyof BlockHeader)[] = [
  'chainId',
  'height',
  'prevHash',
  'time',
  'txCount',
  'txRoot',
  'receiptRoot',
  'stateRoot',
  'producer',
];

// ---- inclusion -------------------------------------------------------------------------------

describe('verifyTxInclusion against a real node', { timeout: 20_000 }, () => {
  it('every tx of a block of several, and the only tx of a block, verify', () => {
    const heights = new Set(batch.map((t) => t.height));
    assert.equal(heights.size, 1, 'the batch landed in one block');
    assert.ok(batch[0]!.proof.path.length >= 3, 'a tree of 7 leaves has paths of 3 steps');
    for (const found of [...batch, single]) {
      const verdict = verifyTxInclusion(found, trust);
      assert.deepEqual(
        verdict,
        { ok: true, problems: [], failures: [], outcome: 'ok' },
        found.hash,
      );
    }
    assert.deepEqual(single.proof, { leafIndex: 0, treeSize: 1, path: [] });
  });

  it('flipping any bit of any byte of the path fails', () => {
    for (const found of batch) {
      found.proof.path.forEach((step, i) => {
        for (let byte = 0; byte < 32; byte++) {
          const tampered = copy(found);
          tampered.proof.path[i] = flipBit(step, byte, byte % 8);
          assertFails(
            verifyTxInclusion(tampered, trust),
            /Merkle proof does not lead/,
            `path[${i}]`,
          );
        }
      });
    }
  });

  it('a step added to or taken from the path, or another leaf index, fails', () => {
    const found = batch[3]!;
    const longer = copy(found);
    longer.proof.path.push(found.proof.path[0]!);
    assertFails(verifyTxInclusion(longer, trust), /Merkle proof does not lead/);
    const shorter = copy(found);
    shorter.proof.path.pop();
    assertFails(verifyTxInclusion(shorter, trust), /Merkle proof does not lead/);
    for (let index = 0; index < batchLength; index++) {
      if (index === found.proof.leafIndex) continue;
      const moved = copy(found);
      moved.proof.leafIndex = index;
      assertFails(verifyTxInclusion(moved, trust), /Merkle proof does not lead/, `index ${index}`);
    }
    // Another tx's proof does not prove this one.
    const swapped = copy(found);
    swapped.proof = copy(batch[4]!.proof);
    assertFails(verifyTxInclusion(swapped, trust), /Merkle proof does not lead/);
  });

  it('any change to the tx fails: its hash no longer matches', () => {
    const found = batch[2]!;
    const edits: [string, (t: TxWithProof) => void][] = [
      ['chainId', (t) => (t.tx.chainId = 'coffer-other')],
      ['type', (t) => (t.tx.type = 'asset.burn')],
      ['sender', (t) => (t.tx.sender = generateKey().address)],
      ['nonce', (t) => (t.tx.nonce += 1)],
      ['expiresAt', (t) => (t.tx.expiresAt = 1)],
      ['memo', (t) => (t.tx.memo = 'hello')],
      ['payload.amount', (t) => (t.tx.payload.amount = '101')],
      ['payload.to', (t) => (t.tx.payload.to = generateKey().address)],
      ['payload.asset', (t) => (t.tx.payload.asset = 'EUR')],
      ['payload extra', (t) => (t.tx.payload.extra = true)],
    ];
    for (const [name, edit] of edits) {
      const tampered = copy(found);
      edit(tampered);
      assertFails(verifyTxInclusion(tampered, trust), /does not hash to the claimed hash/, name);
    }
    const extraField = copy(found) as unknown as TxWithProof & { tx: Record<string, unknown> };
    extraField.tx.fee = '1';
    assertFails(verifyTxInclusion(extraField, trust), /fields no tx has: fee/);
  });

  it("the claimed hash, the tx's signature and the header's fields are all covered", () => {
    const found = batch[1]!;
    for (let byte = 0; byte < 32; byte++) {
      const tampered = copy(found);
      tampered.hash = flipBit(found.hash, byte, 7);
      assertFails(
        verifyTxInclusion(tampered, trust),
        /does not hash to the claimed hash/,
        `hash ${byte}`,
      );
    }
    for (let byte = 0; byte < 64; byte++) {
      const tampered = copy(found);
      tampered.tx.signature = flipBit(found.tx.signature, byte, 3);
      assertFails(
        verifyTxInclusion(tampered, trust),
        /signature on the tx does not verify/,
        `${byte}`,
      );
      const block = copy(found);
      block.block.signature = flipSignatureBit(found.block.signature, byte, 5);
      assertFails(
        verifyTxInclusion(block, trust),
        /producer's signature does not verify/,
        `${byte}`,
      );
    }
    for (const field of headerFields) {
      const tampered = copy(found);
      (tampered.block.header as unknown as Record<string, unknown>)[field] = otherValue(
        found.block.header[field],
      );
      assertFails(verifyTxInclusion(tampered, trust), /hash does not match the header/, field);
      // With the hash recomputed, the producer's signature no longer covers it.
      const rehashed = copy(tampered);
      rehashed.block.hash = headerHash(rehashed.block.header);
      assertFails(
        verifyTxInclusion(rehashed, trust),
        /signature does not verify|not a valid address/,
      );
    }
  });

  it('a header re-signed by another key fails: its producer is not trusted', () => {
    const found = batch[0]!;
    const mallory = generateKey();
    const forged = copy(found);
    forged.block = resign(
      found.block,
      { ...found.block.header, producer: producerId(mallory) },
      mallory,
    );
    assertFailsWith(verifyTxInclusion(forged, trust), 'producer_untrusted');
    assertFailsWith(verifyTxInclusion(found, { producers: {} }), 'producer_untrusted');
    // Inherited names are not producers.
    const inherited = { producers: Object.create({ [found.block.header.producer]: [] }) as never };
    assertFailsWith(verifyTxInclusion(found, inherited), 'producer_untrusted');
  });

  it("a fork re-signed by the producer's own key with a fresh, uncommitted nonce fails", () => {
    const found = batch[0]!;
    // The producer signs a forked state root with a nonce it never committed: its committed
    // nonce would expose its key, so this is the fork a light client must refuse.
    const forkedHeader = { ...found.block.header, stateRoot: 'ab'.repeat(32) };
    const fresh = resign(found.block, forkedHeader, producer, 'fresh-nonce');
    assert.notEqual(fresh.signature.R, found.block.signature.R, 'another nonce');
    const kept = copy(found);
    kept.block = {
      ...fresh,
      signature: { ...fresh.signature, nonceProof: found.block.signature.nonceProof },
    };
    assertFailsWith(verifyTxInclusion(kept, trust), 'nonce_proof', /another nonce/);
    // The nonce proof's R changed to the fresh one: the Merkle path no longer leads to the root.
    const relabelled = copy(kept);
    relabelled.block.signature.nonceProof = {
      ...found.block.signature.nonceProof!,
      R: fresh.signature.R,
    };
    assertFailsWith(verifyTxInclusion(relabelled, trust), 'nonce_proof', /committed root/);
    // No nonce proof at all.
    const bare = copy(kept);
    delete bare.block.signature.nonceProof;
    assertFailsWith(verifyTxInclusion(bare, trust), 'nonce_proof_missing');
    // A flipped path step of the real proof.
    const flipped = copy(found);
    const proof = flipped.block.signature.nonceProof!;
    assert.ok(proof.path.length > 0);
    proof.path[0] = flipBit(proof.path[0]!, 3);
    assertFailsWith(verifyTxInclusion(flipped, trust), 'nonce_proof');
    // A height no committed range covers.
    const uncovered = { producers: { [found.block.header.producer]: [] } };
    assertFailsWith(verifyTxInclusion(found, uncovered), 'nonce_uncommitted');
  });

  it("a changed tree size or index fails against the header's signed txCount", () => {
    const found = batch[0]!;
    assert.equal(found.block.header.txCount, batchLength);
    for (const size of [batchLength + 1, 8, 6]) {
      const resized = copy(found);
      resized.proof.treeSize = size;
      assertFailsWith(
        verifyTxInclusion(resized, trust),
        'tree_size',
        /tree of \d+ txs, the block holds 7/,
      );
    }
    // The last tx of the block relabelled as another index of a smaller tree, in both proofs.
    const last = copy(batch[batchLength - 1]!);
    for (const p of [last.proof, last.receiptProof!]) {
      p.treeSize = 3;
      p.leafIndex = 2;
    }
    last.index = 2;
    assertFailsWith(verifyTxInclusion(last, trust), 'tree_size');
    // The index a bundle states must be its proof's leaf, and it must be stated.
    const unstated = copy(found) as Partial<TxResponse>;
    delete unstated.index;
    assertFailsWith(verifyTxInclusion(unstated as TxWithProof, trust), 'index');
  });

  it('a bundle without its receipt fails unless the receipt is waived, and then has no outcome', () => {
    const found = batch[2]!;
    assert.equal(verifyTxInclusion(found, trust).outcome, 'ok');
    const bare = copy(found) as Partial<TxResponse>;
    delete bare.receipt;
    delete bare.receiptProof;
    assertFailsWith(verifyTxInclusion(bare as TxWithProof, trust), 'receipt_missing');
    const waived = verifyTxInclusion(bare as TxWithProof, trust, { receipt: false });
    assert.deepEqual(waived, { ok: true, problems: [], failures: [], outcome: undefined });
    // Waived or not, a receipt that is there is checked.
    const forged = copy(found);
    forged.receipt.status = 'insufficient_funds';
    assertFailsWith(verifyTxInclusion(forged, trust, { receipt: false }), 'receipt_proof');
  });

  it('the height and index a lookup states must be what the header and proof say', () => {
    const found = batch[5]!;
    const higher: TxResponse = { ...found, height: found.height + 1 };
    assertFails(verifyTxInclusion(higher, trust), /said to be at height/);
    const elsewhere: TxResponse = { ...found, index: found.index - 1 };
    assertFails(verifyTxInclusion(elsewhere, trust), /said to be at index/);
  });

  it("the receipt is covered: its proof leads to the header's receiptRoot", () => {
    const bundle = copy(batch[3]!) as unknown as Record<string, unknown>;
    assert.deepEqual(verifyTxInclusion(bundle as unknown as TxWithProof, trust).problems, []);
    const forged = copy(bundle);
    (forged.receipt as { status: string }).status = 'insufficient_funds';
    assert.match(
      verifyTxInclusion(forged as unknown as TxWithProof, trust).problems.join(' '),
      /receiptRoot/,
    );
    const swapped = copy(bundle);
    swapped.receipt = copy(batch[4]!.receipt);
    assert.match(
      verifyTxInclusion(swapped as unknown as TxWithProof, trust).problems.join(' '),
      /not the receipt of this tx/,
    );
    const unproven = copy(bundle);
    delete unproven.receiptProof;
    assert.match(
      verifyTxInclusion(unproven as unknown as TxWithProof, trust).problems.join(' '),
      /receipt proof is missing/,
    );
  });

  it('malformed input is a problem, never a throw', () => {
    const found = batch[0]!;
    const cases: unknown[] = [
      null,
      {},
      { ...found, hash: 'XYZ' },
      { ...found, hash: found.hash.toUpperCase() },
      { ...found, tx: null },
      { ...found, block: null },
      { ...found, block: { ...found.block, header: null } },
      { ...found, proof: null },
      { ...found, proof: { ...found.proof, path: 'nope' } },
      { ...found, proof: { ...found.proof, path: [found.proof.path[0]!.toUpperCase()] } },
      { ...found, proof: { ...found.proof, leafIndex: -1 } },
      { ...found, tx: { ...found.tx, sender: 'cof1nope', signature: 7 } },
      { ...found, block: { ...found.block, header: { ...found.block.header, producer: 'x' } } },
    ];
    for (const input of cases) {
      const verdict = verifyTxInclusion(input as TxWithProof, trust);
      assert.equal(verdict.ok, false, JSON.stringify(input)?.slice(0, 80));
      assert.ok(verdict.problems.length > 0);
    }
  });

  it('property: any random tampering of a real proof bundle fails with a sentence', () => {
    type Tamper =
      | { kind: 'path'; step: number; byte: number; bit: number }
      | { kind: 'hash' | 'txSignature' | 'blockSignature'; byte: number; bit: number }
      | { kind: 'header'; field: keyof BlockHeader; rehash: boolean }
      | { kind: 'tx'; field: 'chainId' | 'type' | 'sender' | 'nonce' | 'memo' | 'expiresAt' }
      | { kind: 'payload'; field: 'to' | 'asset' | 'amount' }
      | { kind: 'leafIndex'; delta: number };
    const byte = fc.nat(63);
    const bit = fc.nat(7);
    const tamper: fc.Arbitrary<Tamper> = fc.oneof(
      fc.record({ kind: fc.constant('path' as const), step: fc.nat(10), byte, bit }),
      fc.record({
        kind: fc.constantFrom('hash' as const, 'txSignature' as const, 'blockSignature' as const),
        byte,
        bit,
      }),
      fc.record({
        kind: fc.constant('header' as const),
        field: fc.constantFrom(...headerFields),
        rehash: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('tx' as const),
        field: fc.constantFrom(
          'chainId' as const,
          'type' as const,
          'sender' as const,
          'nonce' as const,
          'memo' as const,
          'expiresAt' as const,
        ),
      }),
      fc.record({
        kind: fc.constant('payload' as const),
        field: fc.constantFrom('to' as const, 'asset' as const, 'amount' as const),
      }),
      fc.record({
        kind: fc.constant('leafIndex' as const),
        delta: fc.integer({ min: -6, max: 6 }).filter((d) => d !== 0),
      }),
    );
    fc.assert(
      fc.property(
        fc.nat(batchLength - 1),
        fc.array(tamper, { minLength: 1, maxLength: 3 }),
        (which, tampers) => {
          const found = batch[which]!;
          const bundle = copy(found) as TxWithProof;
          for (const t of tampers) {
            switch (t.kind) {
              case 'path': {
                const step = t.step % bundle.proof.path.length;
                bundle.proof.path[step] = flipBit(bundle.proof.path[step]!, t.byte, t.bit);
                break;
              }
              case 'hash':
                bundle.hash = flipBit(bundle.hash, t.byte, t.bit);
                break;
              case 'txSignature':
                bundle.tx.signature = flipBit(bundle.tx.signature, t.byte, t.bit);
                break;
              case 'blockSignature':
                bundle.block.signature = flipSignatureBit(bundle.block.signature, t.byte, t.bit);
                break;
              case 'header': {
                const header = bundle.block.header as unknown as Record<string, unknown>;
                header[t.field] = otherValue(header[t.field]);
                if (t.rehash) bundle.block.hash = headerHash(bundle.block.header);
                break;
              }
              case 'tx': {
                const tx = bundle.tx as unknown as Record<string, unknown>;
                tx[t.field] = otherValue(tx[t.field]);
                break;
              }
              case 'payload':
                bundle.tx.payload[t.field] = otherValue(bundle.tx.payload[t.field]);
                break;
              case 'leafIndex':
                bundle.proof.leafIndex = (bundle.proof.leafIndex + t.delta + 70) % batchLength;
                break;
            }
          }
          // Two tamperings can cancel out (the same bit flipped twice): then it is the original.
          const unchanged = JSON.stringify(bundle) === JSON.stringify(found);
          const verdict = verifyTxInclusion(bundle, trust);
          if (unchanged) return verdict.ok;
          return (
            !verdict.ok &&
            verdict.problems.length > 0 &&
            verdict.problems.every((p) => typeof p === 'string' && p.length > 10)
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- headers ---------------------------------------------------------------------------------

describe('verifyHeaderChain against real blocks', { timeout: 20_000 }, () => {
  it('the whole chain from genesis verifies, with and without the producer named', () => {
    assert.ok(chain.length >= 6, `${chain.length} blocks`);
    assert.equal(chain[0]!.header.height, 0);
    const done: number[] = [];
    assert.deepEqual(verifyHeaderChain(chain, { trust, onProgress: (n) => done.push(n) }), {
      ok: true,
      problems: [],
      failures: [],
    });
    assert.deepEqual(
      done,
      chain.map((_, i) => i + 1),
    );
    assert.equal(verifyHeaderChain(chain, { trust }).ok, true);
    for (const block of chain) assert.equal(verifyHeader(block, trust).ok, true);
  });

  it('a run anchored to a trusted previous header verifies; a wrong anchor fails', () => {
    const run = chain.slice(3);
    assert.equal(verifyHeaderChain(run, { trust, previous: chain[2]! }).ok, true);
    assertFails(verifyHeaderChain(run, { trust, previous: chain[1]! }), /follows height 1/);
    assertFails(verifyHeaderChain(run, { trust, previous: chain[1]! }), /prevHash does not link/);
  });

  it('a gap fails', () => {
    const gapped = [...chain.slice(0, 2), ...chain.slice(3)];
    assertFails(verifyHeaderChain(gapped, { trust }), /block 3: follows height 1/);
    assertFails(verifyHeaderChain([chain[2]!, chain[1]!], { trust }), /follows height 2/);
    assertFails(verifyHeaderChain([chain[1]!, chain[1]!], { trust }), /follows height 1/);
  });

  it('a broken prevHash link fails even when the producer signed it', () => {
    // Only the producer's own key can make this: the signature is valid, the link is not.
    const broken = chain.map((b) => copy(b) as SignedHeader);
    const k = 3;
    broken[k] = resign(
      broken[k]!,
      { ...broken[k]!.header, prevHash: flipBit(broken[k]!.header.prevHash, 5) },
      producer,
    );
    assert.equal(verifyHeader(broken[k], trust).ok, true);
    assertFails(
      verifyHeaderChain(broken, { trust }),
      new RegExp(`block ${k}: prevHash does not link`),
    );
    // The next header still names the original hash, so it does not link either.
    assertFails(
      verifyHeaderChain(broken, { trust }),
      new RegExp(`block ${k + 1}: prevHash does not link`),
    );
  });

  it('a block from a producer the verifier does not trust fails, however consistent', () => {
    const mallory = generateKey();
    const last = chain.at(-1)!;
    const forged = resign(
      last,
      {
        ...last.header,
        height: last.header.height + 1,
        prevHash: last.hash,
        producer: producerId(mallory),
      },
      mallory,
    );
    assertFailsWith(
      verifyHeader(forged, trust),
      'producer_untrusted',
      /not one the verifier trusts/,
    );
    assertFailsWith(verifyHeaderChain([...chain, forged], { trust }), 'producer_untrusted');
    // A whole chain by mallory, self-consistent from genesis on, is refused at every header.
    const forgedChain: SignedHeader[] = [];
    for (const block of chain) {
      const previous = forgedChain.at(-1);
      const header = { ...block.header, producer: producerId(mallory) };
      if (previous) header.prevHash = previous.hash;
      forgedChain.push(resign(block, header, mallory));
    }
    const verdict = verifyHeaderChain(forgedChain, { trust });
    assert.equal(
      verdict.failures.filter((f) => f.check === 'producer_untrusted').length,
      chain.length,
    );
  });

  it('a tampered header fails, whether or not its hash is recomputed', () => {
    for (const field of headerFields) {
      for (const k of [0, 2, chain.length - 1]) {
        const tampered = chain.map((b) => copy(b) as SignedHeader);
        const header = tampered[k]!.header as unknown as Record<string, unknown>;
        header[field] = otherValue(header[field]);
        assertFails(
          verifyHeaderChain(tampered, { trust }),
          /hash does not match/,
          `${field} of ${k}`,
        );
        tampered[k]!.hash = headerHash(tampered[k]!.header);
        assertFails(
          verifyHeaderChain(tampered, { trust }),
          /signature does not verify|not a valid address/,
          `${field} of ${k}, rehashed`,
        );
      }
    }
  });

  it('time going backwards and a non-zero genesis prevHash fail even when signed', () => {
    const backwards = chain.map((b) => copy(b) as SignedHeader);
    backwards[4] = resign(backwards[4]!, { ...backwards[4]!.header, time: 0 }, producer);
    backwards[5] = resign(
      backwards[5]!,
      { ...backwards[5]!.header, prevHash: backwards[4].hash },
      producer,
    );
    assertFails(
      verifyHeaderChain(backwards.slice(0, 6), { trust }),
      /block 4: time went backwards/,
    );
    const genesis = resign(chain[0]!, { ...chain[0]!.header, prevHash: 'ab'.repeat(32) }, producer);
    assertFails(verifyHeaderChain([genesis], { trust }), /block 0: prevHash must be zero/);
  });

  it('malformed headers are problems, never throws', () => {
    const bad: unknown[] = [
      null,
      5,
      {},
      { ...chain[1], header: { ...chain[1]!.header, height: -1 } },
    ];
    for (const block of bad) {
      const verdict = verifyHeaderChain([chain[0]!, block as SignedHeader], { trust });
      assert.equal(verdict.ok, false, JSON.stringify(block));
    }
    assert.equal(verifyHeaderChain('nope' as unknown as SignedHeader[], { trust }).ok, false);
    assert.equal(
      verifyHeader({ ...chain[1]!, signature: 'zz' as unknown as SignedHeader['signature'] }, trust)
        .ok,
      false,
    );
  });

  it('property: any random tampering of a run of real headers fails', () => {
    // The run is anchored to genesis, so dropping its first header is a gap too; dropping its
    // last leaves a shorter valid run, which no check of a run can tell, so it is not drawn.
    const anchor = chain[0]!;
    const original = chain.slice(1);
    type Edit =
      | { kind: 'field'; block: number; field: keyof BlockHeader; rehash: boolean }
      | { kind: 'hash' | 'signature'; block: number; byte: number }
      | { kind: 'drop' | 'duplicate' | 'swap'; block: number };
    const block = fc.nat(original.length - 1);
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      fc.record({
        kind: fc.constant('field' as const),
        block,
        field: fc.constantFrom(...headerFields),
        rehash: fc.boolean(),
      }),
      fc.record({
        kind: fc.constantFrom('hash' as const, 'signature' as const),
        block,
        byte: fc.nat(63),
      }),
      fc.record({
        kind: fc.constantFrom('drop' as const, 'duplicate' as const, 'swap' as const),
        block,
      }),
    );
    assert.equal(verifyHeaderChain(original, { trust, previous: anchor }).ok, true);
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const run = original.map((b) => copy(b) as SignedHeader);
        for (const e of edits) {
          const k = e.block % run.length;
          switch (e.kind) {
            case 'field': {
              const header = run[k]!.header as unknown as Record<string, unknown>;
              header[e.field] = otherValue(header[e.field]);
              if (e.rehash) run[k]!.hash = headerHash(run[k]!.header);
              break;
            }
            case 'hash':
              run[k]!.hash = flipBit(run[k]!.hash, e.byte % 32);
              break;
            case 'signature':
              run[k]!.signature = flipSignatureBit(run[k]!.signature, e.byte);
              break;
            case 'drop':
              run.splice(Math.min(k, run.length - 2), 1);
              break;
            case 'duplicate':
              run.splice(k, 0, copy(run[k]!));
              break;
            case 'swap': {
              const j = k === run.length - 1 ? k - 1 : k + 1;
              [run[k], run[j]] = [run[j]!, run[k]!];
              break;
            }
          }
        }
        // Edits can add up to no forgery (a swap swapped back, a swap then a drop that cuts off
        // the last header): a prefix of the real run is a valid run.
        if (JSON.stringify(run) === JSON.stringify(original.slice(0, run.length))) {
          return verifyHeaderChain(run, { trust, previous: anchor }).ok;
        }
        const verdict = verifyHeaderChain(run, { trust, previous: anchor });
        return !verdict.ok && verdict.problems.every((p) => p.length > 10);
      }),
      { numRuns: 300 },
    );
  });
});
