// `coffer cluster init` as a user runs it: the built dist/src/cli/main.js in its own process.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readValidatorFile } from '../src/node/cluster-init.js';
import { readKeyFile } from '../src/node/data-dir.js';
import { assertBuilt } from './support/node-process.js';
import { childEnv, cliPath, describeRun, runCli } from './support/cli.js';

const runTimeoutMs = 60_000;
const addressPattern = 'cof1[0-9a-z]+';

describe('coffer cluster init', { timeout: 3 * runTimeoutMs }, () => {
  let workDir = '';
  before(() => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-cluster-'));
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('writes a cluster of 3 validators and prints how to start each', async () => {
    const dir = path.join(workDir, 'c');
    const args = ['cluster', 'init', '--validators', '3', '--dir', dir];
    const result = await runCli(args, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(result.code, 0, describeRun(args, result));
    assert.equal(result.stderr, '', describeRun(args, result));
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `created cluster coffer-cluster in ${dir} with 3 validators`);

    const nats = 'nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224';
    const genesis = fs.readFileSync(path.join(dir, 'genesis.json'), 'utf8');
    for (const [index, name] of ['v1', 'v2', 'v3'].entries()) {
      const dataDir = path.join(dir, name);
      const block = new RegExp(
        `^validator ${name}\\n  data dir: (.+)\\n  operator: (${addressPattern})\\n  producer: (${addressPattern})$`,
        'm',
      ).exec(result.stdout);
      assert.ok(block, `${name} is described:\n${result.stdout}`);
      assert.equal(block[1], dataDir);
      const key = readKeyFile(path.join(dataDir, 'producer-key.json'));
      assert.equal(block[2], key.address, `${name}: the operator is its producer key`);
      assert.deepEqual(readValidatorFile(dataDir), {
        name,
        chainId: 'coffer-cluster',
        producer: block[3],
        operator: key.address,
      });
      assert.equal(fs.readFileSync(path.join(dataDir, 'genesis.json'), 'utf8'), genesis);
      assert.ok(fs.existsSync(path.join(dataDir, 'chain.db')), `${name}: chain.db`);
      assert.ok(
        lines.includes(
          `coffer start --data-dir ${dataDir} --cluster ${nats} --validator ${name} --port ${7421 + index}`,
        ),
        `${name}: a start line:\n${result.stdout}`,
      );
    }

    const dev = readKeyFile(path.join(dir, 'dev-account.json'));
    assert.ok(
      lines.includes(`dev account ${dev.address} holds 1,000,000.00 USD and issues USD`),
      result.stdout,
    );
    assert.ok(lines.includes(`its secret key (development only) is in ${dir}/dev-account.json`));
    assert.equal(
      (JSON.parse(genesis) as { producer: string }).producer,
      readValidatorFile(path.join(dir, 'v1'))?.producer,
      'the first validator signs block 0',
    );

    // Run again, the directory is taken: refused, and the cluster is left as it was.
    const again = await runCli(args, { env: childEnv, timeoutMs: runTimeoutMs });
    assert.equal(again.code, 1, describeRun(args, again));
    assert.match(again.stderr, /^coffer: invalid_data_dir: .*is not empty.*\n$/);
    assert.equal(again.stdout, '');
    assert.equal(fs.readFileSync(path.join(dir, 'genesis.json'), 'utf8'), genesis);
  });

  it('refuses bad arguments with the problem on stderr', async () => {
    // A bad command line exits 2, a refused value 1.
    const cases: [string[], RegExp, number][] = [
      [
        ['cluster', 'init', '--validators', 'three'],
        /^coffer: usage: --validators three is not/,
        2,
      ],
      [
        ['cluster', 'init', '--dir', path.join(workDir, 'x')],
        /^coffer: usage: --validators N is/,
        2,
      ],
      [
        ['cluster', 'init', '--validators', '2', '--nodes', '2'],
        /^coffer: usage: coffer cluster init: there is no option --nodes; usage: /,
        2,
      ],
      [['cluster', 'start'], /^coffer: usage: unknown command cluster start/, 2],
      [
        ['cluster', 'init', '--validators', '17', '--dir', path.join(workDir, 'x')],
        /^coffer: invalid_config: validators: a whole number from 1 to 16\n$/,
        1,
      ],
      [
        [
          'cluster',
          'init',
          '--validators',
          '1',
          '--dir',
          path.join(workDir, 'x'),
          '--chain-id',
          'A',
        ],
        /^coffer: invalid_config: chainId: /,
        1,
      ],
    ];
    for (const [args, stderr, exitCode] of cases) {
      const result = await runCli(args, { env: childEnv, timeoutMs: runTimeoutMs });
      assert.equal(result.code, exitCode, describeRun(args, result));
      assert.match(result.stderr, stderr, describeRun(args, result));
      assert.equal(result.stdout, '', describeRun(args, result));
    }
    assert.equal(fs.existsSync(path.join(workDir, 'x')), false, 'nothing was written');
  });
});
