// Running the built `coffer` CLI as a user would, for the cross-process tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  createClient,
  importKey,
  type CofferClient,
  type SigningKey,
} from '../../src/sdk/index.js';
import { NodeProcess, assertBuilt } from './node-process.js';

export const cliPath = path.resolve(import.meta.dirname, '../../dist/src/cli/main.js');

/**
 * The environment for child processes: ours without anything COFFER_* (each run says what it
 * uses) and without the test runner's own variables.
 */
export const childEnv: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined &&
      !entry[0].startsWith('COFFER_') &&
      entry[0] !== 'NODE_OPTIONS' &&
      entry[0] !== 'NODE_TEST_CONTEXT',
  ),
);

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`, feeding `input` on stdin; kills it after `timeoutMs`. */
export function runCli(
  args: string[],
  options: { env: Record<string, string>; input?: string; timeoutMs: number },
): Promise<CliRun> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coffer ${args.join(' ')} did not finish in ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function describeRun(args: string[], result: CliRun): string {
  return `coffer ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/** What a command that sends a tx prints with `--json` (its outcome, as included). */
export interface TxJson {
  hash: string;
  status: string;
  height: number | null;
}

/** How a session runs one command: stdin, changes to the environment, another node. */
export interface CliRunOptions {
  input?: string;
  /** Entries set to undefined are removed from the environment. */
  env?: Record<string, string | undefined>;
  /** The node to talk to instead of the session's own (a proxy, a closed port). */
  nodeUrl?: string;
  /** Run without `--node`: a command that talks to no node, or uses a URL it stored before. */
  noNode?: boolean;
}

export interface CliRefusalOptions extends CliRunOptions {
  /** 1 for a refusal, 2 for a bad command line. */
  exitCode?: number;
}

/** A refused run with the reason from its one stderr line `coffer: <code>: <reason>`. */
export interface CliRefusal extends CliRun {
  reason: string;
}

export interface CliSessionOptions {
  /** Names the temporary work dir, `coffer-<name>-XXXXXX`. */
  name: string;
  /** Unlocks the keystore in `home`; every run gets it as COFFER_PASSPHRASE unless told. */
  passphrase: string;
  runTimeoutMs: number;
  /** Called with every run's arguments and result (to check what no output may contain). */
  onRun?: (args: string[], result: CliRun) => void;
}

export interface CliNodeOptions {
  blockIntervalMs: number;
  /** Added to the node's environment (COFFER_DEV_CLOCK, COFFER_IDLE_BLOCK_INTERVAL_MS). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * A node process and a keystore in a temporary work dir, and the built CLI run against them as a
 * user runs it. Made in a describe body and started in `before`, so the run helpers can be taken
 * apart (`const { ok, fails } = cli`) before the node exists.
 */
export class CliSession {
  workDir = '';
  /** The keystore's COFFER_HOME. */
  home = '';
  /** The node's data dir; it writes dev-account.json there. */
  dataDir = '';
  private node: NodeProcess | undefined;
  private nodeUrl: string | undefined;
  private nodeClient: CofferClient | undefined;
  private readonly killOnExit = () => this.node?.killNow();

  constructor(private readonly options: CliSessionOptions) {}

  get url(): string {
    assert.ok(this.nodeUrl !== undefined, 'the session has not started');
    return this.nodeUrl;
  }

  get client(): CofferClient {
    assert.ok(this.nodeClient !== undefined, 'the session has not started');
    return this.nodeClient;
  }

  /** Makes the work dir and starts the node in it; resolves once the node listens. */
  async start(options: CliNodeOptions): Promise<void> {
    assertBuilt(cliPath);
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${this.options.name}-`));
    this.home = path.join(this.workDir, 'home');
    this.dataDir = path.join(this.workDir, 'node');
    process.on('exit', this.killOnExit);
    this.node = NodeProcess.spawn({
      cliPath,
      dataDir: this.dataDir,
      blockIntervalMs: options.blockIntervalMs,
      logLevel: 'warn',
      env: { ...childEnv, ...options.env },
      startTimeoutMs: options.startTimeoutMs ?? 15_000,
    });
    ({ url: this.nodeUrl } = await this.node.listening());
    this.nodeClient = createClient(this.nodeUrl);
  }

  /** Kills the node and removes the work dir. */
  async close(): Promise<void> {
    await this.node?.kill();
    process.off('exit', this.killOnExit);
    if (this.workDir !== '') fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  /** The key of the dev account the node funded at genesis. */
  readDevKey(): SigningKey {
    const file = path.join(this.dataDir, 'dev-account.json');
    const devFile = JSON.parse(fs.readFileSync(file, 'utf8')) as { secretKey: string };
    return importKey(devFile.secretKey);
  }

  /** Reads the dev key and imports it into the keystore as `name`. */
  async importDevKey(name = 'dev'): Promise<SigningKey> {
    const dev = this.readDevKey();
    await this.ok(['keys', 'import', name], { input: `${dev.secretKey}\n` });
    return dev;
  }

  /** Runs the CLI with `--node url` (unless `noNode`) and the keystore's COFFER_HOME and COFFER_PASSPHRASE. */
  readonly run = async (args: string[], options: CliRunOptions = {}): Promise<CliRun> => {
    const env: Record<string, string> = {
      ...childEnv,
      COFFER_HOME: this.home,
      COFFER_PASSPHRASE: this.options.passphrase,
    };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const all = options.noNode === true ? args : [...args, '--node', options.nodeUrl ?? this.url];
    const result = await runCli(all, {
      env,
      ...(options.input === undefined ? {} : { input: options.input }),
      timeoutMs: this.options.runTimeoutMs,
    });
    this.options.onRun?.(all, result);
    return result;
  };

  /** Runs a command that must exit 0 and print nothing on stderr; answers its stdout. */
  readonly ok = async (args: string[], options: CliRunOptions = {}): Promise<string> => {
    const result = await this.run(args, options);
    assert.equal(result.code, 0, describeRun(args, result));
    assert.equal(result.stderr, '', describeRun(args, result));
    return result.stdout;
  };

  /** Runs `args --json`, which must succeed with one line of JSON; answers it parsed. */
  readonly okJson = async <T = Record<string, unknown>>(
    args: string[],
    options: CliRunOptions = {},
  ): Promise<T> => {
    const stdout = await this.ok([...args, '--json'], options);
    assert.equal(stdout.split('\n').length, 2, `one line of JSON: ${stdout}`);
    return JSON.parse(stdout) as T;
  };

  /**
   * Runs a command that must exit `exitCode` (1 unless told) with one stderr line
   * `coffer: <code>: <reason>`; stdout may say more (a verdict, the outcome as JSON).
   */
  readonly refused = async (
    args: string[],
    code: string,
    options: CliRefusalOptions = {},
  ): Promise<CliRefusal> => {
    const result = await this.run(args, options);
    assert.equal(result.code, options.exitCode ?? 1, describeRun(args, result));
    const match = new RegExp(`^coffer: ${code}: ([^\\n]+)\\n$`).exec(result.stderr);
    assert.ok(match, describeRun(args, result));
    return { ...result, reason: match[1]! };
  };

  /** As `refused`, and a refusal that prints nothing on stdout; answers the reason. */
  readonly fails = async (
    args: string[],
    code: string,
    options: CliRefusalOptions = {},
  ): Promise<string> => {
    const result = await this.refused(args, code, options);
    assert.equal(result.stdout, '', 'a refusal prints nothing on stdout');
    return result.reason;
  };
}
