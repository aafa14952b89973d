// docs/test-vectors.json is the protocol's contract with implementers in other languages:
// (a) it is exactly what scripts/test-vectors.ts computes with the project's code today, so a
//     format change without a vector update fails here;
// (b) an independent verifier written from docs/protocol.md alone (test/support/
//     independent-verifier.ts: nothing of src/) reproduces and checks every vector;
// (c) on random blocks, that verifier and the SDK's verify functions give the same verdicts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { testVectorsDocument, testVectorsFile } from '../scripts/test-vectors.js';
import {
  blockHash,
  blockSigningMessage,
  Chain,
  decodeTx,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  signTx,
  type Genesis,
  type SignedBlock,
} from '../src/chain/index.js';
import {
  addressFromPublicKey,
  fromHex,
  inclusionProof,
  keyPairFromSecret,
  sha256,
  signAtHeight,
  toHex,
} from '../src/crypto/index.js';
import {
  hashTx,
  signTx as signSdkTx,
  txs,
  verifyHeader,
  verifyHeaderChain,
  verifyTxInclusion,
  type ProducerTrust,
  type TxWithProof,
  type Verdict,
  type VerifyCheck,
} from '../src/sdk/index.js';
import { SqliteBlockStore } from '../src/state/index.js';
import { TestBlockSigner } from './support/block-signer.js';
import { startTestNode } from './support/test-node.js';
import * as v from './support/independent-verifier.js';

const root = path.resolve(import.meta.dirname, '..');
const committedText = fs.readFileSync(path.join(root, testVectorsFile), 'utf8');

// The vectors as the file holds them: only the shapes this test reads.
interface TxVector {
  name: string;
  secretKey: string;
  publicKey: string;
  body: Record<string, unknown>;
  canonical: string;
  hash: string;
  signingMessage: string;
  signature: string;
  signed: Record<string, unknown>;
}
interface ProofJson {
  leafIndex: number;
  treeSize: number;
  path: string[];
}
interface AccountableSignatureJson {
  height: number;
  R: string;
  s: string;
}
interface NonceProofJson {
  height: number;
  R: string;
  index: number;
  treeSize: number;
  path: string[];
}
interface SignedBlockJson {
  hash: string;
  header: Record<string, unknown> & { height: number; stateRoot: string; txRoot: string };
  signature: AccountableSignatureJson & { nonceProof: NonceProofJson };
}
interface Vectors {
  protocolVersion: number;
  domains: Record<string, string>;
  keys: {
    name: string;
    secretKey: string;
    publicKey: string;
    address: string;
    message: string;
    signature: string;
  }[];
  derivedAddresses: {
    namespace: string;
    id: string;
    preimage: string;
    publicKeyBytes: string;
    address: string;
  }[];
  canonicalJson: {
    accepted: { name: string; json: string; canonical: string; utf8: string; sha256: string }[];
    refused: { name: string; json: string }[];
  };
  txs: TxVector[];
  merkle: {
    trees: { name: string; leaves: string[]; root: string; proofs: ProofJson[] }[];
    inclusion: {
      name: string;
      leaf: string;
      leafIndex: number;
      treeSize: number;
      path: string[];
      root: string;
      valid: boolean;
    }[];
  };
  accountable: {
    key: {
      seed: string;
      keyHashInput: string;
      secretScalar: string;
      publicKey: string;
      producerId: string;
      nonceSecret: string;
    };
    nonces: { chainId: string; height: number; heightBytes: string; k: string; R: string }[];
    signatures: {
      chainId: string;
      height: number;
      message: string;
      signedMessage: string;
      challenge: string;
      signature: AccountableSignatureJson;
      ed25519Signature: string;
    }[];
    verification: {
      name: string;
      publicKey: string;
      height: number;
      message: string;
      signature: AccountableSignatureJson;
      valid: boolean;
    }[];
  };
  nonceCommitment: {
    chainId: string;
    fromHeight: number;
    count: number;
    nonces: string[];
    leaves: string[];
    root: string;
    range: v.NonceRange;
    proofs: NonceProofJson[];
    verification: { name: string; proof: NonceProofJson; valid: boolean }[];
  };
  hiddenInfo: {
    secretScalar: string;
    info: unknown;
    canonicalInfo: string;
    salt: string;
    commitmentInput: string;
    commitment: string;
    key: string;
    iv: string;
    plaintext: string;
    aad: string;
    tag: string;
    hiddenInfo: string;
  };
  stateRoot: {
    domain: string;
    rootBeforeGenesis: string;
    steps: {
      name: string;
      writes: v.WriteEntry[];
      writeSetJson: string;
      digest: string;
      previousRoot: string;
      root: string;
    }[];
  };
  attestation: {
    secretKey: string;
    statement: { chainId: string; height: number; blockHash: string; stateRoot: string };
    canonical: string;
    digest: string;
    signingMessage: string;
    attestation: { validator: string; signature: string };
  };
  equivocation: {
    producer: string;
    publicKey: string;
    height: number;
    a: {
      header: Record<string, unknown>;
      signature: AccountableSignatureJson;
      hash: string;
      challenge: string;
    };
    b: {
      header: Record<string, unknown>;
      signature: AccountableSignatureJson;
      hash: string;
      challenge: string;
    };
    secretScalar: string;
    evidenceTx: Record<string, unknown>;
    evidenceTxHash: string;
    revealedInfo: unknown;
  };
  chain: {
    chainId: string;
    genesis: {
      modules: { producers: { producers: { hiddenInfo: string; commitment: string }[] } };
    };
    producerEscrow: string;
    trust: { producer: string; nonceRanges: v.NonceRange[] };
    blocks: (SignedBlockJson & {
      canonicalHeader: string;
      signingMessage: string;
      txHashes: string[];
      receipts: unknown[];
      writes: v.WriteEntry[];
    })[];
    bundles: Record<string, unknown>[];
    invalidBundles: { name: string; failedCheck: string; bundle: unknown }[];
  };
}

