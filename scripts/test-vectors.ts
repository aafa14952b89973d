// Writes docs/test-vectors.json: every format of docs/protocol.md, computed by Coffer's own code
// from fixed seeds, so an implementer in another language can test against it.
// Run: node --import tsx scripts/test-vectors.ts  (test/protocol-vectors.test.ts checks that the
// committed file is what this script writes, and checks every vector with an independent verifier)
//
// Nothing here is random: seeds are SHA-256 of fixed names, times are fixed, and the one routine
// of the protocol that draws randomness (the salt and IV of the hidden information) is given
// fixed bytes while it runs (see hiddenInfoVector).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { ed25519 } from '@noble/curves/ed25519.js';
import * as prettier from 'prettier';

import {
  blockHash,
  blockNonceIsCommitted,
  blockSigningMessage,
  Chain,
  decodeTx,
  genesisWrites,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  signBlockHeader,
  signTx,
  txSigningMessage,
  verifyBlockSignature,
  zeroHash,
  type BlockHeader,
  type BlockSignature,
  type BlockSigner,
  type CommittedNonceRange,
  type DecodedTx,
  type Genesis,
  type SignedBlock,
  type SignedTx,
  type TxBody,
} from '../src/chain/index.js';
import { attestationMessage, signAttestation } from '../src/consensus/jetstream/wire.js';
import {
  accountableSignedMessage,
  addressFromPublicKey,
  canonicalize,
  challenge,
  commitInfo,
  commitNonces,
  deriveAccountableKey,
  deriveAddress,
  encryptHiddenInfo,
  extractSecret,
  fromHex,
  heightBytes,
  inclusionProof,
  keyPairFromSecret,
  merkleRoot,
  nonceFor,
  nonceProof,
  revealHiddenInfo,
  scalarToBytes,
  secretKeyBytes,
  sha256,
  sha256Hex,
  sign,
  signAtHeight,
  signingDomains,
  signingMessage,
  toHex,
  utf8,
  verify,
  verifyAtHeight,
  verifyInclusion,
  verifyNonceProof,
  accountableDomains,
  hiddenInfoDomains,
  nonceCommitmentDomains,
  type AccountableKey,
  type AccountableSignature,
  type NonceCommitment,
  type NonceProof,
} from '../src/crypto/index.js';
import {
  checkEvidence,
  escrowOf,
  evidenceSecret,
  producersModule,
  validateBlockSignature,
  type ProducersGenesis,
} from '../src/modules/producers/index.js';
import { devProducerParams } from '../src/node/data-dir.js';
import {
  genesisParentRoot,
  nextStateRoot,
  SqliteBlockStore,
  writeSetDigest,
  type WriteSet,
} from '../src/state/index.js';

/** The file this script writes, relative to the repository root. */
export const testVectorsFile = 'docs/test-vectors.json';

const seedPrefix = 'coffer test vectors/';
const chainId = 'coffer-vectors';
/** 2026-01-01T00:00:00Z. */
const genesisTime = 1_767_225_600_000;
const blockIntervalMs = 1_000;
/** The group order of ed25519, L = 2^252 + 27742317777372353535851937790883648493. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The 32-byte seed of a name: SHA-256(UTF-8("coffer test vectors/" || name)). */
function seed(name: string): Uint8Array {
  return sha256(utf8(`${seedPrefix}${name}`));
}

interface Account {
  name: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  address: string;
}

function account(name: string): Account {
  const pair = keyPairFromSecret(seed(name));
  return { name, ...pair, address: addressFromPublicKey(pair.publicKey) };
}

function hexOf(text: string): string {
  return toHex(utf8(text));
}

// ---- keys and addresses ----------------------------------------------------------------------

function keyVectors() {
  // RFC 8032 section 7.1, TEST 1: anchors the ed25519 key derivation to the RFC's own numbers.
  const rfc8032 = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const keys = [
    { name: 'RFC 8032 section 7.1 TEST 1', secretKey: rfc8032 },
    ...['alice', 'bob', 'carol', 'dave', 'producer', 'validator'].map((name) => ({
      name,
      secretKey: seed(name),
    })),
  ];
  return keys.map(({ name, secretKey }) => {
    const { publicKey } = keyPairFromSecret(secretKey);
    const message = utf8(`coffer test vectors: ${name}`);
    return {
      name,
      secretKey: toHex(secretKey),
      publicKey: toHex(publicKey),
      address: addressFromPublicKey(publicKey),
      message: toHex(message),
      signature: toHex(sign(message, secretKey)),
    };
  });
}

function derivedAddressVectors(producerId: string) {
  const cases: [string, string][] = [
    ['escrow/producers', producerId],
    ['escrow/crowdfund', '0123456789abcdef'],
    ['escrow/timecredits', 'bank-ü-1'],
  ];
  return cases.map(([namespace, id]) => {
    const preimage = utf8(`coffer/derived/v1\0${namespace}\0${id}`);
    return {
      namespace,
      id,
      preimage: toHex(preimage),
      publicKeyBytes: toHex(sha256(preimage)),
      address: deriveAddress(namespace, id),
    };
  });
}

