import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { SqliteBlockStore } from '../state/index.js';
import { readDifficultyBase } from '../modules/scholarship/state.js';
import {
  databaseModeWarning,
  DataDirError,
  dataFiles,
  devGenesis,
  initDataDir,
  newStoredKey,
  lockDataDir,
  lockFileName,
} from './data-dir.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-data-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('initDataDir', () => {
  it('creates a dev chain once and resumes it afterwards', () => {
    const dataDir = tempDir();
    const first = initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    assert.equal(first.created, true);
    assert.ok(first.devAccount);
    const second = initDataDir({ dataDir, chainId: 'other', now: 2_000 });
    assert.equal(second.created, false);
    assert.equal(second.chainId, 'coffer-dev');
    assert.equal(second.genesis, undefined, 'a resumed chain does not read its genesis back');
    assert.equal(second.producer.address, first.producer.address);
    assert.equal(second.devAccount?.address, first.devAccount.address);
    const mode = fs.statSync(path.join(dataDir, dataFiles.producerKey)).mode & 0o777;
    assert.equal(mode, 0o600, 'key files are readable by their owner only');
  });

  it("applies every module's genesis section to block 0, as verify and the audit recompute it", () => {
    const dataDir = tempDir();
    const dev = devGenesis(
      'coffer-sections',
      newStoredKey().address,
      newStoredKey().address,
      1_000,
    );
    const genesis = { ...dev, modules: { ...dev.modules, scholarship: { difficultyBase: 9 } } };
    initDataDir({ dataDir, chainId: 'coffer-sections', now: 1_000, genesis });
    const store = new SqliteBlockStore(path.join(dataDir, dataFiles.database));
    try {
      // Block 0 applied the producers' section alone before: the default (12) was read here.
      assert.equal(readDifficultyBase(store), 9);
    } finally {
      store.close();
    }
  });

  it('creates chain.db and its -wal and -shm owner-only, in a world-readable directory', () => {
    const dataDir = tempDir();
    fs.chmodSync(dataDir, 0o755);
    const umask = process.umask(0o022);
    try {
      initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
      // An open store (the node's two connections) makes the -wal and -shm files.
      const store = new SqliteBlockStore(path.join(dataDir, dataFiles.database));
      try {
        for (const name of ['', '-wal', '-shm']) {
          const file = path.join(dataDir, dataFiles.database + name);
          assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is owner-only`);
        }
      } finally {
        store.close();
      }
      assert.equal(databaseModeWarning(dataDir), undefined);
      fs.chmodSync(path.join(dataDir, dataFiles.database), 0o644);
      assert.match(databaseModeWarning(dataDir) ?? '', /group or others \(mode 0644\)/);
    } finally {
      process.umask(umask);
    }
  });

  it('recovers from an init killed before genesis.json was written', () => {
    const dataDir = tempDir();
    initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    fs.rmSync(path.join(dataDir, dataFiles.genesis));
    const again = initDataDir({ dataDir, chainId: 'coffer-dev', now: 3_000 });
    assert.equal(again.created, true);
    assert.equal(again.genesis?.time, 3_000);
    assert.ok(fs.existsSync(path.join(dataDir, dataFiles.genesis)));
  });

  it('refuses a key file whose address does not match its secret', () => {
    const dataDir = tempDir();
    const { producer } = initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    const file = path.join(dataDir, dataFiles.producerKey);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      address: string;
      secretKey: string;
    };
    const other = initDataDir({ dataDir: tempDir(), chainId: 'coffer-dev', now: 1_000 }).producer
      .address;
    assert.notEqual(other, producer.address);
    fs.writeFileSync(file, JSON.stringify({ ...stored, address: other }));
    assert.throws(() => initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 }), {
      code: 'invalid_data_dir',
    });
  });
});

describe('lockDataDir', () => {
  const now = new Date('2026-12-04T12:00:00Z');

  it('holds the directory for one holder at a time, naming it to the next', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, 'coffer start', now);
    const holder = JSON.parse(fs.readFileSync(lock.file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(holder, {
      pid: process.pid,
      command: 'coffer start',
      since: '2026-12-04T12:00:00.000Z',
    });
    assert.throws(
      () => lockDataDir(dir, 'coffer start', now),
      (error: unknown) =>
        error instanceof DataDirError &&
        error.code === 'invalid_data_dir' &&
        error.message.includes('is in use by this process (coffer start, since 2026-12-04'),
    );
    lock.release();
    assert.equal(fs.existsSync(lock.file), false);
    const again = lockDataDir(dir, 'coffer start', now);
    again.release();
    again.release(); // twice is harmless
  });

  it("takes over a lock whose process is gone, and never removes another holder's", () => {
    const dir = tempDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    const file = path.join(dir, lockFileName);
    fs.writeFileSync(file, JSON.stringify({ pid: gone, command: 'coffer start', since: 'x' }));
    const lock = lockDataDir(dir, 'coffer start', now);
    assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number }).pid, process.pid);
    // A later holder (here written by hand) keeps its lock when ours is released.
    fs.writeFileSync(file, JSON.stringify({ pid: 1, command: 'coffer start', since: 'y' }));
    lock.release();
    assert.equal(fs.existsSync(file), true);
    // pid 1 is alive: refused.
    assert.throws(() => lockDataDir(dir, 'coffer start', now), /is in use by pid 1 /);
  });

  it('treats an unreadable lock file as stale (its writer died before it wrote)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, lockFileName), '{"pid":');
    lockDataDir(dir, 'coffer start', now).release();
  });
});