const vectors = JSON.parse(committedText) as Vectors;
const b = (text: string) => v.unhex(text);

describe('docs/test-vectors.json is what the project computes', () => {
  it('regenerating the vectors gives exactly the committed file', async () => {
    assert.equal(
      committedText,
      await testVectorsDocument(),
      'a format changed: update docs/protocol.md, bump the domain tag, and run: node --import tsx scripts/test-vectors.ts',
    );
  });
});

describe('an independent verifier (docs/protocol.md alone) checks every vector', () => {
  it('domain tags', () => {
    assert.equal(vectors.protocolVersion, 2);
    for (const [name, tag] of Object.entries(v.domains)) {
      assert.equal(vectors.domains[name], tag, name);
    }
  });

  it('ed25519 keys, addresses and signatures', () => {
    for (const key of vectors.keys) {
      const publicKey = v.ed25519PublicKey(b(key.secretKey));
      assert.equal(v.hex(publicKey), key.publicKey, key.name);
      assert.equal(v.addressOf(publicKey), key.address, key.name);
      assert.equal(v.hex(v.publicKeyOf(key.address)!), key.publicKey, key.name);
      assert.equal(v.hex(v.ed25519Sign(b(key.message), b(key.secretKey))), key.signature);
      assert.ok(v.ed25519Verify(publicKey, b(key.message), b(key.signature)), key.name);
    }
    // RFC 8032 section 7.1 TEST 1 (the first key): the public key the RFC prints.
    assert.equal(
      vectors.keys[0]!.publicKey,
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const [address] = vectors.keys.map((k) => k.address);
    assert.equal(v.publicKeyOf(address!.toUpperCase()), undefined, 'uppercase is refused');
    assert.equal(v.publicKeyOf(address!.slice(0, -1) + 'q'), undefined, 'a bad checksum');
  });

  it('derived addresses', () => {
    for (const d of vectors.derivedAddresses) {
      assert.equal(v.hex(v.utf8(`coffer/derived/v1\0${d.namespace}\0${d.id}`)), d.preimage);
      assert.equal(v.addressOf(b(d.publicKeyBytes)), d.address);
      assert.equal(v.derivedAddress(d.namespace, d.id), d.address);
    }
    assert.equal(
      v.derivedAddress('escrow/producers', vectors.chain.trust.producer),
      vectors.chain.producerEscrow,
    );
  });

  it('canonical JSON: accepted and refused inputs', () => {
    for (const c of vectors.canonicalJson.accepted) {
      const canonical = v.canonicalJson(JSON.parse(c.json));
      assert.equal(canonical, c.canonical, c.name);
      assert.equal(v.hex(v.utf8(canonical)), c.utf8, c.name);
      assert.equal(v.hex(v.canonicalHash(JSON.parse(c.json))), c.sha256, c.name);
    }
    for (const c of vectors.canonicalJson.refused) {
      assert.throws(() => v.canonicalJson(JSON.parse(c.json)), v.CanonicalJsonError, c.name);
    }
  });

  it('txs: body -> canonical JSON -> hash -> signing message -> signature', () => {
    for (const t of vectors.txs) {
      assert.equal(v.canonicalJson(v.txBody(t.signed)), t.canonical, t.name);
      assert.equal(v.canonicalJson(t.body), t.canonical, t.name);
      const hash = v.txHash(t.signed);
      assert.equal(v.hex(hash), t.hash, t.name);
      const message = v.domainMessage(v.domains.tx, hash);
      assert.equal(v.hex(message), t.signingMessage, t.name);
      assert.equal(v.hex(v.ed25519Sign(message, b(t.secretKey))), t.signature, t.name);
      assert.deepEqual(t.signed, { ...t.body, signature: t.signature });
      assert.equal(v.checkTx(t.signed, t.hash), undefined, t.name);
      assert.equal(v.addressOf(b(t.publicKey)), t.body.sender);
    }
  });

  it('Merkle trees: roots and every inclusion proof, path leaf level first', () => {
    for (const tree of vectors.merkle.trees) {
      const leaves = tree.leaves.map(b);
      assert.equal(v.hex(v.merkleTreeHash(leaves)), tree.root, tree.name);
      assert.equal(tree.proofs.length, leaves.length);
      for (const proof of tree.proofs) {
        const path = v.merkleAuditPath(leaves, proof.leafIndex);
        assert.deepEqual(path.map(v.hex), proof.path, `${tree.name} #${proof.leafIndex}`);
        assert.equal(proof.treeSize, leaves.length);
        assert.ok(
          v.verifyMerkleInclusion(
            leaves[proof.leafIndex]!,
            proof.leafIndex,
            proof.treeSize,
            path,
            b(tree.root),
          ),
        );
      }
    }
    assert.equal(
      vectors.merkle.trees[0]!.root,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'the empty tree is SHA-256 of nothing',
    );
    for (const c of vectors.merkle.inclusion) {
      const verdict = v.verifyMerkleInclusion(
        b(c.leaf),
        c.leafIndex,
        c.treeSize,
        c.path.map(b),
        b(c.root),
      );
      assert.equal(verdict, c.valid, c.name);
    }
  });

  it('accountable keys, nonces, challenges and signatures', () => {
    const a = vectors.accountable;
    assert.equal(
      v.hex(v.concat(v.utf8(v.domains.accountableKey), b(a.key.seed))),
      a.key.keyHashInput,
    );
    const key = v.accountableKey(b(a.key.seed));
    assert.equal(v.hex(v.scalarBytes(key.x)), a.key.secretScalar);
    assert.equal(v.hex(key.publicKey), a.key.publicKey);
    assert.equal(v.hex(key.nonceSecret), a.key.nonceSecret);
    assert.equal(v.addressOf(key.publicKey), a.key.producerId);
    assert.ok(v.isAccountablePublicKey(key.publicKey));
    for (const n of a.nonces) {
      assert.equal(v.hex(v.uint64be(n.height)), n.heightBytes);
      const nonce = v.accountableNonce(key.nonceSecret, n.chainId, n.height);
      assert.equal(v.hex(v.scalarBytes(nonce.k)), n.k, `k at ${n.chainId}/${n.height}`);
      assert.equal(v.hex(nonce.R), n.R, `R at ${n.chainId}/${n.height}`);
    }
    for (const s of a.signatures) {
      const message = b(s.message);
      assert.equal(v.hex(v.accountableMessage(s.height, message)), s.signedMessage);
      const c = v.accountableChallenge(b(s.signature.R), key.publicKey, s.height, message);
      assert.equal(v.hex(v.scalarBytes(c)), s.challenge);
      assert.deepEqual(v.accountableSign(key, s.chainId, s.height, message), s.signature);
      assert.ok(v.verifyAccountable(key.publicKey, message, s.signature, s.height));
      // Also a plain ed25519 signature (R || s) of the signed message by P.
      assert.ok(v.ed25519Verify(key.publicKey, b(s.signedMessage), b(s.ed25519Signature)));
    }
    for (const c of a.verification) {
      const verdict = v.verifyAccountable(b(c.publicKey), b(c.message), c.signature, c.height);
      assert.equal(verdict, c.valid, c.name);
    }
  });

  it('nonce commitments: leaves, root, proofs', () => {
    const n = vectors.nonceCommitment;
    const key = v.accountableKey(b(vectors.accountable.key.seed));
    n.nonces.forEach((R, index) => {
      const height = n.fromHeight + index;
      assert.equal(v.hex(v.accountableNonce(key.nonceSecret, n.chainId, height).R), R);
      assert.equal(v.hex(v.nonceLeaf(height, b(R))), n.leaves[index]);
    });
    assert.equal(v.nonceCommitmentRoot(key.nonceSecret, n.chainId, n.fromHeight, n.count), n.root);
    const leaves = n.leaves.map(b);
    for (const proof of n.proofs) {
      assert.equal(proof.index, proof.height - n.fromHeight);
      assert.equal(proof.R, n.nonces[proof.index]);
      assert.deepEqual(v.merkleAuditPath(leaves, proof.index).map(v.hex), proof.path);
      assert.ok(v.verifyNonceProof(n.range, proof));
    }
    for (const c of n.verification) {
      assert.equal(v.verifyNonceProof(n.range, c.proof), c.valid, c.name);
    }
  });

  it('hidden information: key, plaintext, ciphertext, commitment', () => {
    const h = vectors.hiddenInfo;
    const x = v.le(b(h.secretScalar));
    assert.equal(v.hex(v.hiddenInfoKey(x)), h.key);
    assert.equal(v.canonicalJson(h.info), h.canonicalInfo);
    assert.equal(v.canonicalJson({ info: h.info, salt: h.salt }), h.plaintext);
    assert.equal(
      v.hex(v.concat(v.utf8(v.domains.hiddenInfoCommit), b(h.salt), v.utf8(h.canonicalInfo))),
      h.commitmentInput,
    );
    assert.equal(v.hiddenInfoCommitment(h.info, b(h.salt)), h.commitment);
    assert.equal(v.hex(v.utf8(v.domains.hiddenInfoAead)), h.aad);
    const sealed = v.sealHiddenInfo(x, h.info, b(h.salt), b(h.iv));
    assert.equal(sealed.hiddenInfo, h.hiddenInfo);
    assert.equal(sealed.commitment, h.commitment);
    assert.ok(h.hiddenInfo.startsWith(h.iv) && h.hiddenInfo.endsWith(h.tag));
    assert.deepEqual(v.openHiddenInfo(x, h.hiddenInfo, h.commitment), {
      info: h.info,
      salt: h.salt,
    });
    assert.equal(v.openHiddenInfo(x + 1n, h.hiddenInfo, h.commitment), undefined);
  });

  it('state root: the root before genesis and a chain over write-sets', () => {
    const s = vectors.stateRoot;
    assert.equal(s.rootBeforeGenesis, v.hex(v.rootBeforeGenesis));
    let previous: Uint8Array = v.rootBeforeGenesis;
    for (const step of s.steps) {
      assert.equal(v.hex(previous), step.previousRoot, step.name);
      assert.equal(v.canonicalJson(step.writes), step.writeSetJson, step.name);
      assert.equal(v.hex(v.writeSetDigest(step.writes)), step.digest, step.name);
      previous = v.nextStateRoot(previous, step.writes);
      assert.equal(v.hex(previous), step.root, step.name);
    }
  });

  it('cluster attestation', () => {
    const a = vectors.attestation;
    const { chainId, height, blockHash, stateRoot } = a.statement;
    assert.equal(v.canonicalJson(a.statement), a.canonical);
    assert.equal(v.hex(v.sha256Of(a.canonical)), a.digest);
    const message = v.attestationMessage(chainId, height, blockHash, stateRoot);
    assert.equal(v.hex(message), a.signingMessage);
    assert.equal(v.hex(v.ed25519Sign(message, b(a.secretKey))), a.attestation.signature);
    assert.ok(
      v.ed25519Verify(v.publicKeyOf(a.attestation.validator)!, message, b(a.attestation.signature)),
    );
  });

  it('equivocation: two signatures at one height reveal x, and x opens the hidden information', () => {
    const e = vectors.equivocation;
    const publicKey = b(e.publicKey);
    assert.equal(v.addressOf(publicKey), e.producer);
    const halves = [e.a, e.b].map((half) => {
      assert.equal(v.headerHash(half.header), half.hash);
      const message = v.domainMessage(v.domains.block, b(half.hash));
      assert.ok(v.verifyAccountable(publicKey, message, half.signature, e.height));
      const c = v.accountableChallenge(b(half.signature.R), publicKey, e.height, message);
      assert.equal(v.hex(v.scalarBytes(c)), half.challenge);
      return { message, signature: half.signature };
    });
    assert.notEqual(e.a.hash, e.b.hash);
    assert.equal(e.a.signature.R, e.b.signature.R, 'one committed nonce, two headers');
    const x = v.extractSecret(publicKey, halves[0]!, halves[1]!);
    assert.ok(x !== undefined);
    assert.equal(v.hex(v.scalarBytes(x)), e.secretScalar);
    const [producer] = vectors.chain.genesis.modules.producers.producers;
    assert.deepEqual(
      v.openHiddenInfo(x, producer!.hiddenInfo, producer!.commitment)?.info,
      e.revealedInfo,
    );
    assert.equal(v.checkTx(e.evidenceTx, e.evidenceTxHash), undefined);
    assert.deepEqual(e.evidenceTx.payload, {
      a: { header: e.a.header, signature: e.a.signature },
      b: { header: e.b.header, signature: e.b.signature },
    });
  });

  it('a chain: header hashes, links, signatures, nonce proofs, tx and receipt roots, state roots', () => {
    const c = vectors.chain;
    const trust: v.Trust = { producers: { [c.trust.producer]: c.trust.nonceRanges } };
    assert.equal(v.checkHeaderChain(c.blocks, trust), undefined);
    let previousRoot: Uint8Array = v.rootBeforeGenesis;
    for (const block of c.blocks) {
      assert.equal(v.canonicalJson(block.header), block.canonicalHeader);
      assert.equal(v.hex(v.domainMessage(v.domains.block, b(block.hash))), block.signingMessage);
      assert.equal(block.header.txCount, block.txHashes.length);
      assert.equal(v.hex(v.merkleTreeHash(block.txHashes.map(b))), block.header.txRoot);
      const receiptLeaves = block.receipts.map((receipt) => v.canonicalHash(receipt));
      assert.equal(v.hex(v.merkleTreeHash(receiptLeaves)), block.header.receiptRoot);
      previousRoot = v.nextStateRoot(previousRoot, block.writes);
      assert.equal(
        v.hex(previousRoot),
        block.header.stateRoot,
        `state root ${block.header.height}`,
      );
    }
    // Without the producer's ranges nothing can be checked.
    assert.equal(v.checkHeaderChain(c.blocks, { producers: {} }), 'producer_untrusted');
  });

  it('tx bundles as GET /v1/txs/{hash} answers them: valid ones pass, each tampered one fails its check', () => {
    const c = vectors.chain;
    const trust: v.Trust = { producers: { [c.trust.producer]: c.trust.nonceRanges } };
    for (const bundle of c.bundles) {
      assert.equal(v.checkTxBundle(bundle, trust), undefined, String(bundle.hash));
    }
    for (const invalid of c.invalidBundles) {
      assert.equal(v.checkTxBundle(invalid.bundle, trust), invalid.failedCheck, invalid.name);
    }
    const withoutReceipt = c.invalidBundles.find((i) => i.failedCheck === 'receipt_missing')!;
    assert.equal(v.checkTxBundle(withoutReceipt.bundle, trust, { receipt: false }), undefined);
  });
});

// ---- (c) random blocks: the independent verifier and the SDK agree ----------------------------

const randomChainId = 'coffer-random';
const registry = new ModuleRegistry([ledgerModule]);

interface RandomTx {
  from: number;
  to: number;
  amount: number;
  memo: string | undefined;
  expired: boolean;
}

interface Scenario {
  producerSeed: Uint8Array;
  accountSeeds: Uint8Array[];
  rangeHeights: number;
  blocks: RandomTx[][];
}

const seedArbitrary = fc.uint8Array({ minLength: 32, maxLength: 32 });
// Any UTF-16 code units, lone surrogates included: the canonical form must agree on all of them.
const memoArbitrary = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
  maxLength: 12,
});
const accountsMax = 4;
const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  producerSeed: seedArbitrary,
  accountSeeds: fc.array(seedArbitrary, { minLength: accountsMax, maxLength: accountsMax }),
  // Small ranges, so a few blocks span several committed ranges.
  rangeHeights: fc.integer({ min: 1, max: 6 }),
  blocks: fc.array(
    fc.array(
      fc.record({
        from: fc.integer({ min: 0, max: accountsMax - 1 }),
        to: fc.integer({ min: 0, max: accountsMax - 1 }),
        amount: fc.integer({ min: 1, max: 6_000 }),
        memo: fc.option(memoArbitrary, { nil: undefined }),
        expired: fc.boolean(),
      }),
      { maxLength: 9 },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

interface BuiltChain {
  trust: v.Trust & ProducerTrust;
  blocks: SignedBlock[];
  bundles: Bundle[];
  signer: TestBlockSigner;
}

type Bundle = Record<string, unknown> & {
  hash: string;
  index: number;
  proof: ProofJson;
  receiptProof: ProofJson;
  block: SignedBlockJson;
};

/** Produces the scenario's blocks with the project's chain and answers as the API does. */
function buildChain(scenario: Scenario): BuiltChain {
  const signer = new TestBlockSigner(scenario.producerSeed, randomChainId, scenario.rangeHeights);
  const accounts = scenario.accountSeeds.map((seed) => {
    const pair = keyPairFromSecret(seed);
    return { ...pair, address: addressFromPublicKey(pair.publicKey) };
  });
  const genesisTime = 1_700_000_000_000;
  const genesis: Genesis = {
    chainId: randomChainId,
    time: genesisTime,
    producer: signer.producer,
    assets: [{ symbol: 'USD', decimals: 2, issuer: accounts[0]!.address }],
    // The last account holds nothing: its transfers fail, so receipts are of both kinds.
    balances: accounts
      .slice(0, -1)
      .map((a) => ({ address: a.address, asset: 'USD', amount: '10000' })),
  };
  const store = new SqliteBlockStore(':memory:');
  try {
    Chain.initialize(store, genesis, signer);
    const chain = new Chain(store, registry);
    const nonces = new Map<string, number>();
    const hashes: string[] = [];
    scenario.blocks.forEach((txs, blockIndex) => {
      const time = genesisTime + (blockIndex + 1) * 1000;
      const decoded = txs.map((t) => {
        const from = accounts[t.from]!;
        const nonce = nonces.get(from.address) ?? 0;
        nonces.set(from.address, nonce + 1);
        const signed = signTx(
          {
            chainId: randomChainId,
            type: 'ledger.transfer',
            sender: from.address,
            nonce,
            payload: { to: accounts[t.to]!.address, asset: 'USD', amount: String(t.amount) },
            ...(t.memo === undefined ? {} : { memo: t.memo }),
            ...(t.expired ? { expiresAt: time - 1 } : {}),
          },
          from.secretKey,
        );
        const result = decodeTx(signed, randomChainId, registry.parserFor);
        if (isRejection(result)) throw new Error(`admission refused: ${result.code}`);
        hashes.push(result.hash);
        return result;
      });
      chain.produce(decoded, time, signer);
    });
    const last = store.lastHeight();
    const blocks = store.getBlocks(0, last).map((stored): SignedBlock => ({
      hash: stored.hash,
      header: JSON.parse(stored.header) as SignedBlock['header'],
      signature: JSON.parse(stored.signature) as SignedBlock['signature'],
    }));
    const ranges = new Map<number, v.NonceRange>();
    for (let height = 0; height <= last; height++) {
      const range = signer.range(height);
      ranges.set(range.fromHeight, range);
    }
    const trust = { producers: { [signer.producer]: [...ranges.values()] } };
    return { trust, blocks, bundles: hashes.map((hash) => apiTxBundle(store, hash)), signer };
  } finally {
    store.close();
  }
}

/** `GET /v1/txs/{hash}` as src/node/api.ts builds it from the store. */
function apiTxBundle(store: SqliteBlockStore, hash: string): Bundle {
  const stored = store.getTx(hash)!;
  const block = store.getBlock(stored.height)!;
  const blockTxs = store.getTxs(stored.height);
  const leaves = blockTxs.map((t) => fromHex(t.hash));
  const receiptLeaves = blockTxs.map((t) => sha256(t.receipt));
  return {
    hash,
    height: stored.height,
    index: stored.index,
    tx: JSON.parse(stored.body) as unknown,
    receipt: JSON.parse(stored.receipt) as unknown,
    block: {
      hash: block.hash,
      header: JSON.parse(block.header) as SignedBlockJson['header'],
      signature: JSON.parse(block.signature) as SignedBlockJson['signature'],
    },
    proof: {
      leafIndex: stored.index,
      treeSize: leaves.length,
      path: inclusionProof(leaves, stored.index).map(toHex),
    },
    receiptProof: {
      leafIndex: stored.index,
      treeSize: receiptLeaves.length,
      path: inclusionProof(receiptLeaves, stored.index).map(toHex),
    },
  };
}

/** Every string and number inside `value`, by path. */
function leafPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string' || typeof value === 'number') return [at];
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...at, index]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...at, key]));
  }
  return [];
}

