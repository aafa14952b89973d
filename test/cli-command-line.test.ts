// The coffer command line as a user types it, right or wrong: the built CLI in its own process,
// no node needed (a bad command line is refused before anything is read, unlocked or sent). Exit
// 2 and one line `coffer: usage: coffer COMMAND: what is wrong; usage: ...` for every mistake,
// never the argument parser's own text; help on stdout with exit 0 when asked for, init and start
// included. Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { childEnv, describeRun, runCli, type CliRun } from './support/cli.js';

const runTimeoutMs = 30_000;
const suiteTimeoutMs = 120_000;

let workDir = '';
/** A node URL nothing answers at. */
let down = '';

/** A keystore of its own, so no run reads the user's. */
const bare = (args: string[]) =>
  runCli(args, {
    env: { ...childEnv, COFFER_HOME: path.join(workDir, 'home') },
    timeoutMs: runTimeoutMs,
  });

/** A run that must exit 2 with one stderr line `coffer: usage: REASON`; answers it with REASON. */
async function refusedUsage(args: string[]): Promise<CliRun & { reason: string }> {
  const result = await bare(args);
  assert.equal(result.code, 2, describeRun(args, result));
  const match = /^coffer: usage: ([^\n]+)\n$/.exec(result.stderr);
  assert.ok(match, describeRun(args, result));
  return { ...result, reason: match[1]! };
}

