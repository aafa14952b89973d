import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemoryHashLockLedger, MemoryProviderLedger, ModelClock } from './memory-ledger.js';

const preimage = '11'.repeat(32);
const condition = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');

describe('memory hash-lock ledger (coffer flavour)', () => {
  it('holds the payer funds, releases by preimage up to and including the expiry height', async () => {
    const clock = new ModelClock(10_000);
    const ledger = new MemoryHashLockLedger('coffer', 'engine', clock, 1_000);
    ledger.mint('user', 'USD', 100n);
    assert.equal(await ledger.height(), 10);
    const id = ledger.userLock({
      payer: 'user',
      payee: 'engine',
      asset: 'USD',
      amount: 60n,
      condition,
      expiry: 12,
    });
    assert.equal(ledger.balanceOf('user', 'USD'), 40n);
    assert.equal(ledger.supply('USD'), 100n);
    const open = await ledger.lockState(id);
    assert.equal(open.state, 'open');
    assert.equal(await ledger.msLeftAtLeast(12), 1_000);
    clock.advance(2_999); // height 12: the expiry height itself
    await assert.rejects(ledger.claim(id, '22'.repeat(32)), { code: 'wrong_preimage' });
    const { txId } = await ledger.claim(id, preimage);
    assert.deepEqual(await ledger.lockState(id), { state: 'released', preimage, txId });
    assert.deepEqual(await ledger.claim(id, preimage), { txId });
    assert.equal(await ledger.balance('USD'), 60n);
    assert.equal(ledger.supply('USD'), 100n);
  });

  it('refunds by itself past the expiry height; a release then fails', async () => {
    const clock = new ModelClock(0);
    const ledger = new MemoryHashLockLedger('coffer', 'engine', clock, 1_000);
    ledger.mint('user', 'USD', 5n);
    const id = ledger.userLock({
      payer: 'user',
      payee: 'engine',
      asset: 'USD',
      amount: 5n,
      condition,
      expiry: 3,
    });
    clock.advance(4_000);
    assert.deepEqual(await ledger.lockState(id), { state: 'refunded' });
    assert.equal(ledger.balanceOf('user', 'USD'), 5n);
    assert.throws(() => ledger.release(id, preimage), { code: 'lock_not_open' });
    assert.deepEqual(await ledger.refund(id), {});
    assert.deepEqual(await ledger.lockState('nope'), { state: 'missing' });
  });

  it('locks once per key even when the answer was lost, captures and voids plain holds, pays', async () => {
    const clock = new ModelClock(0);
    const ledger = new MemoryHashLockLedger('coffer', 'engine', clock, 1_000);
    ledger.mint('engine', 'USD', 100n);
    ledger.failAfterCommit = true;
    const request = {
      key: 'f1',
      asset: 'USD',
      amount: 30n,
      recipient: 'bob',
      condition,
      expiry: await ledger.expiryWithin(10_000),
    };
    assert.equal(request.expiry, 9);
    await assert.rejects(ledger.lock(request), /connection lost/);
    const receipt = await ledger.lock(request);
    assert.deepEqual(await ledger.lock(request), receipt);
    assert.equal(await ledger.balance('USD'), 70n);
    ledger.release(receipt.lockId, preimage);
    assert.equal(ledger.balanceOf('bob', 'USD'), 30n);

    ledger.mint('user', 'USD', 10n);
    const hold = (amount: bigint) =>
      ledger.userLock({
        payer: 'user',
        payee: 'engine',
        asset: 'USD',
        amount,
        condition: '',
        expiry: 50,
      });
    const a = hold(4n);
    const b = hold(6n);
    const captured = await ledger.capture(a);
    assert.deepEqual(await ledger.lockState(a), { state: 'captured', txId: captured.txId });
    const voided = await ledger.cancel(b);
    assert.deepEqual(await ledger.lockState(b), { state: 'refunded', txId: voided.txId });
    assert.equal(ledger.balanceOf('user', 'USD'), 6n);
    await assert.rejects(ledger.capture(b), { code: 'hold_not_open' });
    const paid = await ledger.pay({ key: 'p', asset: 'USD', amount: 5n, recipient: 'carol' });
    assert.deepEqual(
      await ledger.pay({ key: 'p', asset: 'USD', amount: 5n, recipient: 'carol' }),
      paid,
    );
    assert.equal(ledger.balanceOf('carol', 'USD'), 5n);
    assert.equal(ledger.supply('USD'), 110n);
  });
});

describe('memory hash-lock ledger (evm flavour)', () => {
  it('releases up to and including the expiry second, then shows expired until a refund call', async () => {
    const clock = new ModelClock(100_000);
    const ledger = new MemoryHashLockLedger('evm', '0xengine', clock);
    ledger.mint('0xuser', 'USDC', 9n);
    const expiry = await ledger.expiryWithin(5_500);
    assert.equal(expiry, 104);
    assert.equal(await ledger.msLeftAtLeast(expiry), 4_000);
    const id = ledger.userLock({
      payer: '0xuser',
      payee: '0xengine',
      asset: 'USDC',
      amount: 9n,
      condition,
      expiry,
    });
    clock.advance(4_999); // 104.999 s: still the expiry second
    assert.equal((await ledger.lockState(id)).state, 'open');
    await assert.rejects(ledger.refund(id), { code: 'evm_refund_failed' });
    clock.advance(1);
    assert.deepEqual(await ledger.lockState(id), { state: 'expired' });
    assert.throws(() => ledger.release(id, preimage), { code: 'lock_expired' });
    assert.equal(ledger.supply('USDC'), 9n);
    const { txId } = await ledger.refund(id);
    assert.ok(txId);
    assert.deepEqual(await ledger.lockState(id), { state: 'refunded', txId });
    assert.deepEqual(await ledger.refund(id), { txId });
    assert.equal(ledger.balanceOf('0xuser', 'USDC'), 9n);
    await assert.rejects(ledger.pay({ key: 'x', asset: 'USDC', amount: 1n, recipient: '0xa' }), {
      code: 'route_not_supported',
    });
  });
});

describe('memory provider ledger', () => {
  it('takes deposits, pays out once per key, pending until completed or failed', async () => {
    const provider = new MemoryProviderLedger('engine-acct');
    provider.mint('alice', 'EUR', 50n);
    const deposit = provider.deposit('alice', 'EUR', 20n, 'ref');
    assert.equal(deposit.amount, 20n);
    assert.equal(await provider.balance('EUR'), 20n);
    const first = await provider.payout({ key: 'k', asset: 'EUR', amount: 15n, recipient: 'bob' });
    assert.equal(first.state, 'pending');
    assert.deepEqual(
      await provider.payout({ key: 'k', asset: 'EUR', amount: 15n, recipient: 'bob' }),
      first,
    );
    assert.equal(await provider.balance('EUR'), 5n);
    assert.equal(provider.supply('EUR'), 50n);
    provider.complete(first.payoutId);
    assert.equal(provider.balanceOf('bob', 'EUR'), 15n);
    const second = await provider.payout({ key: 'k2', asset: 'EUR', amount: 5n, recipient: 'c' });
    provider.fail(second.payoutId, 'closed');
    assert.deepEqual(await provider.payoutState(second.payoutId), {
      state: 'failed',
      payoutId: second.payoutId,
      reason: 'closed',
    });
    assert.equal(await provider.balance('EUR'), 5n);
    const short = await provider.payout({ key: 'k3', asset: 'EUR', amount: 6n, recipient: 'c' });
    assert.equal(short.state, 'failed');
    assert.equal(provider.supply('EUR'), 50n);
  });
});
