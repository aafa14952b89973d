/*
 * A real local EVM chain for tests and local setups: ganache (npm) as a child process.
 *
 *   const chain = await startGanache();            // 127.0.0.1, a free port, chainId 1337
 *   chain.url, chain.accounts[0].privateKey
 *   await increaseTime(chain.url, 3600);          // an hour later, and a block mined at it
 *   await chain.stop();
 *
 * Why a child process and not ganache in-process: the chain is a separate program in production,
 * and the adapter must speak JSON-RPC over HTTP to it; a child also cannot share our event loop.
 * Ganache mines each transaction at once ("instamine"); a block's timestamp is the wall clock
 * plus whatever evm_increaseTime has added.
 *
 * No stray processes: `stop()` sends SIGTERM and waits for the exit (SIGKILL after a grace
 * period); every chain still running when this process exits is killed; and the child exits by
 * itself when its stdin closes, which happens however this process dies (even SIGKILL), because
 * the child holds the read end of a pipe only this process writes.
 *
 * Accounts: by default `accountCount` deterministic keys (SHA-256 of a fixed label and the index),
 * so a test run's addresses repeat; or the caller's own keys. Each starts with 1000 ether.
 *
 * This file runs only at the operator's or in tests, never in a block: it uses timers freely.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { privateKeyToAddress } from 'viem/accounts';
import type { Address, Hex } from 'viem';

export interface ChainAccount {
  address: Address;
  privateKey: Hex;
}

export interface GanacheOptions {
  /** Accounts to fund at genesis; default `accountCount` deterministic ones. */
  accounts?: { privateKey: Hex; balanceWei?: bigint }[];
  /** How many deterministic accounts when `accounts` is not given. */
  accountCount?: number;
  chainId?: number;
  /** A port to listen on; default a free one. */
  port?: number;
  /** How long ganache may take to answer its first JSON-RPC call. */
  startupTimeoutMs?: number;
}

export interface Ganache {
  /** The JSON-RPC endpoint, http://127.0.0.1:PORT. */
  url: string;
  chainId: number;
  accounts: ChainAccount[];
  pid: number;
  /** Stops the chain and waits until the process has exited; safe to call twice. */
  stop(): Promise<void>;
}

/** An operational fault: ganache did not start, or a JSON-RPC call failed. */
export class GanacheError extends Error {
  readonly code = 'evm_chain_unavailable';
}

const DEFAULT_CHAIN_ID = 1337;
const DEFAULT_ACCOUNT_COUNT = 10;
/** Ether per account: plenty of gas for any test. */
const ACCOUNT_BALANCE_WEI = 1000n * 10n ** 18n;
/** Loading ganache's bundle and its WebAssembly takes 1-2 s; a loaded CI machine takes longer. */
const STARTUP_TIMEOUT_MS = 30_000;
const READY_POLL_INTERVAL_MS = 50;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Attempts with a fresh free port: another process can take the port between probe and bind. */
const PORT_ATTEMPTS_MAX = 3;
/** How much of ganache's stderr to quote when it fails to start. */
const STDERR_TAIL_CHARS = 2_000;
/** The label deterministic account keys are derived from (see the header). */
const DETERMINISTIC_KEY_LABEL = 'coffer conversion ganache account';

