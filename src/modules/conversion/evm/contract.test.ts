/*
 * HashTimeLock and StableToken on a real chain: ganache as a child process, the contracts
 * compiled from source with solc. One chain for the whole file; tests that move the chain's clock
 * work with timelocks relative to the latest block, so their order does not matter.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { erc20Abi, parseAbi, type Abi, type Address, type Hex } from 'viem';
import { hashTimeLockAbi, passedThroughErrorNames, stableTokenAbi } from './abi.js';
import { compileContracts } from './compile.js';
import { deployContracts, type Deployment } from './deploy.js';
import { increaseTime, latestBlockTimestamp, startGanache, type Ganache } from './ganache.js';
import {
  connectHtlc,
  findLockEventTx,
  findWithdrawnTx,
  HtlcError,
  lockFunds,
  readLock,
  refundLock,
  releaseLock,
  revertReason,
  tokenBalance,
  type HtlcConnection,
} from './htlc-client.js';

const HOUR_SECONDS = 3_600;
const POLL_MS = 20;

function secret(): { preimage: string; condition: string } {
  const bytes = randomBytes(32);
  return {
    preimage: bytes.toString('hex'),
    condition: createHash('sha256').update(bytes).digest('hex'),
  };
}

function freshId(): Hex {
  return `0x${randomBytes(32).toString('hex')}`;
}

/**
 * An ABI entry with what only solc writes taken out (internalType, indexed: false,
 * anonymous: false, name: "") and its keys sorted, so solc's and viem's parseAbi output compare equal.
 */
function normaliseAbiItem(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseAbiItem);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value)
    .filter(
      ([key, v]) =>
        key !== 'internalType' &&
        !((key === 'indexed' || key === 'anonymous') && v === false) &&
        !(key === 'name' && v === ''),
    )
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, v]) => [key, normaliseAbiItem(v)]);
  return Object.fromEntries(entries);
}

async function assertReverts(
  call: Promise<unknown>,
  errorName: string,
  abi: Abi = hashTimeLockAbi,
): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.equal(revertReason(error, abi), errorName);
    return true;
  });
}