const hexDigits = '0123456789abcdef';

/** Changes the leaf at `path` (a hex digit stays a hex digit, so deeper checks run too). */
function mutateLeaf(root: unknown, path: (string | number)[], choice: number): void {
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  const value = parent[key];
  if (typeof value === 'number') {
    parent[key] = value + (choice % 2 === 0 ? 1 : -1) * (1 + (choice % 3));
    return;
  }
  const text = value as string;
  if (text.length === 0) {
    parent[key] = 'x';
    return;
  }
  const at = choice % text.length;
  const old = text[at]!;
  const alphabet = hexDigits.includes(old) ? hexDigits : 'xyz';
  const replacement = alphabet[(alphabet.indexOf(old) + 1 + (choice % 5)) % alphabet.length]!;
  parent[key] = text.slice(0, at) + (replacement === old ? 'w' : replacement) + text.slice(at + 1);
}

type Tamper =
  | { kind: 'leaf'; pick: number; choice: number }
  | { kind: 'treeSize'; delta: number; both: boolean }
  | { kind: 'index'; to: number; relabel: boolean }
  | { kind: 'removeReceipt' }
  | { kind: 'removeReceiptProof' }
  | { kind: 'removeNonceProof' }
  | { kind: 'forkWithFreshNonce'; pick: number };