// ---- canonical JSON --------------------------------------------------------------------------

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Inputs as JSON text, so the vector file holds them exactly (numbers and escapes included). */
const canonicalInputs: [string, string][] = [
  [
    'RFC 8785 section 3.2.3: keys sorted by UTF-16 code units',
    '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
  ],
  [
    'RFC 8785 section 3.2.2: numbers, literals, nested key order',
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
  ],
  [
    'numbers: ECMAScript Number-to-String',
    '[0, -0, 1, -1, 10, 1e1, 1.5, -1.5, 0.1, 1e20, 1e21, 123456789012345678901234567890, 1e-6, 1e-7, 9007199254740991, 9007199254740993, 5e-324, 1.7976931348623157e308, 0.30000000000000004]',
  ],
  [
    'string escapes: short forms, other controls as \\u00xx, the rest raw',
    '["\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f", "\\"\\\\/", "\\u007f\\u0080\\u2028\\u2029\\ufeff"]',
  ],
  [
    'non-ASCII text is written raw and hashed as UTF-8',
    '{"name":"Zoë ☕ 😀","日本語":"テキスト","a":"\\u00e9 = é"}',
  ],
  [
    'noncharacters (which I-JSON forbids) are written raw',
    '["\\ufdd0\\ufffe\\uffff", "\\udbff\\udfff"]',
  ],
  [
    'a lone surrogate is kept as a lowercase \\u escape',
    '{"lone":"\\uDEAD","pair":"\\uD83D\\uDE00"}',
  ],
  [
    'whitespace removed, empty containers, nested objects sorted at every level',
    ' { "z" : { "b" : [ ] , "a" : { } } , "a" : [ { "y" : 1 , "x" : 2 } ] , "m" : null } ',
  ],
  ['keys that look like numbers sort as strings', '{"10":1,"9":2,"1":3,"a":4,"A":5,"":6}'],
  ['64 nested containers: the deepest accepted', nested(64)],
];

const refusedInputs: [string, string, string][] = [
  ['a number beyond the double range', '[1e400]', 'not a finite number'],
  ['65 nested containers', nested(65), 'nests deeper than 64 levels'],
];

function canonicalVectors() {
  const accepted = canonicalInputs.map(([name, json]) => {
    const canonical = canonicalize(JSON.parse(json));
    return {
      name,
      json,
      canonical,
      utf8: toHex(utf8(canonical)),
      sha256: sha256Hex(utf8(canonical)),
    };
  });
  const refused = refusedInputs.map(([name, json, reason]) => {
    assert.throws(() => canonicalize(JSON.parse(json)), `${name} must be refused`);
    return { name, json, reason };
  });
  return { accepted, refused };
}

// ---- transactions ----------------------------------------------------------------------------

function txVector(name: string, sender: Account, body: TxBody) {
  const canonical = canonicalize(body);
  const hash = sha256(utf8(canonical));
  const signed = signTx(body, sender.secretKey);
  const message = txSigningMessage(hash);
  assert.ok(verify(fromHex(signed.signature), message, sender.publicKey));
  return {
    name,
    secretKey: toHex(sender.secretKey),
    publicKey: toHex(sender.publicKey),
    body,
    canonical,
    hash: toHex(hash),
    signingMessage: toHex(message),
    signature: signed.signature,
    signed,
  };
}

// ---- Merkle trees ----------------------------------------------------------------------------

function merkleLeaves(size: number): Uint8Array[] {
  return Array.from({ length: size }, (_, index) => sha256(utf8(`leaf ${index}`)));
}

function treeVector(name: string, leaves: Uint8Array[]) {
  return {
    name,
    leaves: leaves.map(toHex),
    root: toHex(merkleRoot(leaves)),
    proofs: leaves.map((leaf, leafIndex) => {
      const path = inclusionProof(leaves, leafIndex);
      assert.ok(verifyInclusion(leaf, leafIndex, leaves.length, path, merkleRoot(leaves)));
      return { leafIndex, treeSize: leaves.length, path: path.map(toHex) };
    }),
  };
}

interface InclusionCase {
  name: string;
  leaf: string;
  leafIndex: number;
  treeSize: number;
  path: string[];
  root: string;
}

function merkleVectors() {
  const trees = [0, 1, 2, 3, 5, 7, 8, 13].map((size) =>
    treeVector(`${size} leaves: SHA-256("leaf " || i)`, merkleLeaves(size)),
  );
  trees.push(
    treeVector('leaves of any length', [
      new Uint8Array(0),
      utf8('a'),
      new Uint8Array(100).fill(0xff),
    ]),
  );
  // Proofs that must fail, all against the tree of 5 (or 8) leaves.
  const five = merkleLeaves(5);
  const eight = merkleLeaves(8);
  const rootOf = (leaves: Uint8Array[]) => toHex(merkleRoot(leaves));
  const proofOf = (leaves: Uint8Array[], index: number) => inclusionProof(leaves, index).map(toHex);
  const base = (leaves: Uint8Array[], index: number): InclusionCase => ({
    name: '',
    leaf: toHex(leaves[index]!),
    leafIndex: index,
    treeSize: leaves.length,
    path: proofOf(leaves, index),
    root: rootOf(leaves),
  });
  // The Merkle check alone does not fix the tree size: some changed sizes and relabelled
  // indexes still lead to the root. That is why headers carry txCount (docs/protocol.md).
  const cases: InclusionCase[] = [
    { ...base(five, 4), name: 'valid: last leaf of 5' },
    { ...base(five, 0), name: 'passes alone: treeSize 5 -> 6 at index 0', treeSize: 6 },
    { ...base(five, 0), name: 'passes alone: treeSize 5 -> 8 at index 0', treeSize: 8 },
    {
      ...base(five, 4),
      name: 'passes alone: the last of 5 relabelled as index 2 of 3',
      leafIndex: 2,
      treeSize: 3,
    },
    { ...base(five, 4), name: 'treeSize 5 -> 6 at index 4', treeSize: 6 },
    { ...base(five, 1), name: 'index 1 -> 0', leafIndex: 0 },
    { ...base(five, 2), name: 'index equal to treeSize', leafIndex: 5 },
    { ...base(eight, 3), name: 'path in reverse order', path: proofOf(eight, 3).reverse() },
    { ...base(eight, 3), name: 'one path hash too many', path: [...proofOf(eight, 3), zeroHash] },
    { ...base(eight, 3), name: 'one path hash too few', path: proofOf(eight, 3).slice(0, 2) },
    { ...base(eight, 3), name: 'a flipped bit in the leaf', leaf: flipHex(toHex(eight[3]!)) },
    {
      ...base(eight, 3),
      name: 'the leaf hash given instead of the leaf',
      leaf: toHex(sha256(new Uint8Array([0, ...eight[3]!]))),
    },
  ];
  const inclusion = cases.map((c) => ({
    ...c,
    valid: verifyInclusion(
      fromHex(c.leaf),
      c.leafIndex,
      c.treeSize,
      c.path.map((p) => fromHex(p)),
      fromHex(c.root),
    ),
  }));
  assert.deepEqual(
    inclusion.map((c) => c.valid),
    [true, true, true, true, false, false, false, false, false, false, false, false],
  );
  return { trees, inclusion };
}

