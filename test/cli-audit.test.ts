// `coffer audit` as a user runs it: a node process builds a chain in its data directory and is
// stopped, then the built CLI replays that directory in a process of its own. Build first (npm
// test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';

import { ledgerKeys } from '../src/ledger/index.js';
import { createClient, generateKey, importKey, txs } from '../src/sdk/index.js';
import { childEnv, cliPath, describeRun, runCli } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

const blockIntervalMs = 20;
const startTimeoutMs = 15_000;
const runTimeoutMs = 60_000;
const suiteTimeoutMs = 120_000;

const okLine =
  /^ok: (\d+) blocks from 0 to (\d+) replayed; every header, signature, nonce proof, root and receipt matches\n$/;

describe("coffer audit on a stopped node's data directory", { timeout: suiteTimeoutMs }, () => {
  let workDir = '';
  let dataDir = '';
  let node: NodeProcess | undefined;
  const killOnExit = () => node?.killNow();
  /** Paid once, at `paidHeight`, by a block below the head. */
  const payee = generateKey();
  let paidHeight = 0;
  let lastSentHeight = 0;

  const audit = (args: string[]) =>
    runCli(['audit', ...args], { env: childEnv, timeoutMs: runTimeoutMs });

  before(async () => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-audit-'));
    dataDir = path.join(workDir, 'node');
    process.on('exit', killOnExit);
    node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs,
      logLevel: 'warn',
      env: childEnv,
      startTimeoutMs,
    });
    const { url } = await node.listening();
    const client = createClient(url);
    const devFile = path.join(dataDir, 'dev-account.json');
    const dev = importKey(
      (JSON.parse(fs.readFileSync(devFile, 'utf8')) as { secretKey: string }).secretKey,
    );
    const paid = await client.send(
      dev,
      txs.transfer({ to: payee.address, asset: 'USD', amount: '1250' }),
    );
    assert.equal(paid.status, 'ok');
    paidHeight = paid.height!;
    for (const amount of ['100', '200', '300']) {
      const sent = await client.send(
        dev,
        txs.transfer({ to: generateKey().address, asset: 'USD', amount }),
      );
      assert.equal(sent.status, 'ok');
      lastSentHeight = sent.height!;
    }
    assert.ok(lastSentHeight > paidHeight);
    // SIGKILL: nothing is closed or flushed; what the node committed is on disk all the same.
    await node.kill();
  });

  after(() => {
    node?.killNow();
    process.off('exit', killOnExit);
    if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('replays the whole chain and says so, as text and as JSON, with exit status 0', async () => {
    const text = await audit(['--data-dir', dataDir]);
    assert.equal(text.code, 0, describeRun(['audit'], text));
    assert.equal(text.stderr, '');
    const match = okLine.exec(text.stdout);
    assert.ok(match, `the ok line: ${text.stdout}`);
    const [blocks, head] = [Number(match[1]), Number(match[2])];
    assert.equal(blocks, head + 1);
    assert.ok(head >= lastSentHeight, `the head ${head} holds every tx sent`);
    assert.ok(!text.stdout.includes('\r'), 'no progress bar on a pipe');

    const json = await audit(['--data-dir', dataDir, '--json']);
    assert.equal(json.code, 0, describeRun(['audit', '--json'], json));
    assert.deepEqual(JSON.parse(json.stdout), {
      ok: true,
      from: 0,
      to: head,
      blocksMatched: blocks,
    });
  });

  it('refuses a bad command line with status 2 and a missing directory with status 1', async () => {
    const noDir = await audit([]);
    assert.equal(noDir.code, 2, describeRun(['audit'], noDir));
    assert.match(noDir.stderr, /^coffer: usage: --data-dir is required\n$/);
    const withNode = await audit(['--data-dir', dataDir, '--node', 'http://127.0.0.1:1']);
    assert.equal(withNode.code, 2, describeRun(['audit', '--node'], withNode));
    assert.match(withNode.stderr, /^coffer: usage: coffer audit talks to no node/);
    const missing = path.join(workDir, 'nowhere');
    const absent = await audit(['--data-dir', missing]);
    assert.equal(absent.code, 1, describeRun(['audit', missing], absent));
    assert.equal(absent.stderr, `coffer: invalid_data_dir: ${missing}: no such directory\n`);
  });

  // Last: it changes the data directory the other tests read.
  it('names the height of the block that wrote a stored value changed afterwards, status 1', async () => {
    const db = new Database(path.join(dataDir, 'chain.db'));
    try {
      const changed = db
        .prepare(`UPDATE state SET value = replace(value, '"1250"', '"9999"') WHERE key = ?`)
        .run(ledgerKeys.account(payee.address));
      assert.equal(changed.changes, 1);
    } finally {
      db.close();
    }
    const result = await audit(['--data-dir', dataDir]);
    assert.equal(result.code, 1, describeRun(['audit'], result));
    assert.match(
      result.stderr,
      new RegExp(
        `^coffer: audit_failed: divergence at height ${paidHeight} \\(state\\): ` +
          `ledger/account/${payee.address}, last written at height ${paidHeight}, differs`,
      ),
    );
    assert.match(result.stdout, new RegExp(`^divergence at height ${paidHeight}: state\n`));
    assert.match(result.stdout, /expected {2}.*"1250"/);
    assert.match(result.stdout, /found {5}.*"9999"/);

    const json = await audit(['--data-dir', dataDir, '--json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      divergence: { height: number; check: string };
    };
    assert.equal(report.ok, false);
    assert.deepEqual(
      { height: report.divergence.height, check: report.divergence.check },
      { height: paidHeight, check: 'state' },
    );
  });
});
