/*
 * The ganache harness itself: it answers JSON-RPC with the accounts it was given, moves its
 * clock on request, and leaves no process behind, whether stopped or orphaned by a parent that
 * was killed outright.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  deterministicAccounts,
  increaseTime,
  latestBlockTimestamp,
  rpcCall,
  startGanache,
  type Ganache,
} from './ganache.js';

/** How long an orphaned or stopped ganache may take to exit. */
const EXIT_WAIT_MS = 15_000;
const EXIT_POLL_MS = 100;

/** Whether `pid` is a live process (a zombie waiting for its reaper counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false; // exited between the two checks
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  for (let waitedMs = 0; waitedMs < EXIT_WAIT_MS; waitedMs += EXIT_POLL_MS) {
    if (!isRunning(pid)) return true;
    await sleep(EXIT_POLL_MS);
  }
  return !isRunning(pid);
}

describe('ganache child process', () => {
  let chain: Ganache;

  before(async () => {
    chain = await startGanache({ accountCount: 2, chainId: 31337 });
  });

  after(async () => {
    await chain?.stop();
  });

  it('answers JSON-RPC on 127.0.0.1 with its chain id and deterministic accounts', async () => {
    assert.match(chain.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(chain.chainId, 31337);
    assert.equal(await rpcCall(chain.url, 'eth_chainId'), '0x7a69');
    assert.deepEqual(chain.accounts, deterministicAccounts(2));
    const funded = (await rpcCall(chain.url, 'eth_accounts')) as string[];
    assert.deepEqual(
      funded.map((a) => a.toLowerCase()),
      chain.accounts.map((a) => a.address.toLowerCase()),
    );
  });

  it('moves its clock forward and mines a block at the new time', async () => {
    const before = await latestBlockTimestamp(chain.url);
    const after = await increaseTime(chain.url, 3_600);
    assert.ok(after >= before + 3_600, `${after} < ${before} + 3600`);
    assert.ok(after < before + 3_600 + 60, 'moved far more than asked');
  });

  it('stop() ends the process and may be called twice', async () => {
    const other = await startGanache({ accountCount: 1 });
    assert.ok(isRunning(other.pid));
    await other.stop();
    assert.equal(isRunning(other.pid), false);
    await other.stop();
  });

  it('exits by itself when the process that started it is killed with SIGKILL', async () => {
    const ganacheModule = fileURLToPath(new URL('./ganache.ts', import.meta.url));
    const script = `
      import { startGanache } from ${JSON.stringify(ganacheModule)};
      const chain = await startGanache({ accountCount: 1 });
      console.log(chain.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: parent.stdout });
    const firstLine = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) first`)));
    });
    lines.close();
    const ganachePid = Number(firstLine);
    assert.ok(ganachePid > 0 && isRunning(ganachePid), 'the parent did not start ganache');

    parent.kill('SIGKILL');
    assert.equal(
      await waitUntilGone(ganachePid),
      true,
      `ganache ${ganachePid} outlived its parent`,
    );
  });
});
