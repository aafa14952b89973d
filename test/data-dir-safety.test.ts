// Data-directory safety as an operator meets it, through the built CLI in its own processes:
// one node per directory, and a cluster validator's directory never started alone.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { lockFileName } from '../src/node/data-dir.js';
import { childEnv, cliPath, describeRun, runCli } from './support/cli.js';
import { assertBuilt, NodeProcess } from './support/node-process.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const runTimeoutMs = 60_000;

describe('data directory safety', { timeout: 4 * runTimeoutMs }, () => {
  let workDir = '';
  const nodes: NodeProcess[] = [];
  before(() => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-data-dir-'));
  });
  after(async () => {
    for (const node of nodes) await node.kill();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  function start(dataDir: string): NodeProcess {
    const node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs: 20,
      logLevel: 'warn',
      env: childEnv,
      startTimeoutMs: runTimeoutMs,
    });
    nodes.push(node);
    return node;
  }

  it('a second node on a running node’s directory is refused, naming the holder; a killed one’s lock is taken over', async () => {
    const dataDir = path.join(workDir, 'solo');
    const first = start(dataDir);
    const { url } = await first.listening();
    const holder = JSON.parse(fs.readFileSync(path.join(dataDir, lockFileName), 'utf8')) as {
      pid: number;
      command: string;
    };
    assert.equal(holder.command, 'coffer start');

    const args = ['start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'];
    const second = await runCli(args, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(second.code, 1, describeRun(args, second));
    assert.match(
      second.stderr,
      new RegExp(`is in use by pid ${holder.pid} \\(coffer start, since `),
    );
    assert.match(second.stderr, /stop it first, or choose another --data-dir/);
    // The first node never noticed: it still commits.
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    assert.equal(health.status, 'ok');

    // An import of a signing history under the running node is refused the same way.
    const history = path.join(workDir, 'history.json');
    fs.writeFileSync(history, JSON.stringify({ chainId: 'coffer-dev', entries: [] }));
    const importArgs = ['signing-history', 'import', history, '--data-dir', dataDir];
    const imported = await runCli(importArgs, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(imported.code, 1, describeRun(importArgs, imported));
    assert.match(imported.stderr, /is in use by pid \d+ \(coffer start/);

    // Another directory on the first node's port: the port is named, no bare EADDRINUSE.
    const taken = new URL(url).port;
    const otherDir = path.join(workDir, 'other');
    const portArgs = ['start', '--data-dir', otherDir, '--host', '127.0.0.1', '--port', taken];
    const clash = await runCli(portArgs, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(clash.code, 1, describeRun(portArgs, clash));
    assert.match(clash.stderr, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is in use`));
    assert.equal(fs.existsSync(path.join(otherDir, lockFileName)), false, 'its lock released');

    // SIGKILL leaves the lock file behind; its process is gone, so the next start takes it.
    await first.kill();
    assert.ok(fs.existsSync(path.join(dataDir, lockFileName)), 'a killed node leaves its lock');
    const restarted = start(dataDir);
    await restarted.listening();
    await restarted.kill();
  });

  it('a cluster validator’s directory started without --cluster is refused, saying how to start it', async () => {
    const dir = path.join(workDir, 'cluster');
    const init = ['cluster', 'init', '--validators', '3', '--dir', dir];
    const made = await runCli(init, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(made.code, 0, describeRun(init, made));
    const args = ['start', '--data-dir', path.join(dir, 'v2'), '--port', '0'];
    const solo = await runCli(args, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(solo.code, 1, describeRun(args, solo));
    assert.match(
      solo.stderr,
      /is the directory of cluster validator v2 \(made by coffer cluster init\): start it with --cluster nats:\/\/HOST:PORT\[,\.\.\.\] --validator v2, never alone/,
    );
    // No lock left behind.
    assert.equal(fs.existsSync(path.join(dir, 'v2', lockFileName)), false);

    // Started as a validator with no NATS server there: one line naming the URLs and what to do.
    const port = await closedPort();
    const url = `nats://127.0.0.1:${port}`;
    const clusterArgs = ['start', '--data-dir', path.join(dir, 'v2'), '--port', '0'];
    clusterArgs.push('--cluster', url, '--validator', 'v2');
    const unreachable = await runCli(clusterArgs, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(unreachable.code, 1, describeRun(clusterArgs, unreachable));
    assert.match(unreachable.stderr, /cluster_unreachable/);
    assert.match(unreachable.stderr, new RegExp(`cannot reach any NATS server of ${url} `));
    assert.doesNotMatch(unreachable.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(path.join(dir, 'v2', lockFileName)), false, 'the lock is released');
  });
});
