import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import {
  blockHash,
  blockNonceIsCommitted,
  verifyBlockSignature,
  zeroHash,
  type BlockHeader,
} from '../chain/index.js';
import { commitNonces } from '../crypto/index.js';
import { nonceCacheDir, ProducerSigner, SignerError } from './producer-signer.js';
import { SignerRefusedError } from './signer-store.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-producer-signer-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
const chainId = 'coffer-signer';
const seed = new Uint8Array(32).fill(11);
let dirs = 0;
function newDir(): string {
  dirs += 1;
  const dir = path.join(directory, `d${dirs}`);
  fs.mkdirSync(dir);
  return dir;
}

function header(signer: ProducerSigner, height: number, stateRoot = zeroHash): BlockHeader {
  return {
    chainId,
    height,
    prevHash: zeroHash,
    time: 1,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot,
    producer: signer.producer,
  };
}

describe('ProducerSigner', () => {
  it('signs only with a nonce the chain committed, once per height, byte-identically', () => {
    const dir = newDir();
    const signer = ProducerSigner.open(chainId, seed, dir);
    const commitment = signer.commitment(0, 16);
    assert.equal(commitment.root, commitNonces(signer.key.nonceSecret, chainId, 0, 16).root);
    const first = header(signer, 3);
    assert.equal(signer.canSign(3), false, 'nothing is committed on chain yet');
    assert.throws(() => signer.sign(first, blockHash(first)), SignerError);

    const range = { fromHeight: 0, count: 16, root: commitment.root };
    signer.activate([range]);
    assert.equal(signer.canSign(3), true);
    assert.equal(signer.canSign(16), false);
    const signature = signer.sign(first, blockHash(first));
    const block = { header: first, hash: blockHash(first), signature };
    assert.ok(verifyBlockSignature(block));
    assert.ok(blockNonceIsCommitted(signature, [range]));
    assert.deepEqual(signer.sign(first, blockHash(first)), signature);

    const conflicting = header(signer, 3, 'ab'.repeat(32));
    assert.throws(() => signer.sign(conflicting, blockHash(conflicting)), SignerRefusedError);
    // After a restart, from the data directory alone.
    const again = ProducerSigner.open(chainId, seed, dir);
    again.commitment(0, 16);
    again.activate([range]);
    assert.throws(() => again.sign(conflicting, blockHash(conflicting)), SignerRefusedError);
    assert.equal(JSON.stringify(again.sign(first, blockHash(first))), JSON.stringify(signature));
  });

  it('a range computed in the background resumes from its partial file after a restart', async () => {
    const dir = newDir();
    const signer = ProducerSigner.open(chainId, seed, dir);
    const expected = commitNonces(signer.key.nonceSecret, chainId, 100, 60);
    // A run killed midway left 30 whole nonces and a torn line.
    const partial = path.join(dir, nonceCacheDir, '100-60.json.partial');
    fs.mkdirSync(path.dirname(partial), { recursive: true });
    const lines = expected.nonces.slice(0, 30).map((R) => Buffer.from(R).toString('hex'));
    fs.writeFileSync(partial, lines.join('\n') + '\n' + lines[0]!.slice(0, 20));
    const commitment = await signer.commitmentInBackground(100, 60);
    assert.equal(commitment.root, expected.root);
    assert.equal(fs.existsSync(partial), false);
    assert.ok(fs.existsSync(path.join(dir, nonceCacheDir, '100-60.json')));
    assert.equal(ProducerSigner.open(chainId, seed, dir).commitment(100, 60).root, expected.root);
  });
});
