import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { sha256Hex } from '../../../crypto/index.js';
import { generateKey, txs, type SigningKey } from '../../../sdk/index.js';
import { startTestNode, type TestNode } from '../../../../test/support/test-node.js';
import { CofferLedger, LedgerError, type TxJournal } from './coffer-ledger.js';
import { EngineStore } from './store.js';

/*
 * The Coffer adapter against a real node: hash-locked holds made, released, claimed and expired,
 * each action signed once however often it is asked for, and a tx journaled but never sent (the
 * engine died between the two) sent by `recover` before anything new.
 */

let t: TestNode;
let store: EngineStore;
let dir: string;
const engineKey = generateKey();
const user = generateKey();
const recipient = generateKey();

function ledger(journal: TxJournal = store, key: SigningKey = engineKey): CofferLedger {
  return new CofferLedger({
    ecosystem: 'chain-a',
    url: t.url,
    key,
    blockMsMin: 5,
    blockMsMax: 1_000,
    journal,
  });
}

async function balance(address: string): Promise<bigint> {
  const account = await t.client.getAccount(address);
  return BigInt(account.balances.find((b) => b.asset === 'USD')?.balance ?? '0');
}

/** Cuts blocks with small transfers until the chain is at `height` at least. */
async function advanceTo(height: number): Promise<void> {
  while ((await t.client.health()).height < height) {
    await t.client.send(t.dev, txs.transfer({ to: recipient.address, asset: 'USD', amount: '1' }), {
      wait: 'commit',
    });
  }
}

function secret(): { preimage: string; condition: string } {
  const preimage = randomBytes(32).toString('hex');
  return { preimage, condition: sha256Hex(Buffer.from(preimage, 'hex')) };
}

before(async () => {
  t = await startTestNode('conversion-coffer');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bridge-'));
  store = new EngineStore(dir);
  for (const to of [engineKey.address, user.address]) {
    await t.client.send(t.dev, txs.transfer({ to, asset: 'USD', amount: '100000' }), {
      wait: 'commit',
    });
  }
});

after(async () => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  await t.close();
});

