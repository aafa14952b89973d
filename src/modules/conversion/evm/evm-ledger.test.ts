/*
 * EvmLedger, the engine's HashLockLedger for an EVM chain, against a real ganache child process
 * with the contracts compiled from source. One chain for the file; every test makes its own
 * locks with its own keys, and tests that move the chain's clock count from the latest block.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Address, Hex } from 'viem';
import type { LockRequest } from '../engine/ledgers.js';
import { deployContracts, type Deployment } from './deploy.js';
import { createEvmLedger, engineLockId, EvmLedger } from './evm-ledger.js';
import { increaseTime, latestBlockTimestamp, startGanache, type Ganache } from './ganache.js';
import { connectHtlc, lockFunds, tokenBalance, type HtlcConnection } from './htlc-client.js';

const HOUR_MS = 3_600_000;
const POLL_MS = 20;
const MINTED = 1_000_000_000n; // 1,000 USDC each to the engine and the user

function secret(): { preimage: string; condition: string } {
  const bytes = randomBytes(32);
  return {
    preimage: bytes.toString('hex'),
    condition: createHash('sha256').update(bytes).digest('hex'),
  };
}

let keyCounter = 0;
function freshKey(label: string): string {
  keyCounter += 1;
  return `${label}-${keyCounter}-${randomBytes(4).toString('hex')}`;
}

describe('EvmLedger on ganache', () => {
  let chain: Ganache;
  let deployment: Deployment;
  let ledger: EvmLedger;
  let user: HtlcConnection;
  let engineAddress: Address;
  let userAddress: Address;

  before(async () => {
    chain = await startGanache({ accountCount: 3 });
    const [deployer, engine, u] = chain.accounts;
    engineAddress = engine!.address;
    userAddress = u!.address;
    deployment = await deployContracts({
      rpcUrl: chain.url,
      privateKey: deployer!.privateKey,
      mint: [
        { to: engineAddress, amount: MINTED },
        { to: userAddress, amount: MINTED },
      ],
    });
    ledger = await createEvmLedger({
      rpcUrl: chain.url,
      privateKey: engine!.privateKey,
      htlcAddress: deployment.htlc,
      tokens: { USDC: deployment.token },
      fromBlock: deployment.htlcBlock,
      pollingIntervalMs: POLL_MS,
    });
    user = await connectHtlc({
      rpcUrl: chain.url,
      htlc: deployment.htlc,
      privateKey: u!.privateKey,
      pollingIntervalMs: POLL_MS,
    });
  });

  after(async () => {
    await ledger?.close();
    await chain?.stop();
  });

  async function engineRequest(
    amount: bigint,
    expiryMs = HOUR_MS,
  ): Promise<LockRequest & { preimage: string }> {
    const { preimage, condition } = secret();
    return {
      key: freshKey('forward'),
      asset: 'USDC',
      amount,
      recipient: userAddress,
      condition,
      expiry: await ledger.expiryWithin(expiryMs),
      preimage,
    };
  }

  /** The user locks `amount` for the engine under a fresh id, as a user starting a forward does. */
  async function userLocksForEngine(amount: bigint, timelockSeconds = 3_600) {
    const s = secret();
    const id: Hex = `0x${randomBytes(32).toString('hex')}`;
    const timelock = (await latestBlockTimestamp(chain.url)) + timelockSeconds;
    await lockFunds(user, {
      token: deployment.token,
      id,
      recipient: engineAddress,
      amount,
      condition: s.condition,
      timelock,
    });
    return { ...s, id, timelock };
  }

  it('is an evm ledger for the engine account, with its token balance', async () => {
    assert.equal(ledger.kind, 'evm');
    assert.equal(ledger.engineAddress, engineAddress);
    assert.equal(
      await ledger.balance('USDC'),
      await tokenBalance(user, deployment.token, engineAddress),
    );
    await assert.rejects(ledger.balance('EUR'), { code: 'evm_asset_unknown' });
  });

  it('locks once per key: a repeated call, even a concurrent one, finds the first lock', async () => {
    const amount = 3_000_000n;
    const balanceBefore = await ledger.balance('USDC');
    const request = await engineRequest(amount);
    const [first, concurrent] = await Promise.all([ledger.lock(request), ledger.lock(request)]);
    const again = await ledger.lock(request);
    assert.deepEqual(concurrent, first);
    assert.deepEqual(again, first);
    assert.equal(first.lockId, engineLockId(engineAddress, request.key));
    assert.equal(await ledger.balance('USDC'), balanceBefore - amount);
    assert.deepEqual(await ledger.lockState(first.lockId), {
      state: 'open',
      asset: 'USDC',
      amount,
      payer: engineAddress,
      payee: userAddress,
      condition: request.condition,
      expiry: request.expiry,
    });
    // The same key with other terms is a conflict, not a second lock.
    await assert.rejects(ledger.lock({ ...request, amount: amount + 1n }), {
      code: 'evm_lock_conflict',
    });
    assert.equal(await ledger.balance('USDC'), balanceBefore - amount);
  });

  it('makes concurrent locks with distinct keys one after another, all of them', async () => {
    const balanceBefore = await ledger.balance('USDC');
    const requests = await Promise.all([1n, 2n, 3n, 4n, 5n].map((n) => engineRequest(n * 1_000n)));
    const receipts = await Promise.all(requests.map((r) => ledger.lock(r)));
    assert.equal(new Set(receipts.map((r) => r.lockId)).size, requests.length);
    assert.equal(new Set(receipts.map((r) => r.txId)).size, requests.length);
    for (const [i, receipt] of receipts.entries()) {
      const state = await ledger.lockState(receipt.lockId);
      assert.equal(state.state, 'open');
      assert.equal(state.state === 'open' && state.amount, requests[i]!.amount);
    }
    assert.equal(await ledger.balance('USDC'), balanceBefore - 15_000n);
  });

  it('reports a refused lock as evm_lock_failed with the reason, and sends nothing for bad input', async () => {
    const balance = await ledger.balance('USDC');
    await assert.rejects(ledger.lock(await engineRequest(balance + 1n)), {
      code: 'evm_lock_failed',
      reason: 'ERC20InsufficientBalance',
    });
    const past = {
      ...(await engineRequest(1n)),
      expiry: (await latestBlockTimestamp(chain.url)) - 1,
    };
    await assert.rejects(ledger.lock(past), {
      code: 'evm_lock_failed',
      reason: 'TimelockNotInFuture',
    });
    await assert.rejects(ledger.lock({ ...(await engineRequest(1n)), asset: 'EUR' }), {
      code: 'evm_asset_unknown',
    });
    await assert.rejects(ledger.lock({ ...(await engineRequest(1n)), condition: 'xyz' }), {
      code: 'evm_invalid_input',
    });
    assert.equal(await ledger.balance('USDC'), balance);
  });

  it('shows a lock that was never made as missing', async () => {
    assert.deepEqual(await ledger.lockState(engineLockId(engineAddress, freshKey('never'))), {
      state: 'missing',
    });
    await assert.rejects(ledger.lockState('0x1234'), { code: 'evm_invalid_input' });
  });

  it("claims a user's lock with the preimage: released, with the preimage and the tx; claiming again answers the same tx", async () => {
    const amount = 4_000_000n;
    const { id, preimage, condition, timelock } = await userLocksForEngine(amount);
    assert.deepEqual(await ledger.lockState(id), {
      state: 'open',
      asset: 'USDC',
      amount,
      payer: userAddress,
      payee: engineAddress,
      condition,
      expiry: timelock,
    });
    const balanceBefore = await ledger.balance('USDC');
    const claimed = await ledger.claim(id, preimage);
    assert.equal(await ledger.balance('USDC'), balanceBefore + amount);
    assert.deepEqual(await ledger.lockState(id), {
      state: 'released',
      preimage,
      txId: claimed.txId,
    });
    assert.deepEqual(await ledger.claim(id, preimage), claimed);
    assert.equal(await ledger.balance('USDC'), balanceBefore + amount);
    await assert.rejects(ledger.claim(id, 'ab'.repeat(300)), { code: 'evm_invalid_input' });
  });

  it('refuses a claim with the wrong preimage', async () => {
    const { id } = await userLocksForEngine(1_000n);
    await assert.rejects(ledger.claim(id, secret().preimage), {
      code: 'evm_withdraw_failed',
      reason: 'PreimageMismatch',
    });
    assert.equal((await ledger.lockState(id)).state, 'open');
  });

  it('shows an expired lock as expired, refunds it once, then shows it refunded with the tx', async () => {
    const amount = 2_500_000n;
    const request = await engineRequest(amount, 60_000);
    const balanceBefore = await ledger.balance('USDC');
    const { lockId } = await ledger.lock(request);
    await assert.rejects(ledger.refund(lockId), {
      code: 'evm_refund_failed',
      reason: 'LockNotExpired',
    });

    // Up to and including its expiry the lock is open; a block after it makes it expired.
    const now = await latestBlockTimestamp(chain.url);
    await increaseTime(chain.url, request.expiry - now);
    if ((await latestBlockTimestamp(chain.url)) === request.expiry) {
      assert.equal((await ledger.lockState(lockId)).state, 'open');
    }
    await increaseTime(chain.url, 2);
    assert.deepEqual(await ledger.lockState(lockId), { state: 'expired' });
    assert.equal(await ledger.msLeftAtLeast(request.expiry), 0);
    await assert.rejects(ledger.claim(lockId, request.preimage), {
      code: 'evm_withdraw_failed',
      reason: 'LockExpired',
    });

    const refunded = await ledger.refund(lockId);
    assert.ok(refunded.txId);
    assert.equal(await ledger.balance('USDC'), balanceBefore);
    assert.deepEqual(await ledger.lockState(lockId), { state: 'refunded', txId: refunded.txId });
    assert.deepEqual(await ledger.refund(lockId), refunded);
    assert.equal(await ledger.balance('USDC'), balanceBefore);
  });

  it('expiryWithin stays within the budget and msLeftAtLeast never overstates it', async () => {
    const budgetMs = 60_000;
    const latest = await latestBlockTimestamp(chain.url);
    const expiry = await ledger.expiryWithin(budgetMs);
    // Usable until chain time expiry + 1 s, which must come no later than latest + budget.
    assert.ok(expiry + 1 <= latest + budgetMs / 1_000, `${expiry} is past the budget`);
    assert.ok(expiry >= latest + budgetMs / 1_000 - 2, `${expiry} wastes the budget`);
    const left = await ledger.msLeftAtLeast(expiry);
    assert.ok(left < budgetMs, `${left} ms left of a ${budgetMs} ms budget`);
    // Default allowance: 15 s of drift and 1 s of timestamp rounding, plus a loaded machine.
    assert.ok(left > budgetMs - 15_000 - 1_000 - 5_000, `only ${left} ms left`);
    assert.equal(await ledger.msLeftAtLeast(latest - 10), 0);
    await assert.rejects(ledger.expiryWithin(-1), { code: 'evm_invalid_input' });
  });

  it('msLeftAtLeast counts the wall time that passed since the latest block was read', async () => {
    const [, engine] = chain.accounts;
    let wallMs = 1_000_000_000_000;
    const timed = await createEvmLedger({
      rpcUrl: chain.url,
      privateKey: engine!.privateKey,
      htlcAddress: deployment.htlc,
      tokens: { USDC: deployment.token },
      clock: () => wallMs,
      clockDriftMs: 0,
    });
    try {
      const latest = await latestBlockTimestamp(chain.url);
      // Chain time is at least the latest block's second, and under one second past it.
      assert.equal(await timed.msLeftAtLeast(latest + 100), 100_000);
      // Thirty seconds of wall time later and no new block: the chain has moved on all the same.
      wallMs += 30_000;
      assert.equal(await timed.msLeftAtLeast(latest + 100), 70_000);
      // The expiry counts from the latest block only: never later than asked.
      assert.equal(await timed.expiryWithin(100_000), latest + 99);
    } finally {
      await timed.close();
    }
    await assert.rejects(timed.balance('USDC'), { code: 'evm_ledger_closed' });
  });
});