const tamperArbitrary: fc.Arbitrary<Tamper> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('leaf' as const), pick: fc.nat(), choice: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('treeSize' as const),
      delta: fc.integer({ min: -4, max: 8 }).filter((d) => d !== 0),
      both: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('index' as const),
      to: fc.nat({ max: 12 }),
      relabel: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeReceipt' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeReceiptProof' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeNonceProof' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('forkWithFreshNonce' as const), pick: fc.nat() }),
  },
);

const forkedFields = ['stateRoot', 'txRoot', 'receiptRoot', 'time', 'txCount'] as const;

/** A tampered copy of `bundle`, or undefined when the tamper changes nothing. */
function tamper(bundle: Bundle, how: Tamper, signer: TestBlockSigner): Bundle | undefined {
  const copy = structuredClone(bundle);
  switch (how.kind) {
    case 'leaf': {
      const paths = leafPaths(copy);
      mutateLeaf(copy, paths[how.pick % paths.length]!, how.choice);
      break;
    }
    case 'treeSize':
      copy.proof.treeSize += how.delta;
      if (how.both) copy.receiptProof.treeSize += how.delta;
      break;
    case 'index':
      if (how.to === copy.index) return undefined;
      copy.index = how.to;
      if (how.relabel) {
        copy.proof.leafIndex = how.to;
        copy.receiptProof.leafIndex = how.to;
      }
      break;
    case 'removeReceipt':
      delete copy.receipt;
      delete (copy as Partial<Bundle>).receiptProof;
      break;
    case 'removeReceiptProof':
      delete (copy as Partial<Bundle>).receiptProof;
      break;
    case 'removeNonceProof':
      delete (copy.block.signature as Partial<SignedBlockJson['signature']>).nonceProof;
      break;
    case 'forkWithFreshNonce': {
      // The producer's own key signs a changed header with a nonce it never committed.
      const { header } = copy.block;
      const field = forkedFields[how.pick % forkedFields.length]!;
      const forked = {
        ...header,
        [field]:
          field === 'time' || field === 'txCount'
            ? (header[field] as number) + 1
            : toHex(sha256(header[field] as string)),
      };
      const hash = blockHash(forked as unknown as SignedBlock['header']);
      const fresh = {
        ...signer.key,
        nonceSecret: sha256(new Uint8Array([...signer.key.nonceSecret, 1])),
      };
      const signature = signAtHeight(
        fresh,
        randomChainId,
        header.height,
        blockSigningMessage(hash),
      );
      copy.block = {
        header: forked,
        hash,
        signature: { ...signature, nonceProof: copy.block.signature.nonceProof },
      };
      break;
    }
  }
  return copy;
}

