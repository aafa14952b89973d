// README.md from top to bottom, as a user pastes it into one shell: every ```sh block in order, in
// one bash session (set -e -o pipefail, so a failing command fails the test), in a temporary work
// dir that stands for the clone (./.coffer and ./local-cluster are made there; COFFER_HOME too).
// `npx coffer` is the built CLI (dist/src/cli/main.js). The long-running commands (`npm start`,
// `npx coffer start`, `npm run cluster:local`) are started in the background, as a user starts
// them in another terminal, and the test waits for them to listen; a node started on a port one
// of ours holds replaces it (the README says to stop the first). What cannot run here is left out
// by a rule that says why, and listed; anything else fenced that is neither sh nor ts fails.
// It needs the README's ports free (7420, the cluster's 7421-7423 and NATS 4222-4224, 6222-6224,
// 8222-8224) and nats-server installed. Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { childEnv, cliPath } from './support/cli.js';
import { assertBuilt } from './support/node-process.js';

const root = path.resolve(import.meta.dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
/** Idle blocks every 500 ms instead of 5 s: the movie example's `wait height +20` takes 10 s. */
const idleBlockIntervalMs = 500;
const nodeUrl = 'http://127.0.0.1:7420';
const clusterUrls = [7421, 7422, 7423].map((port) => `http://127.0.0.1:${port}`);
/** Every port the README's commands listen on: the node, the cluster's nodes and nats-servers. */
const readmePorts = [7420, 7421, 7422, 7423, 4222, 4223, 4224, 6222, 6223, 6224, 8222, 8223, 8224];
const nodeReadyTimeoutMs = 30_000;
/** The local cluster loads tsx, starts three nats-servers and three nodes that form a chain. */
const clusterReadyTimeoutMs = 120_000;
const blockTimeoutMs = 90_000;
const stopTimeoutMs = 20_000;
const suiteTimeoutMs = 300_000;

interface FencedBlock {
  section: string;
  language: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  text: string;
}

function fencedBlocks(text: string): FencedBlock[] {
  const found: FencedBlock[] = [];
  let section = '(top)';
  let open: FencedBlock | undefined;
  text.split('\n').forEach((line, index) => {
    if (open) {
      if (line.startsWith('```')) {
        found.push(open);
        open = undefined;
      } else {
        open.text += line + '\n';
      }
      return;
    }
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const fence = /^```(\S*)/.exec(line);
    if (fence) open = { section, language: fence[1]!, line: index + 1, text: '' };
  });
  assert.equal(open, undefined, 'README.md has an unclosed fence');
  return found;
}

/** A command the test does not run in the shell, and the rule that says why. */
interface LeftOut {
  command: string;
  rule: string;
}

type Step =
  | { kind: 'shell'; script: string; block: FencedBlock }
  | { kind: 'node'; args: string[]; command: string }
  | { kind: 'cluster'; args: string[]; command: string }
  | { kind: 'left-out'; leftOut: LeftOut };

/** The rules for commands that do not run in the shell session, by the command's first words. */
const rules: { pattern: RegExp; step: (command: string) => Step }[] = [
  {
    pattern: /^npm install$/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: 'installs the dependencies: the test runs in this checkout, already installed',
      },
    }),
  },
  {
    pattern: /^npm test\b/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: { command, rule: 'runs the whole suite, this test among it' },
    }),
  },
  {
    // The cards walk-through needs a node with the token vault set up (a vault key file, BINs,
    // an issuer, a requestor, an acquirer, a provisioned token): test/cli-cards.test.ts runs this
    // very block, as written, against such a node.
    pattern: /^npx coffer (cards|card-device) |^npx coffer hold post HOLD_ID\b/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs the token vault's set-up: test/cli-cards.test.ts runs the cards block as written",
      },
    }),
  },
  {
    // The bridge walk-through needs the conversion world (two chains, ganache, a provider, an
    // engine registered on the home chain, the bridge process): test/conversion-e2e.test.ts runs
    // these commands, with that world's quote, forward and lock ids, through the built CLI.
    pattern: /^npx coffer bridge |^npx coffer hold release LOCK\b/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs the conversion world: test/conversion-e2e.test.ts runs the bridge block's commands",
      },
    }),
  },
  {
    // The IoT walk-through needs the IoT world (a CA, device keys, a mosquitto broker with TLS,
    // the payment service): src/modules/iot/cli.test.ts and cli-service.test.ts run the chain and
    // PKI commands, test/iot-e2e.test.ts the service and the simulators, through the built CLI.
    pattern: /^npx coffer iot /,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs the IoT world: src/modules/iot/cli*.test.ts and test/iot-e2e.test.ts run the IoT block's commands",
      },
    }),
  },
  {
    // The licensing walk-through needs the content gateway and its world (a gateway process with
    // its master key, a file uploaded, accounts funded, an offer's policy file):
    // src/modules/licensing/cli.test.ts runs the content, licence and verify title commands
    // (tampered titles too), test/licensing-e2e.test.ts the gateway, the sale and the streaming.
    pattern: /^npx coffer (content|licence) |^npx coffer verify title\b/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs the content gateway's world: src/modules/licensing/cli.test.ts and test/licensing-e2e.test.ts run the licensing block's commands",
      },
    }),
  },
  {
    // The scholarship walk-through needs keys, a profile, funds and a clock past deadlines:
    // test/scholarship-e2e.test.ts runs these commands (profile, ask, answer, award, record,
    // verify qa, vote, close, pool create, fund and statement) through the CLI's entry point.
    pattern:
      /^npx coffer (scholar|ask|answer|award|vote|upvote|question|pool|mentorship) |^npx coffer verify qa\b/,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs a scholarship world: test/scholarship-e2e.test.ts runs the scholarship block's commands",
      },
    }),
  },
  {
    // The 3D printing walk-through needs the printing world (an authority, a print server with
    // its CA, an SBC's data dir, a design file, funds, a pseudo-terminal): the printing CLI tests
    // (src/modules/printing/cli*.test.ts) run its commands, test/printing-e2e.test.ts the
    // authority, the server, the agent and the virtual printer together.
    pattern:
      /^npx coffer (print-authority|print-server|print-agent|print|printer|design|virtual-printer) /,
    step: (command) => ({
      kind: 'left-out',
      leftOut: {
        command,
        rule: "needs the printing world: src/modules/printing/cli*.test.ts and test/printing-e2e.test.ts run the printing block's commands",
      },
    }),
  },
  // `npm start` is `tsx src/cli/main.ts start`: the built CLI runs the same code.
  { pattern: /^npm start$/, step: (command) => ({ kind: 'node', args: [], command }) },
  {
    pattern: /^npx coffer start\b/,
    step: (command) => ({
      kind: 'node',
      args: command.split(/\s+/).slice(3),
      command,
    }),
  },
  {
    pattern: /^npm run cluster:local\b/,
    step: (command) => ({
      kind: 'cluster',
      args: command
        .split(/\s+/)
        .slice(3)
        .filter((word) => word !== '--'),
      command,
    }),
  },
];

/** A shell line without its trailing comment (a `#` after blanks, outside quotes we use). */
function withoutComment(line: string): string {
  return line.replace(/\s+#.*$/, '').trim();
}

/** The steps of one sh block: runs of shell lines, and commands the rules take. */
function stepsOf(block: FencedBlock): Step[] {
  const steps: Step[] = [];
  let script = '';
  const flush = () => {
    if (script.trim() !== '') steps.push({ kind: 'shell', script, block });
    script = '';
  };
  // Continued lines (a trailing backslash) are one command.
  const lines = block.text.replace(/\\\n/g, '\\\n\u0000').split('\n');
  let logical = '';
  for (const raw of lines) {
    logical += (logical === '' ? '' : '\n') + raw.replace('\u0000', '');
    if (raw.endsWith('\\')) continue;
    const line = logical;
    logical = '';
    const parts = withoutComment(line)
      .split('&&')
      .map((part) => part.trim());
    const ruled = parts.map((part) => rules.find((rule) => rule.pattern.test(part)));
    if (ruled.every((rule) => rule === undefined)) {
      script += line + '\n';
      continue;
    }
    assert.ok(
      ruled.every((rule) => rule !== undefined),
      `README.md line ${block.line}: "${line}" mixes a command the test runs in the background ` +
        'or leaves out with one it runs in the shell; give them lines of their own',
    );
    flush();
    parts.forEach((part, i) => steps.push(ruled[i]!.step(part)));
  }
  flush();
  return steps;
}

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** A background process started for a long-running README command, in its own process group. */
class Background {
  output = '';
  exited = false;
  private readonly exit: Promise<unknown>;

  constructor(
    readonly command: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-16 * 1024);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exit = once(child, 'exit').then(
      () => (this.exited = true),
      () => (this.exited = true),
    );
  }

  /** Waits until every URL answers /health, failing if the process exits first. */
  async listening(urls: string[], timeoutMs: number): Promise<void> {
    const started = performance.now();
    for (;;) {
      if (this.exited) {
        assert.fail(`${this.command} exited before it listened:\n${this.output}`);
      }
      const answers = await Promise.all(urls.map(healthy));
      if (answers.every(Boolean)) return;
      if (performance.now() - started > timeoutMs) {
        assert.fail(`${this.command} did not listen in ${timeoutMs} ms:\n${this.output}`);
      }
      await sleep(250);
    }
  }

  /** Ctrl-C (SIGINT), as a user stops it; its whole group is killed if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGINT');
    await Promise.race([this.exit, sleep(stopTimeoutMs)]);
    this.killNow();
    await this.exit;
  }

  killNow(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** One bash session, fed the README's shell lines block by block, as pasted into a terminal. */
class Shell {
  output = '';
  exited = false;
  private readonly child: ChildProcess;
  private blocks = 0;

  constructor(
    private readonly workDir: string,
    env: Record<string, string>,
  ) {
    this.child = spawn('bash', ['--noprofile', '--norc'], {
      cwd: workDir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => (this.output += chunk.toString('utf8'));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.child.on('exit', () => (this.exited = true));
    // `npx coffer` is the built CLI; any other npx would reach for the registry, so it fails.
    this.child.stdin!.write(
      [
        'set -e -o pipefail',
        'exec 2>&1',
        'npx() {',
        '  if [ "$1" = coffer ]; then shift; node "$COFFER_CLI" "$@"',
        '  else echo "readme test: npx $1 is not something this test runs" >&2; return 127; fi',
        '}',
        '',
      ].join('\n'),
    );
  }

  /**
   * Runs `script` in the session (its own file, sourced with stdin from /dev/null so that no
   * command reads the rest of the session as input); answers what it printed. A failing command
   * ends the session (set -e): the test fails with the output and where the block is.
   */
  async run(script: string, where: string): Promise<string> {
    this.blocks += 1;
    const file = path.join(this.workDir, `readme-block-${this.blocks}.sh`);
    fs.writeFileSync(file, script);
    const marker = `@@readme-block-${this.blocks}-done@@`;
    const from = this.output.length;
    this.child.stdin!.write(`source '${file}' < /dev/null\necho '${marker}'\n`);
    const started = performance.now();
    while (!this.output.includes(marker + '\n', from)) {
      const printed = this.output.slice(from);
      if (this.exited) assert.fail(`${where} failed (the shell stopped at it):\n${printed}`);
      if (performance.now() - started > blockTimeoutMs) {
        assert.fail(`${where} did not finish in ${blockTimeoutMs} ms:\n${printed}`);
      }
      await sleep(100);
    }
    const printed = this.output.slice(from, this.output.indexOf(marker, from));
    // curl -s exits 0 on an error answer: the answer says it.
    assert.doesNotMatch(printed, /\{"error":\{"code"/, `${where} got an error answer:\n${printed}`);
    return printed;
  }

  kill(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

describe('README.md from top to bottom in one shell', { timeout: suiteTimeoutMs }, () => {
  const blocks = fencedBlocks(readme);
  const shBlocks = blocks.filter((block) => block.language === 'sh');
  const steps = shBlocks.flatMap(stepsOf);
  const leftOut = steps.flatMap((step) => (step.kind === 'left-out' ? [step.leftOut] : []));
  let workDir = '';
  let shell: Shell | undefined;
  const background: Background[] = [];
  const killAll = () => {
    shell?.kill();
    for (const running of background) running.killNow();
  };

  before(async () => {
    assertBuilt(cliPath);
    const taken: number[] = [];
    for (const port of readmePorts) if (!(await portFree(port))) taken.push(port);
    assert.deepEqual(
      taken,
      [],
      `the README's commands listen on ports ${readmePorts.join(', ')}, and ${taken.join(', ')} ` +
        '(127.0.0.1) are in use: stop what listens there (a node from npm start, npm run ' +
        'cluster:local) and run this test again',
    );
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-readme-'));
    process.on('exit', killAll);
  });

  after(async () => {
    shell?.kill();
    // Stopped in reverse, as Ctrl-C in each terminal.
    for (const running of background.reverse()) await running.stop();
    process.off('exit', killAll);
    if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('has only sh blocks to run and ts blocks that other tests run', (t) => {
    for (const block of blocks) {
      if (block.language === 'json') {
        // A file's content shown (the bridge's configuration): it must be JSON.
        assert.doesNotThrow(() => JSON.parse(block.text), `README.md line ${block.line}: not JSON`);
        continue;
      }
      assert.ok(
        block.language === 'sh' || block.language === 'ts',
        `README.md line ${block.line}: a \`\`\`${block.language} block; this test runs sh ` +
          'blocks and knows where the ts ones run: say which this is in test/readme.test.ts',
      );
      if (block.language === 'ts') {
        t.diagnostic(
          `left out: the ts block at README.md line ${block.line} (${block.section}): it is ` +
            'examples/first-transfer.mts, run by test/cli-first-transfer.test.ts',
        );
      }
    }
    assert.ok(shBlocks.length >= 6, `the README has its sh blocks (${shBlocks.length})`);
  });

  it('leaves out only npm install, npm test, the cards, bridge, IoT, licensing and scholarship blocks, each by its rule', (t) => {
    for (const { command, rule } of leftOut) t.diagnostic(`left out: ${command}: ${rule}`);
    const cards = leftOut.filter((entry) => entry.rule.includes('test/cli-cards.test.ts'));
    const bridge = leftOut.filter((entry) => entry.rule.includes('test/conversion-e2e.test.ts'));
    const iot = leftOut.filter((entry) => entry.rule.includes('test/iot-e2e.test.ts'));
    const licensing = leftOut.filter((entry) => entry.rule.includes('test/licensing-e2e.test.ts'));
    const scholarship = leftOut.filter((entry) =>
      entry.rule.includes('test/scholarship-e2e.test.ts'),
    );
    const printing = leftOut.filter((entry) => entry.rule.includes('test/printing-e2e.test.ts'));
    assert.deepEqual(
      leftOut
        .filter(
          (entry) =>
            !cards.includes(entry) &&
            !bridge.includes(entry) &&
            !iot.includes(entry) &&
            !licensing.includes(entry) &&
            !scholarship.includes(entry) &&
            !printing.includes(entry),
        )
        .map((entry) => entry.command),
      ['npm install', 'npm test'],
    );
    // The scholarship block, whole: every command of its section.
    const scholarshipSection = blocks.filter(
      (block) => block.section === 'Scholarship' && block.language === 'sh',
    );
    assert.equal(scholarshipSection.length, 1);
    assert.equal(scholarship.length, scholarshipSection[0]!.text.split('npx coffer').length - 1);
    // The licensing block, whole: every command of its section.
    const licensingSection = blocks.filter(
      (block) => block.section === 'Content licensing' && block.language === 'sh',
    );
    assert.equal(licensingSection.length, 1);
    assert.equal(licensing.length, licensingSection[0]!.text.split('npx coffer').length - 1);
    // The IoT block, whole: every command of its section.
    const iotSection = blocks.filter(
      (block) => block.section === 'IoT payments' && block.language === 'sh',
    );
    assert.equal(iotSection.length, 1);
    assert.equal(iot.length, iotSection[0]!.text.split('npx coffer').length - 1);
    // The bridge block, whole: every command of its section.
    const bridgeSection = blocks.filter(
      (block) => block.section === 'Conversion engine (bridge)' && block.language === 'sh',
    );
    assert.equal(bridgeSection.length, 1);
    assert.equal(bridge.length, bridgeSection[0]!.text.split('npx coffer').length - 1);
    // The cards block, whole: every command of its section, none of another.
    const section = blocks.filter((block) => block.section === 'Payment cards on devices');
    assert.equal(section.length, 1);
    assert.equal(cards.length, section[0]!.text.split('npx coffer').length - 1);
  });

  it('runs every sh block in order; each section works after the ones before it', async (t) => {
    const env: Record<string, string> = {
      ...childEnv,
      COFFER_HOME: path.join(workDir, 'home'),
      COFFER_CLI: cliPath,
    };
    shell = new Shell(workDir, env);
    const outputs: { section: string; printed: string }[] = [];
    for (const step of steps) {
      if (step.kind === 'left-out') continue;
      if (step.kind === 'shell') {
        const where = `README.md line ${step.block.line} (${step.block.section})`;
        const printed = await shell.run(step.script, where);
        outputs.push({ section: step.block.section, printed });
        continue;
      }
      const nodeEnv = { ...childEnv, COFFER_IDLE_BLOCK_INTERVAL_MS: String(idleBlockIntervalMs) };
      if (step.kind === 'node') {
        // The README stops the node that holds the port (Ctrl-C) before it starts another.
        for (const running of background.filter((b) => b.command.includes(' start'))) {
          await running.stop();
        }
        t.diagnostic(`background: ${step.command} (as node dist/src/cli/main.js start)`);
        const child = spawn(process.execPath, [cliPath, 'start', ...step.args], {
          cwd: workDir,
          env: nodeEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        const running = new Background(step.command, child);
        background.push(running);
        await running.listening([nodeUrl], nodeReadyTimeoutMs);
        continue;
      }
      t.diagnostic(`background: ${step.command} (as tsx scripts/local-cluster.ts)`);
      const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
      const child = spawn(tsx, [path.join(root, 'scripts', 'local-cluster.ts'), ...step.args], {
        cwd: workDir,
        env: nodeEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const running = new Background(step.command, child);
      background.push(running);
      await running.listening(clusterUrls, clusterReadyTimeoutMs);
    }
    // What the README's comments promise, beyond every command succeeding.
    const printedIn = (section: string) =>
      outputs
        .filter((output) => output.section === section)
        .map((output) => output.printed)
        .join('');
    assert.match(printedIn('Your first transfer'), /"status":"ok"/);
    assert.match(printedIn('Movie investment'), /420\.00/, 'alice has recouped 420.00');
    assert.match(printedIn('Cluster'), /"quorum":3/);
  });
});