describe('CofferLedger', () => {
  it('locks once per key, and the recipient release shows the preimage and its tx', async () => {
    const coffer = ledger();
    const { preimage, condition } = secret();
    const expiry = (await coffer.height()) + 50;
    const request = {
      key: 'f1',
      asset: 'USD',
      amount: 700n,
      recipient: recipient.address,
      condition,
      expiry,
    };
    const before0 = await balance(engineKey.address);
    const [first, second] = await Promise.all([coffer.lock(request), coffer.lock(request)]);
    assert.deepEqual(first, second, 'one key, one lock');
    assert.equal(await balance(engineKey.address), before0 - 700n, 'the amount moved once');
    const open = await coffer.lockState(first.lockId);
    assert.deepEqual(open, {
      state: 'open',
      asset: 'USD',
      amount: 700n,
      payer: engineKey.address,
      payee: recipient.address,
      condition,
      expiry,
    });
    // The recipient holds nothing: a release costs nothing (the chain charges no fees).
    const released = await t.client.send(
      recipient,
      txs.releaseHold({ holdId: first.lockId, preimage }),
      { wait: 'commit' },
    );
    assert.deepEqual(await coffer.lockState(first.lockId), {
      state: 'released',
      preimage,
      txId: released.hash,
    });
  });

  it('claims a user lock for the engine with the preimage, once', async () => {
    const coffer = ledger();
    const { preimage, condition } = secret();
    const hold = await t.client.send(
      user,
      txs.createHold({
        to: engineKey.address,
        asset: 'USD',
        amount: '300',
        expiresAtHeight: (await coffer.height()) + 50,
        condition,
      }),
      { wait: 'commit' },
    );
    const state = await coffer.lockState(hold.hash);
    assert.equal(state.state, 'open');
    assert.equal(state.state === 'open' && state.payee, engineKey.address);
    const before0 = await balance(engineKey.address);
    const claimed = await coffer.claim(hold.hash, preimage);
    assert.deepEqual(
      await coffer.claim(hold.hash, preimage),
      claimed,
      'a second claim is the first',
    );
    assert.equal(await balance(engineKey.address), before0 + 300n);
    assert.deepEqual(await coffer.lockState(hold.hash), {
      state: 'released',
      preimage,
      txId: claimed.txId,
    });
  });

  it('a lock nobody releases returns to the engine past its expiry height', async () => {
    const coffer = ledger();
    const { condition } = secret();
    const before0 = await balance(engineKey.address);
    const lock = await coffer.lock({
      key: 'f-expiring',
      asset: 'USD',
      amount: 250n,
      recipient: recipient.address,
      condition,
      expiry: (await coffer.height()) + 2,
    });
    assert.equal((await coffer.lockState(lock.lockId)).state, 'open');
    await advanceTo((await coffer.height()) + 4);
    assert.deepEqual(await coffer.lockState(lock.lockId), { state: 'refunded' });
    assert.deepEqual(await coffer.refund(lock.lockId), {});
    assert.equal(await balance(engineKey.address), before0);
  });

  it('a lock the chain refuses fails with the receipt code, and its key stays refused', async () => {
    const coffer = ledger();
    const { condition } = secret();
    const request = {
      key: 'f-too-much',
      asset: 'USD',
      amount: 10n ** 15n,
      recipient: recipient.address,
      condition,
      expiry: (await coffer.height()) + 50,
    };
    const error = await coffer.lock(request).then(
      () => assert.fail('locked more than the engine holds'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof LedgerError);
    assert.equal(error.code, 'insufficient_funds');
    await assert.rejects(coffer.lock(request), { code: 'insufficient_funds' });
    assert.equal((await coffer.lockState('0'.repeat(64))).state, 'missing');
  });

  it('captures and cancels plain holds for the engine, and pays once per key', async () => {
    const coffer = ledger();
    const height = await coffer.height();
    const plain = async (amount: string) =>
      (
        await t.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount,
            expiresAtHeight: height + 50,
          }),
          { wait: 'commit' },
        )
      ).hash;
    const [kept, returned] = [await plain('40'), await plain('60')];
    const user0 = await balance(user.address);
    await coffer.capture(kept);
    await coffer.cancel(returned);
    assert.equal(await balance(user.address), user0 + 60n, 'the cancelled hold came back');
    assert.equal((await coffer.lockState(kept)).state, 'captured');
    assert.equal((await coffer.lockState(returned)).state, 'refunded');
    const recipient0 = await balance(recipient.address);
    const pay = { key: 'p1', asset: 'USD', amount: 9n, recipient: recipient.address };
    assert.deepEqual(await coffer.pay(pay), await coffer.pay(pay));
    assert.equal(await balance(recipient.address), recipient0 + 9n);
  });

  it('recover sends a tx the engine journaled but died before sending, and never signs it twice', async () => {
    const key = generateKey();
    await t.client.send(t.dev, txs.transfer({ to: key.address, asset: 'USD', amount: '1000' }), {
      wait: 'commit',
    });
    // A journal whose put succeeds and then the "process" dies before the submit.
    const dying: TxJournal = {
      get: (e, k) => store.get(e, k),
      list: (e, n) => store.list(e, n),
      put: (e, k, tx) => {
        store.put(e, k, tx);
        throw new Error('died after journaling');
      },
    };
    const { condition } = secret();
    const request = {
      key: 'f-crash',
      asset: 'USD',
      amount: 100n,
      recipient: recipient.address,
      condition,
      expiry: (await t.client.health()).height + 50,
    };
    await assert.rejects(ledger(dying, key).lock(request), /died after journaling/);
    assert.equal((await t.client.getAccount(key.address)).nonce, 0, 'nothing was sent');
    const restarted = ledger(store, key);
    await restarted.recover();
    assert.equal((await t.client.getAccount(key.address)).nonce, 1, 'recover sent it');
    const receipt = await restarted.lock(request);
    assert.equal(receipt.lockId, receipt.txId, 'a hold id is the hash of its hold.create');
    assert.equal((await restarted.lockState(receipt.lockId)).state, 'open');
    assert.equal(
      (await t.client.getAccount(key.address)).nonce,
      1,
      'the same tx, not a second one',
    );
  });

  it('bounds wall-clock expiries by the block interval bounds', async () => {
    const coffer = ledger();
    const height = await coffer.height();
    // 10 s at most 1 s a block: the block after the expiry comes within 10 blocks.
    const expiry = await coffer.expiryWithin(10_000);
    assert.ok(expiry >= height + 9 && expiry <= height + 10, `${expiry} vs ${height}`);
    await assert.rejects(coffer.expiryWithin(1_500), { code: 'expiry_too_short' });
    // 100 blocks ahead at 5 ms a block at the fastest: at least 99 * 5 ms.
    const now = await coffer.height();
    assert.ok((await coffer.msLeftAtLeast(now + 100)) <= 99 * 5);
    assert.ok((await coffer.msLeftAtLeast(now + 100)) >= 97 * 5);
    assert.equal(await coffer.msLeftAtLeast(now), 0);
  });
});
