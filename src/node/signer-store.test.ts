import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import type { AccountableSignature } from '../crypto/index.js';
import {
  SignerRefusedError,
  SignerStateError,
  SignerStore,
  signerStateFile,
  type SigningHistory,
} from './signer-store.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-signer-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
let dirs = 0;
function newDir(): string {
  dirs += 1;
  const dir = path.join(directory, `d${dirs}`);
  fs.mkdirSync(dir);
  return dir;
}

const chainId = 'coffer-signer';
const publicKey = 'ab'.repeat(32);
const hashA = 'aa'.repeat(32);
const hashB = 'bb'.repeat(32);

function fakeSignature(height: number, tag: string): AccountableSignature {
  return { height, R: tag.repeat(64).slice(0, 64), s: '0'.repeat(64) };
}

describe('SignerStore', () => {
  it('persists the last signed height; the same header again is the same signature', () => {
    const dir = newDir();
    const store = SignerStore.open(dir, chainId, publicKey);
    assert.equal(store.lastHeight, -1);
    let calls = 0;
    const first = store.sign(5, hashA, () => (calls++, fakeSignature(5, 'a')));
    assert.equal(store.lastHeight, 5);
    const again = store.sign(5, hashA, () => (calls++, fakeSignature(5, 'c')));
    assert.deepEqual(again, first);
    assert.equal(calls, 1, 'a re-sign returns the stored signature without signing again');
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, signerStateFile), 'utf8')) as {
      lastHeight: number;
      lastHash: string;
    };
    assert.equal(onDisk.lastHeight, 5);
    assert.equal(onDisk.lastHash, hashA);
  });

  it('refuses another header at a signed height, and any lower height, also after a restart', () => {
    const dir = newDir();
    const store = SignerStore.open(dir, chainId, publicKey);
    store.sign(7, hashA, () => fakeSignature(7, 'a'));
    assert.throws(() => store.sign(7, hashB, () => fakeSignature(7, 'b')), SignerRefusedError);
    assert.throws(() => store.sign(6, hashB, () => fakeSignature(6, 'b')), SignerRefusedError);

    const reopened = SignerStore.open(dir, chainId, publicKey);
    assert.equal(reopened.lastHeight, 7);
    let signed = false;
    assert.throws(
      () => reopened.sign(7, hashB, () => ((signed = true), fakeSignature(7, 'b'))),
      SignerRefusedError,
    );
    assert.equal(signed, false, 'a refused header is never signed');
    assert.deepEqual(
      reopened.sign(7, hashA, () => fakeSignature(7, 'z')),
      fakeSignature(7, 'a'),
    );
    assert.equal(reopened.sign(8, hashB, () => fakeSignature(8, 'b')).height, 8);
  });

  it('belongs to one key and chain', () => {
    const dir = newDir();
    SignerStore.open(dir, chainId, publicKey);
    assert.throws(() => SignerStore.open(dir, chainId, 'cd'.repeat(32)), SignerStateError);
    assert.throws(() => SignerStore.open(dir, 'other-chain', publicKey), SignerStateError);
  });

  it('export and import carry the history to another machine', () => {
    const old = SignerStore.open(newDir(), chainId, publicKey);
    old.sign(42, hashA, () => fakeSignature(42, 'a'));
    const history: SigningHistory = JSON.parse(
      JSON.stringify(old.exportHistory()),
    ) as SigningHistory;
    assert.deepEqual(history.data, [{ publicKey, signedBlocks: [{ height: 42, hash: hashA }] }]);

    const dir = newDir();
    const moved = SignerStore.open(dir, chainId, publicKey);
    moved.importHistory(history);
    assert.equal(SignerStore.open(dir, chainId, publicKey).lastHeight, 42);
    assert.throws(() => moved.sign(42, hashB, () => fakeSignature(42, 'b')), SignerRefusedError);
    assert.throws(() => moved.sign(30, hashB, () => fakeSignature(30, 'b')), SignerRefusedError);
    // The same header may be signed again: signatures are deterministic, so it is the same one.
    assert.equal(moved.sign(42, hashA, () => fakeSignature(42, 'a')).height, 42);
    // An older history never lowers the mark.
    moved.importHistory({
      ...history,
      data: [{ publicKey, signedBlocks: [{ height: 3, hash: hashB }] }],
    });
    assert.equal(moved.lastHeight, 42);
    assert.throws(
      () => moved.importHistory({ ...history, metadata: { ...history.metadata, chainId: 'x' } }),
      SignerStateError,
    );
  });

  it('a signer killed with SIGKILL while signing never released a height it did not persist', async () => {
    const dir = newDir();
    // The child signs heights as fast as it can and prints each one once sign() returned it.
    const script = `
      import { SignerStore } from ${JSON.stringify(path.join(import.meta.dirname, 'signer-store.ts'))};
      const store = SignerStore.open(${JSON.stringify(dir)}, ${JSON.stringify(chainId)}, ${JSON.stringify(publicKey)});
      for (let h = 0; ; h++) {
        const sig = store.sign(h, ${JSON.stringify(hashA)}, () => ({ height: h, R: 'aa'.repeat(32), s: '00'.repeat(32) }));
        process.stdout.write('released ' + sig.height + '\\n');
      }
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if ((output.match(/released/g) ?? []).length >= 20) resolve();
      });
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const released = [...output.matchAll(/released (\d+)\n/g)].map((m) => Number(m[1]));
    const highest = Math.max(...released);
    const store = SignerStore.open(dir, chainId, publicKey);
    assert.ok(
      store.lastHeight >= highest,
      `released ${highest} but only ${store.lastHeight} is on disk`,
    );
    assert.throws(
      () => store.sign(store.lastHeight, hashB, () => fakeSignature(0, 'b')),
      SignerRefusedError,
    );
  });
});