/**
 * Asserts that the two verdicts agree: both accept, or both refuse and the check the independent
 * verifier names first is among the SDK's failures. Returns whether they accept.
 */
function agree(independent: string | undefined, sdk: Verdict, context: string): boolean {
  const sdkChecks = sdk.failures.map((f) => f.check);
  assert.equal(
    sdk.ok,
    independent === undefined,
    `verdicts differ (${context}): independent ${independent ?? 'ok'}, sdk ${sdkChecks.join(', ') || 'ok'}`,
  );
  if (independent !== undefined) {
    assert.ok(
      sdkChecks.includes(independent as VerifyCheck),
      `the SDK does not name ${independent} (${context}): ${sdkChecks.join(', ')}`,
    );
  }
  return sdk.ok;
}

function bundleVerdicts(bundle: unknown, trust: ProducerTrust, receipt = true): boolean {
  return agree(
    v.checkTxBundle(bundle, trust as v.Trust, { receipt }),
    verifyTxInclusion(bundle as TxWithProof, trust, { receipt }),
    `bundle, receipt ${receipt}`,
  );
}

describe('on random blocks, the independent verifier and the SDK agree', () => {
  it('every tampered bundle of the vectors is refused by the SDK, naming the same check', () => {
    const c = vectors.chain;
    const trust = { producers: { [c.trust.producer]: c.trust.nonceRanges } };
    for (const bundle of c.bundles) assert.ok(bundleVerdicts(bundle, trust));
    for (const invalid of c.invalidBundles) {
      const sdk = verifyTxInclusion(invalid.bundle as TxWithProof, trust);
      assert.equal(sdk.ok, false, invalid.name);
      assert.ok(
        sdk.failures.some((f) => f.check === invalid.failedCheck),
        `${invalid.name}: ${sdk.failures.map((f) => f.check).join(', ')}`,
      );
    }
  });

  it('tx bundles: valid ones pass both; flipped, resized, re-indexed, receipt-less and forked ones fail both', () => {
    fc.assert(
      fc.property(
        scenarioArbitrary,
        fc.array(tamperArbitrary, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (scenario, tampers, pick) => {
          const built = buildChain(scenario);
          if (built.bundles.length === 0) return;
          const { trust } = built;
          for (const bundle of built.bundles) {
            assert.ok(bundleVerdicts(bundle, trust), `valid bundle ${bundle.hash}`);
          }
          const bundle = built.bundles[pick % built.bundles.length]!;
          for (const how of tampers) {
            const tampered = tamper(bundle, how, built.signer);
            if (tampered === undefined) continue;
            assert.equal(
              bundleVerdicts(tampered, trust),
              false,
              `accepted: ${JSON.stringify(how)}`,
            );
            if (how.kind === 'removeReceipt') {
              // Not asking for the outcome: both accept the bare inclusion.
              assert.ok(bundleVerdicts(tampered, trust, false));
            }
          }
          // Without the producer's committed ranges, nothing is accepted.
          assert.equal(bundleVerdicts(bundle, { producers: {} }), false);
        },
      ),
      { numRuns: 40, includeErrorInReport: true },
    );
  });

  it('headers and header runs: same verdicts on valid and tampered runs', () => {
    fc.assert(
      fc.property(
        scenarioArbitrary,
        fc.oneof(
          fc.record({
            kind: fc.constant('leaf' as const),
            block: fc.nat(),
            pick: fc.nat(),
            choice: fc.nat(),
          }),
          fc.record({ kind: fc.constant('drop' as const), block: fc.nat() }),
          fc.record({ kind: fc.constant('swap' as const), block: fc.nat() }),
          fc.record({ kind: fc.constant('anchor' as const), block: fc.nat() }),
        ),
        (scenario, how) => {
          const { blocks, trust } = buildChain(scenario);
          assert.ok(
            agree(v.checkHeaderChain(blocks, trust), verifyHeaderChain(blocks, { trust }), 'run'),
          );
          for (const block of blocks) {
            assert.ok(
              agree(v.checkSignedHeader(block, trust), verifyHeader(block, trust), 'header'),
            );
          }
          const run = structuredClone(blocks);
          const at = how.block % run.length;
          let previous: SignedBlock | undefined;
          switch (how.kind) {
            case 'leaf': {
              const paths = leafPaths(run[at]);
              mutateLeaf(run[at], paths[how.pick % paths.length]!, how.choice);
              const accepted = agree(
                v.checkSignedHeader(run[at], trust),
                verifyHeader(run[at]!, trust),
                JSON.stringify(how),
              );
              assert.equal(accepted, false, 'a changed header is refused');
              break;
            }
            case 'drop':
              run.splice(at, 1);
              break;
            case 'swap':
              if (run.length < 2) return;
              [run[0], run[run.length - 1]] = [run[run.length - 1]!, run[0]!];
              break;
            case 'anchor':
              // The run after `at`, anchored to block `at` as already trusted.
              previous = run[at];
              run.splice(0, at + 1);
              break;
          }
          agree(
            v.checkHeaderChain(run, trust, previous),
            verifyHeaderChain(run, { trust, ...(previous ? { previous } : {}) }),
            JSON.stringify(how),
          );
        },
      ),
      { numRuns: 40, includeErrorInReport: true },
    );
  });
});

describe('what a real node answers is what the spec says', { timeout: 30_000 }, () => {
  it('GET /v1/txs/{hash} bundles and GET /v1/blocks headers pass the independent verifier and the SDK', async () => {
    const node = await startTestNode('protocol-vectors');
    try {
      const { client, dev } = node;
      const { chainId } = await client.health();
      const nonce = (await client.getAccount(dev.address)).nonce;
      const signed = ['1', '22', '333'].map((amount, index) =>
        signSdkTx(
          {
            chainId,
            sender: dev.address,
            nonce: nonce + index,
            ...txs.transfer({ to: addressFromPublicKey(sha256(amount)), asset: 'USD', amount }),
            memo: `vector ${index} ✓`,
          },
          dev,
        ),
      );
      await client.submitBatch(signed, { wait: 'commit' });
      const { producers } = await client.listProducers();
      const trust = {
        producers: Object.fromEntries(producers.map((p) => [p.id, p.nonceRanges])),
      };
      for (const tx of signed) {
        const bundle = await client.getTx(hashTx(tx));
        assert.notEqual(bundle.status, 'pending');
        assert.equal(v.checkTxBundle(bundle, trust), undefined);
        assert.ok(verifyTxInclusion(bundle as TxWithProof, trust).ok);
      }
      const { height } = await client.health();
      const page = await client.getBlocks(0, height);
      assert.equal(v.checkHeaderChain(page.blocks, trust), undefined);
      assert.ok(verifyHeaderChain(page.blocks, { trust }).ok);
    } finally {
      await node.close();
    }
  });
});
