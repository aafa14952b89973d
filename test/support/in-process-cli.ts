// The CLI's own entry point run in the test's process against a node in it: a fresh COFFER_HOME
// and passphrase for its wallet, and `run`/`ok` that capture what a command prints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import { createCli } from '../../src/cli/app.js';
import type { CliIo } from '../../src/cli/terminal.js';

export interface InProcessRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `coffer ARGS --node URL` in this process; `ok` asserts it succeeds and answers stdout. */
export function inProcessCli(nodeUrl: () => string) {
  const cli = createCli();
  async function run(args: string[]): Promise<InProcessRun> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
    const code = await cli.run([...args, '--node', nodeUrl()], io);
    return { code, out, err };
  }
  async function ok(args: string[]): Promise<string> {
    const result = await run(args);
    assert.equal(result.code, 0, `coffer ${args.join(' ')}: ${result.err}`);
    return result.out;
  }
  return { run, ok };
}

/**
 * Sets COFFER_HOME to a new temporary folder (named from `prefix`) and COFFER_PASSPHRASE;
 * `restore` removes the folder and puts both variables back as they were.
 */
export function useCofferHome(prefix: string, passphrase: string) {
  const saved = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.env.COFFER_HOME = home;
  process.env.COFFER_PASSPHRASE = passphrase;
  return {
    home,
    restore() {
      fs.rmSync(home, { recursive: true, force: true });
      for (const [key, value] of [
        ['COFFER_HOME', saved.home],
        ['COFFER_PASSPHRASE', saved.passphrase],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/** `coffer keys new NAME` for each name (in COFFER_HOME), filling `addresses` by name. */
export async function newKeys(
  ok: (args: string[]) => Promise<string>,
  names: readonly string[],
  addresses: Record<string, string>,
): Promise<void> {
  for (const name of names) {
    const out = await ok(['keys', 'new', name, '--json']);
    addresses[name] = (JSON.parse(out) as { address: string }).address;
  }
}