describe('HashTimeLock on ganache', () => {
  let chain: Ganache;
  let deployment: Deployment;
  let alice: HtlcConnection; // pays
  let bob: HtlcConnection; // receives
  let carol: HtlcConnection; // a bystander who releases and refunds for others
  let aliceAddress: Address;
  let bobAddress: Address;
  const minted = 1_000_000_000n; // 1,000 USDC

  before(async () => {
    chain = await startGanache({ accountCount: 4 });
    const [deployer, a, b, c] = chain.accounts;
    aliceAddress = a!.address;
    bobAddress = b!.address;
    deployment = await deployContracts({
      rpcUrl: chain.url,
      privateKey: deployer!.privateKey,
      mint: [{ to: aliceAddress, amount: minted }],
    });
    const connect = (privateKey: Hex) =>
      connectHtlc({
        rpcUrl: chain.url,
        htlc: deployment.htlc,
        privateKey,
        pollingIntervalMs: POLL_MS,
      });
    [alice, bob, carol] = await Promise.all([
      connect(a!.privateKey),
      connect(b!.privateKey),
      connect(c!.privateKey),
    ]);
  });

  after(async () => {
    await chain?.stop();
  });

  /** Locks `amount` from alice to bob under a fresh id and secret, expiring in an hour. */
  async function aliceLocks(amount: bigint, timelockSeconds = HOUR_SECONDS) {
    const s = secret();
    const id = freshId();
    const timelock = (await latestBlockTimestamp(chain.url)) + timelockSeconds;
    const result = await lockFunds(alice, {
      token: deployment.token,
      id,
      recipient: bobAddress,
      amount,
      condition: s.condition,
      timelock,
    });
    return { ...s, id, timelock, result };
  }

  /** Raw contract writes, without the client's checks, to see the contract itself refuse. */
  function rawWithdraw(who: HtlcConnection, id: Hex, preimage: Hex) {
    return who.walletClient!.writeContract({
      address: deployment.htlc,
      abi: hashTimeLockAbi,
      functionName: 'withdraw',
      args: [id, preimage],
    });
  }

  function rawRefund(who: HtlcConnection, id: Hex) {
    return who.walletClient!.writeContract({
      address: deployment.htlc,
      abi: hashTimeLockAbi,
      functionName: 'refund',
      args: [id],
    });
  }

  it('compiles with solc and the hand-written ABI matches the compiled one', async () => {
    const result = await compileContracts();
    const signature = (item: Abi[number]) => JSON.stringify(normaliseAbiItem(item));
    const compiled = new Set(result.contracts.HashTimeLock.abi.map(signature));
    const written = new Set(
      hashTimeLockAbi
        .filter((item) => !(passedThroughErrorNames as readonly string[]).includes(item.name))
        .map(signature),
    );
    assert.deepEqual(written, compiled);
    assert.match(result.solcVersion, /^0\.8\.37/);
    // The deployment above compiled or read the cache, so this call reads the cache.
    assert.equal(result.cached, true);
  });

  it('compiles from nothing into an empty cache directory, then reads the cache', async (t) => {
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'coffer-evm-compile-'));
    try {
      const cold = await compileContracts({ cacheDir });
      assert.equal(cold.cached, false);
      assert.equal(path.dirname(cold.cacheFile), cacheDir);
      const warm = await compileContracts({ cacheDir });
      assert.equal(warm.cached, true);
      assert.deepEqual(warm.contracts, cold.contracts);
      t.diagnostic(
        `solc ${cold.solcVersion}: cold compile ${Math.round(cold.elapsedMs)} ms, cached ${warm.elapsedMs.toFixed(1)} ms`,
      );
      // A torn cache file is ignored and rewritten, never trusted.
      await writeFile(cold.cacheFile, '{"HashTimeLock":');
      const repaired = await compileContracts({ cacheDir });
      assert.equal(repaired.cached, false);
      assert.deepEqual(repaired.contracts, cold.contracts);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('StableToken has 6 decimals, its name and symbol, and only its owner mints', async () => {
    const read = <T extends 'decimals' | 'name' | 'symbol'>(functionName: T) =>
      alice.publicClient.readContract({ address: deployment.token, abi: erc20Abi, functionName });
    assert.equal(await read('decimals'), 6);
    assert.equal(await read('name'), 'Test USD Coin');
    assert.equal(await read('symbol'), 'USDC');
    await assertReverts(
      alice.walletClient!.writeContract({
        address: deployment.token,
        abi: stableTokenAbi,
        functionName: 'mint',
        args: [aliceAddress, 1n],
      }),
      'OwnableUnauthorizedAccount',
      ownableErrorAbi,
    );
  });

  it('lock then withdraw pays the recipient and reveals the preimage', async () => {
    const amount = 5_000_000n;
    const aliceBefore = await tokenBalance(alice, deployment.token, aliceAddress);
    const bobBefore = await tokenBalance(alice, deployment.token, bobAddress);
    const { id, preimage, condition, timelock, result } = await aliceLocks(amount);
    assert.equal(result.created, true);
    assert.equal(await tokenBalance(alice, deployment.token, aliceAddress), aliceBefore - amount);
    assert.equal(await tokenBalance(alice, deployment.token, deployment.htlc), amount);
    assert.deepEqual(await readLock(alice, id), {
      id,
      state: 'open',
      token: deployment.token,
      sender: aliceAddress,
      recipient: bobAddress,
      amount,
      condition,
      timelock,
    });

    // A bystander releases it: the tokens go to bob, not to the caller.
    const released = await releaseLock(carol, { id, preimage });
    assert.equal(released.created, true);
    assert.equal(await tokenBalance(alice, deployment.token, bobAddress), bobBefore + amount);
    const lock = await readLock(bob, id);
    assert.equal(lock?.state, 'withdrawn');
    assert.equal(lock.preimage, preimage);
    assert.equal(await findWithdrawnTx(bob, id), released.txHash);
    assert.equal(await findLockEventTx(bob, 'Locked', id), result.txHash);
  });

  it('refuses a wrong preimage, and one longer than Coffer accepts', async () => {
    const { id } = await aliceLocks(1_000n);
    const wrong = randomBytes(32).toString('hex');
    await assertReverts(rawWithdraw(carol, id, `0x${wrong}`), 'PreimageMismatch');
    await assert.rejects(releaseLock(carol, { id, preimage: wrong }), (error: unknown) => {
      assert.ok(error instanceof HtlcError);
      assert.equal(error.code, 'evm_withdraw_failed');
      assert.equal(error.reason, 'PreimageMismatch');
      return true;
    });
    const tooLong: Hex = `0x${'ab'.repeat(257)}`;
    await assertReverts(rawWithdraw(carol, id, tooLong), 'PreimageLengthInvalid');
    await assertReverts(rawWithdraw(carol, id, '0x'), 'PreimageLengthInvalid');
    assert.equal((await readLock(alice, id))?.state, 'open');
  });

  it('refuses a refund before expiry, refunds the sender after it, and only once', async () => {
    const amount = 7_000n;
    const { id, preimage, timelock } = await aliceLocks(amount, 60);
    await assertReverts(rawRefund(carol, id), 'LockNotExpired');
    await assert.rejects(refundLock(carol, { id }), {
      code: 'evm_refund_failed',
      reason: 'LockNotExpired',
    });

    // At the timelock itself the lock is still usable: a refund needs a block after it.
    const now = await latestBlockTimestamp(chain.url);
    await increaseTime(chain.url, timelock - now);
    assert.ok((await latestBlockTimestamp(chain.url)) >= timelock);
    if ((await latestBlockTimestamp(chain.url)) === timelock) {
      await assertReverts(rawRefund(carol, id), 'LockNotExpired');
    }
    await increaseTime(chain.url, 2);

    const aliceBefore = await tokenBalance(alice, deployment.token, aliceAddress);
    const refunded = await refundLock(carol, { id });
    assert.equal(refunded.created, true);
    assert.equal(await tokenBalance(alice, deployment.token, aliceAddress), aliceBefore + amount);
    assert.equal((await readLock(alice, id))?.state, 'refunded');

    // Again: the contract refuses; the client answers with the refunding transaction.
    await assertReverts(rawRefund(carol, id), 'LockNotOpen');
    assert.deepEqual(await refundLock(carol, { id }), { txHash: refunded.txHash, created: false });
    // And the preimage no longer releases it.
    await assertReverts(rawWithdraw(carol, id, `0x${preimage}`), 'LockNotOpen');
  });

  it('refuses a withdrawal after expiry', async () => {
    const { id, preimage } = await aliceLocks(1_000n, 30);
    await increaseTime(chain.url, 31);
    await assertReverts(rawWithdraw(carol, id, `0x${preimage}`), 'LockExpired');
  });

  it('refuses a second withdrawal and a refund of a withdrawn lock', async () => {
    const { id, preimage } = await aliceLocks(2_000n, 30);
    const first = await releaseLock(bob, { id, preimage });
    await assertReverts(rawWithdraw(carol, id, `0x${preimage}`), 'LockNotOpen');
    assert.deepEqual(await releaseLock(carol, { id, preimage }), {
      txHash: first.txHash,
      created: false,
    });
    await increaseTime(chain.url, 31);
    await assertReverts(rawRefund(carol, id), 'LockNotOpen');
    await assert.rejects(refundLock(carol, { id }), { code: 'evm_refund_failed' });
  });

  it('refuses a taken id, a zero amount, a timelock not in the future and no approval', async () => {
    const { id, condition, timelock } = await aliceLocks(1_000n);
    const terms = {
      token: deployment.token,
      id,
      recipient: bobAddress,
      amount: 1_000n,
      condition,
      timelock,
    };
    // The same terms again: the client finds the lock and sends nothing.
    const again = await lockFunds(alice, terms);
    assert.equal(again.created, false);
    // Other terms under the taken id: a conflict, found before sending.
    await assert.rejects(lockFunds(alice, { ...terms, amount: 999n }), {
      code: 'evm_lock_conflict',
    });

    const lockCall = (overrides: { id?: Hex; amount?: bigint; timelock?: bigint }) =>
      alice.walletClient!.writeContract({
        address: deployment.htlc,
        abi: hashTimeLockAbi,
        functionName: 'lock',
        args: [
          overrides.id ?? freshId(),
          deployment.token,
          bobAddress,
          overrides.amount ?? 1n,
          `0x${condition}`,
          overrides.timelock ?? BigInt(timelock),
        ],
      });
    await assertReverts(lockCall({ id }), 'LockExists');
    await assertReverts(lockCall({ amount: 0n }), 'AmountZero');
    const now = BigInt(await latestBlockTimestamp(chain.url));
    await assertReverts(lockCall({ timelock: now - 1n }), 'TimelockNotInFuture');
    // Bob holds no tokens and approved nothing: the token's own error comes through.
    await assertReverts(
      bob.walletClient!.writeContract({
        address: deployment.htlc,
        abi: hashTimeLockAbi,
        functionName: 'lock',
        args: [freshId(), deployment.token, aliceAddress, 1n, `0x${condition}`, BigInt(timelock)],
      }),
      'ERC20InsufficientAllowance',
    );
  });

  it('checks its inputs before sending anything', async () => {
    const { condition } = secret();
    const timelock = (await latestBlockTimestamp(chain.url)) + HOUR_SECONDS;
    const base = {
      token: deployment.token,
      id: freshId(),
      recipient: bobAddress,
      amount: 1n,
      condition,
      timelock,
    };
    await assert.rejects(lockFunds(alice, { ...base, amount: 0n }), { code: 'evm_invalid_input' });
    await assert.rejects(lockFunds(alice, { ...base, condition: 'abc' }), {
      code: 'evm_invalid_input',
    });
    await assert.rejects(lockFunds(alice, { ...base, id: '0x12' }), { code: 'evm_invalid_input' });
    await assert.rejects(lockFunds(alice, { ...base, recipient: '0x1234' }), {
      code: 'evm_invalid_input',
    });
    await assert.rejects(releaseLock(bob, { id: base.id, preimage: '' }), {
      code: 'evm_invalid_input',
    });
    await assert.rejects(releaseLock(bob, { id: base.id, preimage: 'ab' }), {
      code: 'evm_lock_not_found',
    });
    const readOnly = await connectHtlc({ rpcUrl: chain.url, htlc: deployment.htlc });
    await assert.rejects(lockFunds(readOnly, base), { code: 'evm_signer_required' });
  });
});

/** OpenZeppelin Ownable's error, so the refusal of a mint by a non-owner can be named. */
const ownableErrorAbi = parseAbi(['error OwnableUnauthorizedAccount(address account)']);
