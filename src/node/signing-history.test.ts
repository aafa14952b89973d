import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseNodeConfig } from './config.js';
import { dataFiles } from './data-dir.js';
import { CofferNode } from './node.js';
import { signerStateFile } from './signer-store.js';
import { exportSigningHistoryOf, importSigningHistoryInto } from './signing-history.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-history-'));
  dirs.push(dir);
  return dir;
}

/** A data directory whose producer signed a few blocks. */
async function producedChain(blocks: number): Promise<string> {
  const dataDir = tempDir();
  const node = await CofferNode.open(
    parseNodeConfig({ dataDir, logLevel: 'silent', idleBlockIntervalMs: 0 }, {}),
  );
  for (let i = 0; i < blocks; i++) node.solo!.produceBlock();
  await node.close();
  return dataDir;
}

describe('signing history export and import', () => {
  it('carries the last signed height to a restored data directory that lost its safety file', async () => {
    const old = await producedChain(3);
    const history = exportSigningHistoryOf(old);
    assert.equal(history.metadata.interchangeFormatVersion, 'coffer-signing-1');
    assert.equal(history.data[0]!.signedBlocks[0]!.height, 3);

    // The new machine: the same chain and key, restored from a backup without signer-state.json.
    const restored = tempDir();
    for (const name of [dataFiles.database, dataFiles.genesis, dataFiles.producerKey]) {
      fs.copyFileSync(path.join(old, name), path.join(restored, name));
    }
    assert.equal(exportSigningHistoryOf(restored).data[0]!.signedBlocks.length, 0);
    assert.equal(importSigningHistoryInto(restored, history), 3);
    assert.deepEqual(exportSigningHistoryOf(restored), history);
    // Importing an older history never lowers the height.
    const older = structuredClone(history);
    older.data[0]!.signedBlocks[0]!.height = 1;
    assert.equal(importSigningHistoryInto(restored, older), 3);
    assert.ok(fs.existsSync(path.join(restored, signerStateFile)));
  });

  it("refuses another chain's history and a directory with no chain", async () => {
    const one = await producedChain(1);
    const other = await producedChain(1);
    const history = exportSigningHistoryOf(other);
    history.metadata.chainId = 'another-chain';
    assert.throws(() => importSigningHistoryInto(one, history), { code: 'invalid_signer_state' });
    assert.throws(() => exportSigningHistoryOf(tempDir()), { code: 'invalid_data_dir' });
  });

  it('works through the built CLI: coffer signing-history export | import', async () => {
    const cli = path.resolve(import.meta.dirname, '../../dist/src/cli/main.js');
    assert.ok(fs.existsSync(cli), 'build first: npx tsc -p tsconfig.build.json (npm test does)');
    const old = await producedChain(2);
    const exported = execFileSync(
      process.execPath,
      [cli, 'signing-history', 'export', '--data-dir', old],
      {
        encoding: 'utf8',
      },
    );
    const file = path.join(tempDir(), 'history.json');
    fs.writeFileSync(file, exported);
    const restored = tempDir();
    for (const name of [dataFiles.database, dataFiles.genesis, dataFiles.producerKey]) {
      fs.copyFileSync(path.join(old, name), path.join(restored, name));
    }
    const imported = execFileSync(
      process.execPath,
      [cli, 'signing-history', 'import', file, '--data-dir', restored],
      { encoding: 'utf8' },
    );
    assert.match(imported, /signs only above height 2/);
    const bad = spawnSync(
      process.execPath,
      [cli, 'signing-history', 'import', '/nonexistent.json', '--data-dir', restored],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^coffer: invalid_file: /);
  });
});