/** Flips the lowest bit of the first byte. */
function flipHex(hex: string): string {
  const bytes = fromHex(hex);
  bytes[0] = bytes[0]! ^ 1;
  return toHex(bytes);
}

// ---- accountable signatures ------------------------------------------------------------------

function accountableKeyVector(name: string, key: AccountableKey, secretSeed: Uint8Array) {
  return {
    name,
    seed: toHex(secretSeed),
    keyHashInput: toHex(new Uint8Array([...utf8(accountableDomains.key), ...secretSeed])),
    secretScalar: toHex(secretKeyBytes(key.secretScalar)),
    publicKey: toHex(key.publicKey),
    producerId: addressFromPublicKey(key.publicKey),
    nonceSecret: toHex(key.nonceSecret),
  };
}

function nonceVectors(key: AccountableKey) {
  const heights = [0, 1, 3, 255, 256, 65_536, 4_294_967_296, Number.MAX_SAFE_INTEGER];
  const cases: [string, number][] = [
    ...heights.map((height): [string, number] => [chainId, height]),
    ['coffer-dev', 3],
  ];
  return cases.map(([chain, height]) => {
    const { k, R } = nonceFor(key.nonceSecret, chain, height);
    return {
      chainId: chain,
      height,
      heightBytes: toHex(heightBytes(height)),
      k: toHex(scalarToBytes(k)),
      R: toHex(R),
    };
  });
}

interface SignatureCase {
  name: string;
  publicKey: string;
  height: number;
  message: string;
  signature: AccountableSignature;
}

function accountableSignatureVectors(key: AccountableKey) {
  const publicKey = toHex(key.publicKey);
  const signatures = [
    { height: 0, message: utf8('hello') },
    { height: 7, message: blockSigningMessage(sha256Hex('a header')) },
    { height: 4_294_967_296, message: new Uint8Array(0) },
  ].map(({ height, message }) => {
    const signature = signAtHeight(key, chainId, height, message);
    const R = fromHex(signature.R);
    const signed = accountableSignedMessage(height, message);
    return {
      chainId,
      height,
      message: toHex(message),
      signedMessage: toHex(signed),
      challenge: toHex(scalarToBytes(challenge(R, key.publicKey, height, message))),
      signature,
      ed25519Signature: signature.R + signature.s,
    };
  });
  const good = signatures[1]!;
  const goodCase: SignatureCase = {
    name: 'valid',
    publicKey,
    height: good.height,
    message: good.message,
    signature: good.signature,
  };
  const sPlusL = toHex(bigintToBytesLE(bytesToBigintLE(fromHex(good.signature.s)) + L));
  // The 8-torsion point of order 8 (canonical encoding), added to P: off the prime-order subgroup.
  const torsion = '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05';
  const torsionedKey = toHex(addPoints(key.publicKey, fromHex(torsion)));
  const cases: SignatureCase[] = [
    goodCase,
    { ...goodCase, name: 'another message', message: toHex(utf8('another message')) },
    { ...goodCase, name: 'signature.height differs from the signed height', height: 8 },
    {
      ...goodCase,
      name: 'height changed in both places',
      height: 8,
      signature: { ...good.signature, height: 8 },
    },
    { ...goodCase, name: 's + L (non-canonical s)', signature: { ...good.signature, s: sPlusL } },
    {
      ...goodCase,
      name: 'R in uppercase hex',
      signature: { ...good.signature, R: good.signature.R.toUpperCase() },
    },
    {
      ...goodCase,
      name: 'R is the identity point',
      signature: { ...good.signature, R: '01' + '00'.repeat(31) },
    },
    { ...goodCase, name: 'key with an 8-torsion component', publicKey: torsionedKey },
    {
      ...goodCase,
      name: 'key not canonically encoded (y = p)',
      publicKey: 'ed' + 'ff'.repeat(30) + '7f',
    },
    { ...goodCase, name: 'key is the identity', publicKey: '01' + '00'.repeat(31) },
  ];
  // `height` is the height the verifier expects (a header's): the signature must be for it.
  const verification = cases.map((c) => ({
    ...c,
    valid:
      c.signature.height === c.height &&
      verifyAtHeight(fromHex(c.publicKey), fromHex(c.message), c.signature),
  }));
  assert.deepEqual(
    verification.map((c) => c.valid),
    [true, false, false, false, false, false, false, false, false, false],
  );
  return { signatures, verification };
}