describe('the coffer command line', { timeout: suiteTimeoutMs }, () => {
  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-command-line-'));
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    down = `http://127.0.0.1:${port}`;
  });

  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('a bad command line exits 2 with one line naming the command and the option, never parser text', async () => {
    // --node names a port nothing listens on: a command that got past its command line would
    // fail with network_error, not usage.
    const usage = (args: string[]) => refusedUsage([...args, '--node', down]);
    const cases: [string[], RegExp][] = [
      [
        ['send', '-5', 'USD', '--to', 'bob', '--from', 'alice'],
        /^coffer send: AMOUNT is -5, and amounts are positive; usage: coffer send AMOUNT SYMBOL --to ADDRESS --from NAME$/,
      ],
      [
        ['send', '-0.5', 'USD', '--to', 'bob', '--from', 'alice'],
        /AMOUNT is -0\.5, and amounts are positive/,
      ],
      [
        ['timebank', 'issue', '0123456789abcdef', '-2', '--user-id', 'u', '--key', 'alice'],
        /^coffer timebank issue: HOURS is -2, and hours are positive/,
      ],
      [
        [
          'hold',
          'create',
          '1',
          'USD',
          '--to',
          'bob',
          '--from',
          'alice',
          '--expires-in-blocks',
          '-3',
        ],
        /^coffer hold create: --expires-in-blocks N is -3, and it cannot be negative; usage: coffer hold create /,
      ],
      [
        ['send', '1', 'USD', '--to', 'bob', '--from', 'alice', '--bogus'],
        /^coffer send: there is no option --bogus; usage: coffer send /,
      ],
      [
        ['balance', 'alice', '--jsno'],
        /^coffer balance: there is no option --jsno \(did you mean --json\?\)/,
      ],
      [
        ['send', '1', 'USD', '--to', 'bob', '--to', 'alice', '--from', 'alice'],
        /^coffer send: --to is given twice; give it once/,
      ],
      [
        ['send', '1', 'USD', '--json=yes', '--to', 'bob', '--from', 'alice'],
        /^coffer send: --json takes no value/,
      ],
      [
        ['send', '1', 'USD', '--to', '--from', 'alice'],
        /^coffer send: --to needs a value, and --from looks like an option/,
      ],
      [
        ['send', '1', 'USD', 'bob', '--from', 'alice'],
        /^coffer send: wrong number of arguments: it takes 2 arguments \(AMOUNT SYMBOL\), got 3: "1" "USD" "bob"/,
      ],
      [
        ['send', '--', '-5', 'USD', '--to', 'bob', '--from', 'alice'],
        /: "-5" "USD" "--to" "bob" "--from" "alice" .*; everything after -- counts as an argument;/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => usage(args)));
    results.forEach((result, i) => {
      const [args, reason] = cases[i]!;
      assert.match(result.reason, reason, describeRun(args, result));
      assert.doesNotMatch(result.stderr, /Unknown option|positional argument|To specify/);
      assert.equal(result.stdout, '');
    });
  });

  it('coffer alone and a group alone exit 2 with the list on stderr; --help exits 0 for every command, init and start included', async () => {
    const [alone, group, subgroup, help, groupHelp, sendHelp] = await Promise.all([
      bare([]),
      bare(['timebank']),
      bare(['timebank', 'alliance']),
      bare(['--help']),
      bare(['timebank', '--help']),
      bare(['send', '--help', '--bogus']),
    ]);
    assert.equal(alone.code, 2, describeRun([], alone));
    assert.equal(alone.stdout, '');
    assert.match(alone.stderr, /^Usage: coffer <command> \[options\]\n/);
    assert.match(alone.stderr, /\ncoffer: usage: no command given; see the commands above\n$/);
    assert.equal(group.code, 2, describeRun(['timebank'], group));
    assert.match(group.stderr, /^Usage:\n {2}timebank create /);
    assert.match(
      group.stderr,
      /\ncoffer: usage: coffer timebank needs a command; see the commands above\n$/,
    );
    assert.equal(subgroup.code, 2);
    assert.match(subgroup.stderr, /^Usage:\n {2}timebank alliance propose /);
    // Asked for, help is on stdout and exit 0; the usage says what a bare coffer does.
    assert.deepEqual([help.code, help.stderr], [0, '']);
    assert.match(
      help.stdout,
      /coffer alone names no command: it prints this on stderr and exits 2/,
    );
    assert.match(help.stdout, /^Exit status: 0 done, 1 failed or refused, 2 bad command line/m);
    assert.deepEqual([groupHelp.code, groupHelp.stderr], [0, '']);
    assert.match(groupHelp.stdout, /^Usage:\n {2}timebank create /);
    assert.deepEqual([sendHelp.code, sendHelp.stderr], [0, '']);
    assert.match(sendHelp.stdout, /^Usage: coffer send AMOUNT SYMBOL --to ADDRESS --from NAME/);

    const dataDir = path.join(workDir, 'never-made');
    const helps: [string[], RegExp][] = [
      [['init', '--help'], /^Usage: coffer init \[--data-dir D\] \[--chain-id ID\]\n/],
      [['start', '--help'], /^Usage: coffer start \[--data-dir D\] \[--host H\] \[--port P\]/],
      [['signing-history', '--help'], /^Usage: coffer signing-history export \[--data-dir D\]\n/],
      [['cluster', 'init', '--help'], /^Usage: coffer cluster init --validators N/],
      [['start', '-h', '--data-dir', dataDir], /^Usage: coffer start /],
    ];
    const helped = await Promise.all(helps.map(([args]) => bare(args)));
    helped.forEach((result, i) => {
      const [args, title] = helps[i]!;
      assert.equal(result.code, 0, describeRun(args, result));
      assert.equal(result.stderr, '');
      assert.match(result.stdout, title);
    });
    assert.match(helped[1]!.stdout, /--port P\s+COFFER_PORT/);

    const refusals: [string[], RegExp][] = [
      [
        ['start', '--prot', '7000', '--data-dir', dataDir],
        /^coffer: usage: coffer start: there is no option --prot \(did you mean --port\?\); usage: coffer start /,
      ],
      [
        ['start', 'now', '--data-dir', dataDir],
        /^coffer: usage: coffer start: wrong number of arguments: it takes none, got "now"/,
      ],
      [
        ['init', '--port', '7000', '--data-dir', dataDir],
        /^coffer: usage: coffer init: there is no option --port; usage: coffer init \[--data-dir D\]/,
      ],
      [
        ['init', '--data-dir'],
        /^coffer: usage: coffer init: --data-dir needs a value: --data-dir D/,
      ],
      [
        ['signing-history', '--data-dir', dataDir],
        /\ncoffer: usage: coffer signing-history needs export or import/,
      ],
      [
        ['signing-history', 'export', 'file.json', '--data-dir', dataDir],
        /^coffer: usage: coffer signing-history export takes no FILE/,
      ],
      [
        ['cluster', 'init', '--dir', dataDir],
        /^coffer: usage: --validators N is required; usage: coffer cluster init /,
      ],
      [['cluster'], /\ncoffer: usage: coffer cluster needs a command/],
    ];
    const refused2 = await Promise.all(refusals.map(([args]) => bare(args)));
    refused2.forEach((result, i) => {
      const [args, stderr] = refusals[i]!;
      assert.equal(result.code, 2, describeRun(args, result));
      assert.match(result.stderr, stderr, describeRun(args, result));
      assert.doesNotMatch(result.stderr, /Unknown option|To specify/);
      assert.equal(result.stdout, '');
    });
    assert.equal(fs.existsSync(dataDir), false, 'nothing was written');
  });
});