/**
 * Preloaded into the child: exit when stdin ends, i.e. when the parent is gone (see the header).
 * Ganache itself never reads stdin. The pipe is unreferenced because ganache stops on SIGTERM by
 * closing its server and letting the event loop drain: a referenced stdin would keep it alive.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end', () => process.exit(0)); process.stdin.resume(); process.stdin.unref?.();",
)}`;

const require = createRequire(import.meta.url);
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: a signal is all there is time for.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** The deterministic test keys: index i is SHA-256 of the label and i. */
export function deterministicAccounts(count: number): ChainAccount[] {
  return Array.from({ length: count }, (_, index) => {
    const privateKey: Hex = `0x${createHash('sha256').update(`${DETERMINISTIC_KEY_LABEL} ${index}`).digest('hex')}`;
    return { address: privateKeyToAddress(privateKey), privateKey };
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One JSON-RPC call; throws GanacheError on an HTTP or JSON-RPC error. */
export async function rpcCall(
  url: string,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  if (!response.ok) throw new GanacheError(`${method}: HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new GanacheError(`${method}: ${body.error.message}`);
  return body.result;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOnce(
  port: number,
  chainId: number,
  accounts: { privateKey: Hex; balanceWei?: bigint }[],
  startupTimeoutMs: number,
): Promise<{ child: ChildProcess } | { error: string; portTaken: boolean }> {
  const cli = require.resolve('ganache/dist/node/cli.js');
  const args = [
    '--import',
    EXIT_WITH_PARENT,
    cli,
    '--server.host=127.0.0.1',
    `--server.port=${port}`,
    '--server.ws=false',
    `--chain.chainId=${chainId}`,
    '--logging.quiet',
    ...accounts.map(
      (a) => `--wallet.accounts=${a.privateKey},${a.balanceWei ?? ACCOUNT_BALANCE_WEI}`,
    ),
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });

  const url = `http://127.0.0.1:${port}`;
  const deadlineMs = performance.now() + startupTimeoutMs;
  while (performance.now() < deadlineMs) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return { error: stderr.trim(), portTaken: stderr.includes('EADDRINUSE') };
    }
    try {
      await rpcCall(url, 'eth_chainId');
      return { child };
    } catch {
      await sleep(READY_POLL_INTERVAL_MS); // not listening yet
    }
  }
  child.kill('SIGKILL');
  await waitForExit(child);
  return { error: `no answer within ${startupTimeoutMs} ms. ${stderr.trim()}`, portTaken: false };
}

/** Starts ganache as a child process and resolves once it answers JSON-RPC. */
export async function startGanache(options: GanacheOptions = {}): Promise<Ganache> {
  installExitHook();
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const given = options.accounts;
  const funded = given ?? deterministicAccounts(options.accountCount ?? DEFAULT_ACCOUNT_COUNT);
  const accounts = funded.map((a) => ({
    address: privateKeyToAddress(a.privateKey),
    privateKey: a.privateKey,
  }));

  let lastError = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS_MAX; attempt += 1) {
    const port = options.port ?? (await freePort());
    const started = await startOnce(
      port,
      chainId,
      funded,
      options.startupTimeoutMs ?? STARTUP_TIMEOUT_MS,
    );
    if ('child' in started) {
      const { child } = started;
      return {
        url: `http://127.0.0.1:${port}`,
        chainId,
        accounts,
        pid: child.pid ?? 0,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const exited = await Promise.race([
            waitForExit(child).then(() => true),
            // Unreferenced: a pending grace timer must not keep the test process alive.
            sleep(STOP_GRACE_MS, undefined, { ref: false }).then(() => false),
          ]);
          if (!exited) {
            child.kill('SIGKILL');
            await waitForExit(child);
          }
        },
      };
    }
    lastError = started.error;
    if (!started.portTaken || options.port !== undefined) break;
  }
  throw new GanacheError(`ganache did not start: ${lastError}`);
}

/** The latest block's timestamp, unix seconds. */
export async function latestBlockTimestamp(url: string): Promise<number> {
  const block = (await rpcCall(url, 'eth_getBlockByNumber', ['latest', false])) as {
    timestamp: string;
  };
  return Number(BigInt(block.timestamp));
}

/** Mines one empty block now (ganache's `evm_mine`). */
export async function mineBlock(url: string): Promise<void> {
  await rpcCall(url, 'evm_mine');
}

/**
 * Moves the chain's clock `seconds` forward and mines a block at the new time, so the move is
 * visible to contracts and to readers of the latest block at once. Returns that block's timestamp.
 */
export async function increaseTime(url: string, seconds: number): Promise<number> {
  await rpcCall(url, 'evm_increaseTime', [seconds]);
  await mineBlock(url);
  return latestBlockTimestamp(url);
}