function bytesToBigintLE(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--)
    value = (value << 8n) | BigInt(bytes[index]!);
  return value;
}

function bigintToBytesLE(value: bigint): Uint8Array {
  const bytes = new Uint8Array(32);
  for (let index = 0; index < 32; index++) {
    bytes[index] = Number((value >> BigInt(8 * index)) & 0xffn);
  }
  return bytes;
}

/** P + Q on ed25519, via noble (only to build a test input that must be refused). */
function addPoints(a: Uint8Array, b: Uint8Array): Uint8Array {
  return ed25519Point.fromBytes(a).add(ed25519Point.fromBytes(b)).toBytes();
}

// noble is what src/crypto/accountable.ts uses for point arithmetic too.
const ed25519Point = ed25519.Point;

// ---- nonce commitments -----------------------------------------------------------------------

function nonceCommitmentVector(key: AccountableKey) {
  const fromHeight = 8;
  const count = 5;
  const commitment = commitNonces(key.nonceSecret, chainId, fromHeight, count);
  const leaves = commitment.nonces.map((R, index) =>
    toHex(
      new Uint8Array([
        ...utf8(nonceCommitmentDomains.leaf),
        ...heightBytes(fromHeight + index),
        ...R,
      ]),
    ),
  );
  assert.equal(toHex(merkleRoot(leaves.map((leaf) => fromHex(leaf)))), commitment.root);
  const proofs = commitment.nonces.map((_, index) => nonceProof(commitment, fromHeight + index));
  const good = proofs[2]!;
  const other = proofs[3]!;
  const cases: { name: string; proof: NonceProof }[] = [
    { name: 'valid', proof: good },
    { name: 'R of another height', proof: { ...good, R: other.R } },
    { name: 'index not height - fromHeight', proof: { ...good, index: 3 } },
    { name: 'treeSize not count', proof: { ...good, treeSize: 8 } },
    { name: 'another height with its own index', proof: { ...good, height: 11, index: 3 } },
    { name: 'path in reverse order', proof: { ...good, path: [...good.path].reverse() } },
    { name: 'height outside the range', proof: { ...good, height: 13, index: 5 } },
  ];
  const verification = cases.map((c) => ({
    ...c,
    valid: verifyNonceProof(commitment.root, fromHeight, count, c.proof),
  }));
  assert.deepEqual(
    verification.map((c) => c.valid),
    [true, false, false, false, false, false, false],
  );
  return {
    chainId,
    fromHeight,
    count,
    nonces: commitment.nonces.map(toHex),
    leaves,
    root: commitment.root,
    range: { fromHeight, count, root: commitment.root },
    proofs,
    verification,
  };
}

// ---- hidden information ----------------------------------------------------------------------

const producerInfo = {
  name: 'Vector Producer Ltd',
  operator: 'Zoë Ndlovu <ops@example.org>',
  registry: 'ZA-2026/000042',
};

/**
 * encryptHiddenInfo draws a 32-byte salt and then a 12-byte IV from node:crypto's randomBytes.
 * For the vector they are fixed bytes, handed out while the project's own function runs, so the
 * ciphertext below is exactly what that function produces for this salt and IV.
 */
function hiddenInfoVector(secretScalar: bigint) {
  const salt = seed('hidden-info salt');
  const iv = seed('hidden-info iv').subarray(0, 12);
  const randomBytes = crypto.randomBytes;
  const handedOut: number[] = [];
  const fixed = (size: number): Buffer => {
    handedOut.push(size);
    if (size === 32) return Buffer.from(salt);
    if (size === 12) return Buffer.from(iv);
    throw new Error(`unexpected randomBytes(${size})`);
  };
  let published;
  try {
    (crypto as { randomBytes: unknown }).randomBytes = fixed;
    published = encryptHiddenInfo(secretScalar, producerInfo);
  } finally {
    (crypto as { randomBytes: unknown }).randomBytes = randomBytes;
  }
  assert.deepEqual(handedOut, [32, 12], 'encryptHiddenInfo draws the salt, then the IV');
  const key = new Uint8Array(
    crypto.hkdfSync(
      'sha256',
      secretKeyBytes(secretScalar),
      new Uint8Array(0),
      utf8(hiddenInfoDomains.key),
      32,
    ),
  );
  const plaintext = canonicalize({ info: producerInfo, salt: toHex(salt) });
  const bytes = fromHex(published.hiddenInfo);
  // The key and plaintext written below must be the ones the project used.
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(utf8(hiddenInfoDomains.aead));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const opened = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]);
  assert.equal(opened.toString('utf8'), plaintext);
  assert.equal(published.commitment, commitInfo(producerInfo, salt));
  assert.deepEqual(revealHiddenInfo(secretScalar, published.hiddenInfo, published.commitment), {
    info: producerInfo,
    salt: toHex(salt),
  });
  return {
    secretScalar: toHex(secretKeyBytes(secretScalar)),
    info: producerInfo,
    canonicalInfo: canonicalize(producerInfo),
    salt: toHex(salt),
    commitmentInput: toHex(
      new Uint8Array([
        ...utf8(hiddenInfoDomains.commit),
        ...salt,
        ...utf8(canonicalize(producerInfo)),
      ]),
    ),
    commitment: published.commitment,
    key: toHex(key),
    iv: toHex(iv),
    plaintext,
    aad: hexOf(hiddenInfoDomains.aead),
    tag: toHex(bytes.subarray(bytes.length - 16)),
    hiddenInfo: published.hiddenInfo,
  };
}

