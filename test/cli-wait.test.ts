// `coffer wait height`, as a user runs it against a node process: it returns once the node has
// committed the height (absolute or +N), exits 1 with wait_timeout when the height does not come
// in time, and 2 on a bad command line before asking the node anything.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CliSession } from './support/cli.js';

const passphrase = 'change-me';
const runTimeoutMs = 30_000;
/** Idle blocks every 200 ms: +5 blocks take about a second. */
const idleBlockIntervalMs = 200;

describe('coffer wait height', { timeout: 90_000 }, () => {
  const cli = new CliSession({ name: 'cli-wait', passphrase, runTimeoutMs });
  const { okJson, ok, fails } = cli;

  before(() =>
    cli.start({
      blockIntervalMs: 50,
      env: { COFFER_IDLE_BLOCK_INTERVAL_MS: String(idleBlockIntervalMs) },
    }),
  );
  after(() => cli.close());

  it('waits for +N blocks after the current height, then for an absolute height', async () => {
    const start = (await cli.client.latestBlock()).height;
    const relative = await okJson<{ height: number; target: number }>(['wait', 'height', '+5']);
    assert.ok(relative.target >= start + 5, `target ${relative.target} from ${start}`);
    assert.ok(relative.height >= relative.target);
    assert.ok((await cli.client.latestBlock()).height >= relative.target, 'the node is there');

    const absolute = relative.target + 3;
    assert.equal(await ok(['wait', 'height', String(absolute)]).then(Boolean), true);
    assert.ok((await cli.client.latestBlock()).height >= absolute);
    // A height already passed returns at once, with the node's height.
    const text = await ok(['wait', 'height', '1']);
    assert.match(text, /^height [0-9]+\n$/);
    assert.ok(Number(/[0-9]+/.exec(text)![0]) >= absolute);
  });

  it('exits 1 with wait_timeout when the height does not come in time', async () => {
    const far = (await cli.client.latestBlock()).height + 1_000_000;
    const started = performance.now();
    const reason = await fails(
      ['wait', 'height', String(far), '--timeout-ms', '700'],
      'wait_timeout',
    );
    const elapsedMs = performance.now() - started;
    assert.match(reason, new RegExp(`after 700 ms, not yet at ${far}`));
    assert.ok(elapsedMs >= 700, `waited ${elapsedMs} ms`);
    await fails(['wait', 'height', '+1000000', '--timeout-ms', '300'], 'wait_timeout');
  });

  it('exits 2 on a bad command line, naming what is wrong', async () => {
    const usage = { exitCode: 2 };
    assert.match(await fails(['wait', 'height'], 'usage', usage), /wrong number of arguments/);
    assert.match(await fails(['wait', 'height', 'ten'], 'usage', usage), /HEIGHT must be/);
    assert.match(await fails(['wait', 'height', '+x'], 'usage', usage), /HEIGHT \(\+N\) must be/);
    assert.match(await fails(['wait', 'height', '-3'], 'usage', usage), /cannot be negative/);
    assert.match(
      await fails(['wait', 'height', '+1', '--timeout-ms', '0'], 'usage', usage),
      /--timeout-ms is 1 to/,
    );
    assert.match(
      await fails(['wait', 'height', '+1', '--timeout', '5'], 'usage', usage),
      /there is no option --timeout/,
    );
    // The bad line is refused before the node is asked: a node that is not there does not matter.
    await fails(['wait', 'height', 'ten'], 'usage', { ...usage, nodeUrl: 'http://127.0.0.1:9' });
    await fails(['wait'], 'usage', usage);
  });
});
