// Running the built `coffer` CLI as a user would, for the cross-process tests.
import { spawn } from 'node:child_process';
import path from 'node:path';

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