// ---- state root ------------------------------------------------------------------------------

function stateRootVectors() {
  const writeSets: [string, [string, string | null][]][] = [
    ['an empty write-set', []],
    [
      'a write and a deletion',
      [
        ['ledger/asset/USD', '{"decimals":2,"issuer":"x","supply":"100"}'],
        ['ledger/hold/ab', null],
      ],
    ],
    [
      'values are JSON strings: quotes, backslashes and controls escaped, non-ASCII raw',
      [
        ['a/"quoted"', 'say "hi"\\n\n'],
        ['a/é', 'ü ☕'],
      ],
    ],
    [
      'keys sorted by UTF-16 code units: U+1F600 (D83D DE00) before U+FF61',
      [
        ['k/\u{1f600}', '1'],
        ['k/\uff61', '2'],
      ],
    ],
  ];
  let previous: Uint8Array = genesisParentRoot;
  const steps = writeSets.map(([name, entries]) => {
    const writes: WriteSet = new Map(entries);
    assert.deepEqual(
      [...writes.keys()],
      [...writes.keys()].sort(),
      `${name}: a write-set is sorted by key`,
    );
    const writeSetJson = canonicalize(entries);
    const digest = writeSetDigest(writes);
    assert.equal(toHex(digest), sha256Hex(utf8(writeSetJson)));
    const root = nextStateRoot(previous, writes);
    const step = {
      name,
      writes: entries,
      writeSetJson,
      digest: toHex(digest),
      previousRoot: toHex(previous),
      root: toHex(root),
    };
    previous = root;
    return step;
  });
  return { domain: 'coffer/state-root/v1', rootBeforeGenesis: toHex(genesisParentRoot), steps };
}

// ---- a chain ---------------------------------------------------------------------------------

/** Signs with committed nonces of `ranges`, as a producer does (no signer-safety file here). */
class VectorSigner implements BlockSigner {
  readonly producer: string;
  readonly commitments: NonceCommitment[];

  constructor(
    readonly key: AccountableKey,
    ranges: [number, number][],
  ) {
    this.producer = addressFromPublicKey(key.publicKey);
    this.commitments = ranges.map(([from, count]) =>
      commitNonces(key.nonceSecret, chainId, from, count),
    );
  }

  commitmentAt(height: number): NonceCommitment {
    const found = this.commitments.find(
      (c) => height >= c.fromHeight && height < c.fromHeight + c.count,
    );
    assert.ok(found, `no committed nonce for height ${height}`);
    return found;
  }

  range(index: number): CommittedNonceRange {
    const { fromHeight, count, root } = this.commitments[index]!;
    return { fromHeight, count, root };
  }

  sign(header: BlockHeader, hash: string): BlockSignature {
    return signWith(this.key, header, hash, this.commitmentAt(header.height));
  }
}

function signWith(
  key: AccountableKey,
  header: BlockHeader,
  hash: string,
  commitment: NonceCommitment,
): BlockSignature {
  const signature = signAtHeight(key, chainId, header.height, blockSigningMessage(hash));
  return { ...signature, nonceProof: nonceProof(commitment, header.height) };
}

interface TxBundle {
  hash: string;
  height: number;
  index: number;
  tx: SignedTx;
  receipt: unknown;
  block: SignedBlock;
  proof: { leafIndex: number; treeSize: number; path: string[] };
  receiptProof: { leafIndex: number; treeSize: number; path: string[] };
}

/** What `GET /v1/txs/{hash}` answers (src/node/api.ts), built from the store the same way. */
function txBundle(store: SqliteBlockStore, hash: string): TxBundle {
  const stored = store.getTx(hash)!;
  const block = store.getBlock(stored.height)!;
  const blockTxs = store.getTxs(stored.height);
  const leaves = blockTxs.map((t) => fromHex(t.hash));
  const receiptLeaves = blockTxs.map((t) => sha256(t.receipt));
  return {
    hash,
    height: stored.height,
    index: stored.index,
    tx: JSON.parse(stored.body) as SignedTx,
    receipt: JSON.parse(stored.receipt) as unknown,
    block: {
      hash: block.hash,
      header: JSON.parse(block.header) as BlockHeader,
      signature: JSON.parse(block.signature) as BlockSignature,
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

function chainVectors(
  producerSeed: Uint8Array,
  hiddenInfo: { hiddenInfo: string; commitment: string },
) {
  const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(account) as [
    Account,
    Account,
    Account,
    Account,
  ];
  const operator = account('producer');
  const key = deriveAccountableKey(producerSeed);
  const signer = new VectorSigner(key, [
    [0, 16],
    [16, 16],
  ]);
  const producersGenesis: ProducersGenesis = {
    // The dev chain's parameters: whatever fields the registry grows, the vectors follow them.
    params: devProducerParams('USD'),
    producers: [
      {
        operator: operator.address,
        publicKey: toHex(key.publicKey),
        hiddenInfo: hiddenInfo.hiddenInfo,
        commitment: hiddenInfo.commitment,
        bond: '0',
        nonces: signer.range(0),
      },
    ],
  };
  const genesis: Genesis = {
    chainId,
    time: genesisTime,
    producer: signer.producer,
    assets: [{ symbol: 'USD', decimals: 2, issuer: alice.address }],
    balances: [
      { address: alice.address, asset: 'USD', amount: '1000000' },
      { address: bob.address, asset: 'USD', amount: '5000' },
    ],
    modules: { producers: producersGenesis },
  };
  const registry = new ModuleRegistry([ledgerModule, producersModule]);
  const store = new SqliteBlockStore(':memory:');
  try {
    const genesisWriteSet = genesisWrites(genesis, [producersModule]);
    const genesisBlock = Chain.initialize(store, genesis, signer, [producersModule]);
    const chain = new Chain(store, registry, () => {}, validateBlockSignature);
    const blocks: {
      block: SignedBlock;
      txHashes: string[];
      receipts: unknown[];
      writes: [string, string | null][];
    }[] = [
      { block: genesisBlock, txHashes: [], receipts: [], writes: [...genesisWriteSet.entries()] },
    ];
    const nonces = new Map<string, number>();
    const tx = (from: Account, type: string, payload: Record<string, unknown>, extra = {}) => {
      const nonce = nonces.get(from.address) ?? 0;
      nonces.set(from.address, nonce + 1);
      const signed = signTx(
        { chainId, type, sender: from.address, nonce, payload, ...extra },
        from.secretKey,
      );
      const decoded = decodeTx(signed, chainId, registry.parserFor);
      if (isRejection(decoded)) throw new Error(`${type}: ${decoded.code} ${decoded.field}`);
      return decoded;
    };
    const produce = (txs: DecodedTx[]): SignedBlock => {
      const head = chain.latest();
      const result = chain.execute(txs, head.header.time + blockIntervalMs, false);
      const header: BlockHeader = {
        chainId,
        height: head.header.height + 1,
        prevHash: head.hash,
        time: result.time,
        txCount: result.txs.length,
        txRoot: result.txRoot,
        receiptRoot: result.receiptRoot,
        stateRoot: result.stateRoot,
        producer: signer.producer,
      };
      const block = signBlockHeader(header, signer);
      chain.commit(block, result);
      blocks.push({
        block,
        txHashes: result.txs.map((d) => d.hash),
        receipts: result.receiptTexts.map((text) => JSON.parse(text) as unknown),
        writes: [...result.writes.entries()],
      });
      return block;
    };

    const block1Txs = [
      tx(alice, 'ledger.transfer', { to: bob.address, asset: 'USD', amount: '1234' }),
      tx(
        bob,
        'ledger.transfer',
        { to: carol.address, asset: 'USD', amount: '250' },
        { memo: 'café ☕ "rent"\n', expiresAt: genesisTime + 3_600_000 },
      ),
      tx(carol, 'ledger.transfer', { to: alice.address, asset: 'USD', amount: '10000' }),
      tx(alice, 'asset.create', { symbol: 'PTS', decimals: 0 }),
      tx(alice, 'asset.mint', { symbol: 'PTS', to: dave.address, amount: '42' }),
    ];
    produce(block1Txs);
    const block2Txs = [
      tx(operator, 'producer.commitNonces', { producer: signer.producer, ...signer.range(1) }),
      tx(
        dave,
        'ledger.transfer',
        { to: alice.address, asset: 'PTS', amount: '1' },
        {
          expiresAt: genesisTime,
        },
      ),
    ];
    produce(block2Txs);
    const block3 = produce([]);

    // Equivocation: a second header at height 3, signed with the same committed nonce.
    const forkHeader: BlockHeader = { ...block3.header, time: block3.header.time + 1 };
    const forkHash = blockHash(forkHeader);
    const fork: SignedBlock = {
      header: forkHeader,
      hash: forkHash,
      signature: signWith(key, forkHeader, forkHash, signer.commitmentAt(3)),
    };
    assert.ok(
      verifyBlockSignature(fork) && blockNonceIsCommitted(fork.signature, [signer.range(0)]),
    );
    const half = (block: SignedBlock) => ({
      header: block.header,
      signature: { height: block.signature.height, R: block.signature.R, s: block.signature.s },
    });
    const evidencePayload = { a: half(block3), b: half(fork) };
    assert.equal(checkEvidence(evidencePayload), undefined);
    const x = evidenceSecret(evidencePayload);
    assert.equal(x, key.secretScalar, 'two signatures at one height reveal x');
    const messageA = blockSigningMessage(block3.hash);
    const messageB = blockSigningMessage(fork.hash);
    const cA = challenge(fromHex(block3.signature.R), key.publicKey, 3, messageA);
    const cB = challenge(fromHex(fork.signature.R), key.publicKey, 3, messageB);
    assert.equal(
      extractSecret(
        key.publicKey,
        messageA,
        half(block3).signature,
        messageB,
        half(fork).signature,
      ),
      x,
    );
    const evidenceTx = tx(carol, 'evidence.equivocation', evidencePayload);
    const block4 = produce([evidenceTx]);

    const trust = { producer: signer.producer, nonceRanges: [signer.range(0), signer.range(1)] };
    const bundles = [...block1Txs, ...block2Txs, evidenceTx].map((d) => txBundle(store, d.hash));
    for (const { block } of blocks) {
      assert.ok(verifyBlockSignature(block));
      assert.ok(blockNonceIsCommitted(block.signature, trust.nonceRanges));
    }
    const producerRecord = JSON.parse(store.get(`producers/producer/${signer.producer}`)!) as {
      status: string;
      equivocation?: { infoRevealed: boolean; info: unknown };
    };
    assert.equal(producerRecord.status, 'jailed');
    assert.deepEqual(producerRecord.equivocation?.info, producerInfo);

    return {
      chain: {
        chainId,
        genesis,
        producerEscrow: escrowOf(signer.producer),
        trust,
        blocks: blocks.map(({ block, txHashes, receipts, writes }) => ({
          ...block,
          canonicalHeader: canonicalize(block.header),
          signingMessage: toHex(blockSigningMessage(block.hash)),
          txHashes,
          receipts,
          writes,
        })),
        bundles,
        invalidBundles: invalidBundles(bundles, key, trust.nonceRanges),
      },
      equivocation: {
        producer: signer.producer,
        publicKey: toHex(key.publicKey),
        height: 3,
        a: { ...half(block3), hash: block3.hash, challenge: toHex(scalarToBytes(cA)) },
        b: { ...half(fork), hash: fork.hash, challenge: toHex(scalarToBytes(cB)) },
        secretScalar: toHex(secretKeyBytes(x)),
        evidenceTx: evidenceTx.tx,
        evidenceTxHash: evidenceTx.hash,
        evidenceBlockHeight: block4.header.height,
        revealedInfo: producerRecord.equivocation?.info,
      },
      attestation: attestationVector(blocks[1]!.block),
    };
  } finally {
    store.close();
  }
}

/**
 * Bundles a light client must refuse (docs/protocol.md, "Light clients"), built from valid ones by
 * the changes issue 12 lists and a few more; `failedCheck` names the first check that fails in
 * the spec's order (the names the SDK's verdicts use).
 */
function invalidBundles(bundles: TxBundle[], key: AccountableKey, ranges: CommittedNonceRange[]) {
  const last = bundles[4]!; // the last tx of block 1, of 5
  const first = bundles[0]!;
  const clone = (bundle: TxBundle): TxBundle => structuredClone(bundle);
  const cases: { name: string; failedCheck: string; bundle: unknown }[] = [];
  const add = (name: string, failedCheck: string, bundle: unknown) =>
    cases.push({ name, failedCheck, bundle });

  {
    const b = clone(last);
    b.proof.treeSize = 6;
    b.receiptProof.treeSize = 6;
    add('treeSize 5 -> 6 in both proofs', 'tree_size', b);
  }
  {
    const b = clone(first);
    b.proof.treeSize = 8;
    b.receiptProof.treeSize = 8;
    add('treeSize 5 -> 8 at index 0', 'tree_size', b);
  }
  {
    // The last of 5 relabelled as index 2 of 3: the same path leads to the same root.
    const b = clone(last);
    b.index = 2;
    b.proof = { ...b.proof, leafIndex: 2, treeSize: 3 };
    b.receiptProof = { ...b.receiptProof, leafIndex: 2, treeSize: 3 };
    add('the last of 5 relabelled as index 2 of 3', 'tree_size', b);
  }
  {
    const b = clone(last);
    b.index = 3;
    add('index differs from the proof leaf index', 'index', b);
  }
  {
    const b = clone(last) as Partial<TxBundle>;
    delete b.receipt;
    delete b.receiptProof;
    add('receipt and receipt proof removed', 'receipt_missing', b);
  }
  {
    const b = clone(last);
    (b.receipt as { status: string }).status = 'ok_but_not';
    add('receipt status changed', 'receipt_proof', b);
  }
  {
    const b = clone(last);
    b.proof.path[0] = flipHex(b.proof.path[0]!);
    add('flipped byte in the tx proof path', 'tx_proof', b);
  }
  {
    const b = clone(last);
    b.tx.payload = { ...b.tx.payload, amount: '43' };
    add('tx payload changed', 'tx_hash', b);
  }
  {
    const b = clone(last);
    const signature = fromHex(b.tx.signature);
    signature[10] = signature[10]! ^ 0x80;
    b.tx.signature = toHex(signature);
    add('flipped byte in the tx signature', 'tx_signature', b);
  }
  {
    const b = clone(last);
    b.block.header.time += 1;
    add('header changed, hash kept', 'header_hash', b);
  }
  {
    const b = clone(last);
    delete (b.block.signature as Partial<BlockSignature>).nonceProof;
    add('no nonce proof', 'nonce_proof_missing', b);
  }
  {
    const b = clone(last);
    b.block.signature.nonceProof.path[0] = flipHex(b.block.signature.nonceProof.path[0]!);
    add('flipped byte in the nonce proof path', 'nonce_proof', b);
  }
  {
    const b = clone(last);
    b.block.signature.nonceProof.R = b.block.signature.nonceProof.path[0]!;
    add('nonce proof R differs from the signature R', 'nonce_proof', b);
  }
  {
    // A fork: the header with another state root, re-signed by the producer's key with a fresh
    // nonce it never committed. Its signature verifies; only the nonce proof can refuse it.
    const b = clone(last);
    b.block.header.stateRoot = sha256Hex('a forked state');
    b.block.hash = blockHash(b.block.header);
    const fresh = { ...key, nonceSecret: seed('an uncommitted nonce secret') };
    const signature = signAtHeight(
      fresh,
      chainId,
      b.block.header.height,
      blockSigningMessage(b.block.hash),
    );
    b.block.signature = { ...signature, nonceProof: b.block.signature.nonceProof };
    assert.ok(verifyBlockSignature(b.block), 'the fork signature itself verifies');
    assert.ok(!blockNonceIsCommitted(b.block.signature, ranges));
    add('fork re-signed with an uncommitted nonce', 'nonce_proof', b);
  }
  {
    const b = clone(last);
    const s = fromHex(b.block.signature.s);
    s[0] = s[0]! ^ 1;
    b.block.signature.s = toHex(s);
    add('flipped byte in the header signature', 'signature', b);
  }
  {
    const b = clone(last);
    b.tx.chainId = 'coffer-other';
    add('tx of another chain', 'tx_hash', b);
  }
  {
    const b = clone(last);
    b.height += 1;
    add('height differs from the header', 'height', b);
  }
  {
    const b = clone(last);
    b.receipt = structuredClone(bundles[3]!.receipt);
    add("another tx's receipt", 'receipt', b);
  }
  {
    const b = clone(last) as Partial<TxBundle>;
    delete b.receiptProof;
    add('receipt without its proof', 'receipt_proof', b);
  }
  {
    const b = clone(last);
    b.receiptProof.leafIndex = 3;
    add('receipt proof at another index', 'index', b);
  }
  return cases;
}

function attestationVector(block: SignedBlock) {
  const validator = account('validator');
  const state = {
    height: block.header.height,
    blockHash: block.hash,
    stateRoot: block.header.stateRoot,
  };
  const statement = { chainId, ...state };
  const canonical = canonicalize(statement);
  const digest = sha256(utf8(canonical));
  const message = attestationMessage(chainId, state);
  assert.equal(toHex(message), toHex(signingMessage('attestation', digest)));
  const attestation = signAttestation(chainId, state, {
    address: validator.address,
    secretKey: validator.secretKey,
  });
  return {
    secretKey: toHex(validator.secretKey),
    statement,
    canonical,
    digest: toHex(digest),
    signingMessage: toHex(message),
    attestation,
  };
}

// ---- the document ----------------------------------------------------------------------------

/** The vectors, computed afresh. Deterministic: two calls give equal values. */
export function buildTestVectors() {
  const producerSeed = seed('producer');
  const key = deriveAccountableKey(producerSeed);
  const [alice, bob] = [account('alice'), account('bob')];
  const hiddenInfo = hiddenInfoVector(key.secretScalar);
  const { chain, equivocation, attestation } = chainVectors(producerSeed, hiddenInfo);
  return {
    about:
      'Test vectors of the Coffer protocol (docs/protocol.md), generated by Coffer\'s own code from fixed seeds. Bytes are lowercase hex; text is UTF-8. A seed named N is SHA-256(UTF-8("coffer test vectors/" || N)).',
    generatedBy: 'node --import tsx scripts/test-vectors.ts',
    protocolVersion: 2,
    domains: {
      tx: signingDomains.tx,
      block: signingDomains.block,
      attestation: signingDomains.attestation,
      issuanceRequest: signingDomains.issuanceRequest,
      accountableKey: accountableDomains.key,
      accountableNonceSecret: accountableDomains.nonceSecret,
      accountableNonce: accountableDomains.nonce,
      accountableChallenge: accountableDomains.challenge,
      nonceCommitmentLeaf: nonceCommitmentDomains.leaf,
      hiddenInfoCommit: hiddenInfoDomains.commit,
      hiddenInfoKey: hiddenInfoDomains.key,
      hiddenInfoAead: hiddenInfoDomains.aead,
      stateRoot: 'coffer/state-root/v1',
      derivedAddress: 'coffer/derived/v1',
    },
    keys: keyVectors(),
    derivedAddresses: derivedAddressVectors(addressFromPublicKey(key.publicKey)),
    canonicalJson: canonicalVectors(),
    txs: [
      txVector('ledger.transfer', alice, {
        chainId,
        type: 'ledger.transfer',
        sender: alice.address,
        nonce: 0,
        payload: { to: bob.address, asset: 'USD', amount: '7450' },
      }),
      txVector('with expiresAt and a non-ASCII memo', bob, {
        chainId,
        type: 'ledger.transfer',
        sender: bob.address,
        nonce: 17,
        expiresAt: 1_767_225_600_000,
        payload: { to: alice.address, asset: 'USD', amount: '1' },
        memo: 'Zoë paid ☕ "thanks"\n',
      }),
      txVector('asset.create', alice, {
        chainId,
        type: 'asset.create',
        sender: alice.address,
        nonce: 1,
        payload: { symbol: 'PTS', decimals: 0, maxSupply: '1000000' },
      }),
    ],
    merkle: merkleVectors(),
    accountable: {
      key: accountableKeyVector('seed "producer"', key, producerSeed),
      nonces: nonceVectors(key),
      ...accountableSignatureVectors(key),
    },
    nonceCommitment: nonceCommitmentVector(key),
    hiddenInfo,
    stateRoot: stateRootVectors(),
    attestation,
    equivocation,
    chain,
  };
}

/** The file's text: the vectors as JSON, formatted as Prettier formats the repository. */
export async function testVectorsDocument(): Promise<string> {
  const root = path.resolve(import.meta.dirname, '..');
  const options = (await prettier.resolveConfig(path.join(root, testVectorsFile))) ?? {};
  return prettier.format(JSON.stringify(buildTestVectors()), { ...options, parser: 'json' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(import.meta.dirname, '..');
  fs.writeFileSync(path.join(root, testVectorsFile), await testVectorsDocument());
}
