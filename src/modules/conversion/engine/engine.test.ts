import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { sha256Hex, toHex } from '../../../crypto/index.js';
import { CofferNode, parseNodeConfig } from '../../../node/index.js';
import {
  createClient,
  generateKey,
  importKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../../../sdk/index.js';
import { CofferLedger } from './coffer-ledger.js';
import { Engine, EngineError, type Pricer, type RegistryView } from './engine.js';
import type { EcosystemLedger } from './ledgers.js';
import { verifyQuote, type Forward } from './records.js';
import { EngineStore } from './store.js';

/*
 * The engine between two real Coffer chains (in this process, each with its own chain id and
 * store): a forward completes when the recipient releases, refunds on both sides when they never
 * do, survives the engine's stop at any state, and refuses what it must before anything moves.
 */

interface Chain {
  node: CofferNode;
  url: string;
  client: CofferClient;
  dev: SigningKey;
  dir: string;
}

/** Blocks every 10 ms while txs wait and every 20 ms when idle: the bounds the registry states. */
const blockMsMin = 10;
const blockMsMax = 20;

async function openChain(chainId: string): Promise<Chain> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${chainId}-`));
  const node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir: dir,
        port: 0,
        logLevel: 'silent',
        chainId,
        blockIntervalMs: blockMsMin,
        idleBlockIntervalMs: blockMsMax,
        verifyWorkers: 1,
      },
      {},
    ),
  );
  const url = await node.listen();
  return {
    node,
    url,
    client: createClient(url),
    dev: importKey(toHex(node.init.devAccount!.secretKey)),
    dir,
  };
}

let a: Chain;
let b: Chain;
let dataDir: string;
const engineKey = generateKey();
const user = generateKey();
const recipient = generateKey();

const registry: RegistryView = {
  engine: { name: 'test', quoteTtlSeconds: 2, hopsMax: 2, slippageBpsMax: 500, status: 'active' },
  ecosystems: [
    {
      ecosystem: 'chain-a',
      kind: 'coffer',
      engineAddress: engineKey.address,
      blockMsMin,
      blockMsMax,
      status: 'active',
    },
    {
      ecosystem: 'chain-b',
      kind: 'coffer',
      engineAddress: engineKey.address,
      blockMsMin,
      blockMsMax,
      status: 'active',
    },
  ],
  assets: [
    {
      ecosystem: 'chain-a',
      asset: 'USD',
      decimals: 2,
      currency: 'USD',
      liquidityLow: '1000',
      liquidityHigh: '500000',
    },
    {
      ecosystem: 'chain-b',
      asset: 'USD',
      decimals: 2,
      currency: 'EUR',
      liquidityLow: '1000',
      liquidityHigh: '500000',
    },
  ],
};

/** 1 USD on chain A buys 0.90 "EUR" (chain B's USD asset stands for it), rounded down. */
const price: Pricer = (request) => {
  const fromAmount =
    'from' in request.amount ? request.amount.from : (request.amount.to * 10n + 8n) / 9n;
  const toAmount = (fromAmount * 9n) / 10n;
  if (toAmount > request.liquidity(request.to))
    throw new EngineError('insufficient_liquidity', 'short', 409);
  return {
    fromAmount,
    toAmount,
    rate: '0.9',
    hops: [
      {
        from: request.from,
        to: request.to,
        midRate: '0.9',
        rate: '0.9',
        amountIn: fromAmount.toString(),
        fee: '0',
        amountOut: toAmount.toString(),
      },
    ],
  };
};

function newEngine(
  store: EngineStore,
  options: { crashAfter?: Forward['state']; now?: () => number } = {},
): Engine {
  const ledger = (ecosystem: string, chain: Chain) =>
    new CofferLedger({
      ecosystem,
      url: chain.url,
      key: engineKey,
      blockMsMin,
      blockMsMax,
      journal: store,
    });
  return new Engine({
    store,
    key: engineKey,
    registry: () => registry,
    ledgers: new Map<string, EcosystemLedger>([
      ['chain-a', ledger('chain-a', a)],
      ['chain-b', ledger('chain-b', b)],
    ]),
    price,
    timing: { destinationMs: 1_000, claimMarginMs: 500, tickMs: 20 },
    ...options,
  });
}

async function usd(chain: Chain, address: string): Promise<bigint> {
  const account = await chain.client.getAccount(address);
  return BigInt(account.balances.find((x) => x.asset === 'USD')?.balance ?? '0');
}

async function until<T>(
  what: string,
  read: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function secret(): { preimage: string; condition: string } {
  const preimage = randomBytes(32).toString('hex');
  return { preimage, condition: sha256Hex(Buffer.from(preimage, 'hex')) };
}

/** The user's hash-locked hold on chain A for the quote, at the lowest expiry it allows. */
async function lockSource(
  quote: { from: { amount: string }; payTo: string; sourceExpiryAtLeast?: number },
  condition: string,
) {
  return (
    await a.client.send(
      user,
      txs.createHold({
        to: quote.payTo,
        asset: 'USD',
        amount: quote.from.amount,
        expiresAtHeight: quote.sourceExpiryAtLeast!,
        condition,
      }),
      { wait: 'commit' },
    )
  ).hash;
}

before(async () => {
  [a, b] = await Promise.all([openChain('chain-a'), openChain('chain-b')]);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-engine-'));
  await a.client.send(a.dev, txs.transfer({ to: user.address, asset: 'USD', amount: '100000' }), {
    wait: 'commit',
  });
  await b.client.send(
    b.dev,
    txs.transfer({ to: engineKey.address, asset: 'USD', amount: '200000' }),
    { wait: 'commit' },
  );
});

after(async () => {
  for (const chain of [a, b]) {
    await chain.node.close();
    fs.rmSync(chain.dir, { recursive: true, force: true });
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the conversion engine between two Coffer chains', () => {
  it('forwards USD on A to the recipient on B when they release, and claims the source with the preimage', async () => {
    const store = new EngineStore(path.join(dataDir, 'happy'));
    const engine = newEngine(store);
    await engine.start();
    try {
      const quote = await engine.quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '10000' },
        to: { ecosystem: 'chain-b', asset: 'USD' },
      });
      assert.ok(verifyQuote(quote), 'the quote carries the engine signature');
      assert.ok(
        !verifyQuote({ ...quote, to: { ...quote.to, amount: '9001' } }),
        'and binds its amounts',
      );
      assert.deepEqual(
        [quote.from.amount, quote.to.amount, quote.mode, quote.payTo],
        ['10000', '9000', 'htlc', engineKey.address],
      );
      const { preimage, condition } = secret();
      const user0 = await usd(a, user.address);
      const lockId = await lockSource(quote, condition);
      const forward = await engine.forward({
        quoteId: quote.id,
        lockId,
        recipient: recipient.address,
      });
      assert.equal(forward.state, 'accepted');
      assert.deepEqual(
        await engine.forward({ quoteId: quote.id, lockId, recipient: recipient.address }),
        forward,
        'asked twice, taken once',
      );
      const locked = await until('the destination lock', () => {
        const f = engine.getForward(forward.id)!;
        return f.state === 'locked' ? f : undefined;
      });
      const hold = await b.client.getHold(locked.destination.lockId!);
      assert.deepEqual(
        [hold.payee, hold.amount, hold.condition],
        [recipient.address, '9000', condition],
      );
      // The recipient releases on B: paid there, and the preimage is public.
      await b.client.send(
        recipient,
        txs.releaseHold({ holdId: locked.destination.lockId!, preimage }),
        { wait: 'commit' },
      );
      const done = await until('completion', () => {
        const f = engine.getForward(forward.id)!;
        return f.state === 'completed' ? f : undefined;
      });
      assert.equal(done.preimage, preimage);
      assert.deepEqual(
        done.history.map((h) => h.state),
        ['accepted', 'locked', 'claiming', 'completed'],
      );
      assert.equal(await usd(b, recipient.address), 9000n);
      assert.equal(await usd(a, user.address), user0 - 10000n);
      assert.equal(await usd(a, engineKey.address), 10000n, 'the engine claimed the source');
      const events = store
        .events(0, 100)
        .filter((e) => e.event.forward === forward.id)
        .map((e) => e.event.type);
      assert.deepEqual(events, [
        'forward.accepted',
        'forward.locked',
        'forward.claiming',
        'forward.completed',
      ]);
    } finally {
      await engine.stop();
      store.close();
    }
  });

  it('refunds both legs when the recipient never releases', async () => {
    const store = new EngineStore(path.join(dataDir, 'never'));
    const engine = newEngine(store);
    await engine.start();
    try {
      const quote = await engine.quote({
        from: { ecosystem: 'chain-a', asset: 'USD' },
        to: { ecosystem: 'chain-b', asset: 'USD', amount: '900' },
      });
      assert.deepEqual([quote.from.amount, quote.to.amount, quote.fixed], ['1000', '900', 'to']);
      const { condition } = secret();
      const user0 = await usd(a, user.address);
      const engineB0 = await usd(b, engineKey.address);
      const lockId = await lockSource(quote, condition);
      const forward = await engine.forward({
        quoteId: quote.id,
        lockId,
        recipient: recipient.address,
      });
      const refunded = await until(
        'the refund',
        () => {
          const f = engine.getForward(forward.id)!;
          return f.state === 'refunded' ? f : undefined;
        },
        60_000,
      );
      assert.deepEqual(
        refunded.history.map((h) => h.state),
        ['accepted', 'locked', 'refunding', 'refunded'],
      );
      assert.equal(await usd(a, user.address), user0, 'the user has it all back');
      assert.equal(await usd(b, engineKey.address), engineB0, 'so has the engine');
      assert.equal(refunded.source.claimTx, undefined);
    } finally {
      await engine.stop();
      store.close();
    }
  });

  it('resumes a forward stopped after the destination lock and completes it', async () => {
    const dir = path.join(dataDir, 'resume');
    let store = new EngineStore(dir);
    let engine = newEngine(store);
    await engine.start();
    const quote = await engine.quote({
      from: { ecosystem: 'chain-a', asset: 'USD', amount: '2000' },
      to: { ecosystem: 'chain-b', asset: 'USD' },
    });
    const { preimage, condition } = secret();
    const lockId = await lockSource(quote, condition);
    const forward = await engine.forward({
      quoteId: quote.id,
      lockId,
      recipient: recipient.address,
    });
    const locked = await until('the destination lock', () => {
      const f = engine.getForward(forward.id)!;
      return f.state === 'locked' ? f : undefined;
    });
    await engine.stop();
    store.close();
    // While no engine runs, the recipient releases.
    await b.client.send(
      recipient,
      txs.releaseHold({ holdId: locked.destination.lockId!, preimage }),
      { wait: 'commit' },
    );
    store = new EngineStore(dir);
    engine = newEngine(store);
    await engine.start();
    try {
      const done = await until('completion after the restart', () => {
        const f = engine.getForward(forward.id)!;
        return f.state === 'completed' ? f : undefined;
      });
      assert.equal(done.preimage, preimage);
      assert.ok(done.source.claimTx);
    } finally {
      await engine.stop();
      store.close();
    }
  });

  it('refuses a forward before anything moves: unknown or expired quote, a wrong lock, a used quote', async () => {
    const store = new EngineStore(path.join(dataDir, 'refusals'));
    let now = Date.now();
    const engine = newEngine(store, { now: () => now });
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (error: unknown) => (error instanceof EngineError ? error.code : String(error)),
      );
    try {
      const amount = (n: string) => ({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: n },
        to: { ecosystem: 'chain-b', asset: 'USD' },
      });
      assert.equal(
        await code(
          engine.quote({
            from: { ecosystem: 'chain-a', asset: 'USD' },
            to: { ecosystem: 'chain-b', asset: 'USD' },
          }),
        ),
        'invalid_quote_request',
      );
      assert.equal(await code(engine.quote(amount('-5'))), 'invalid_amount');
      assert.equal(await code(engine.quote(amount('1.5'))), 'invalid_amount');
      assert.equal(
        await code(engine.quote({ ...amount('10'), slippageBps: 501 })),
        'invalid_slippage',
      );
      assert.equal(
        await code(engine.quote({ ...amount('10'), to: { ecosystem: 'mars', asset: 'USD' } })),
        'ecosystem_not_found',
      );
      assert.equal(
        await code(engine.quote({ ...amount('10'), to: { ecosystem: 'chain-b', asset: 'GBP' } })),
        'asset_not_found',
      );
      assert.equal(await code(engine.quote(amount('10000000'))), 'insufficient_liquidity');
      assert.equal(
        await code(
          engine.forward({
            quoteId: '0'.repeat(32),
            lockId: '0'.repeat(64),
            recipient: recipient.address,
          }),
        ),
        'quote_not_found',
      );

      const quote = await engine.quote(amount('500'));
      const { condition } = secret();
      // A plain hold is not a hash lock; a hold for someone else is not for the engine.
      const height = (await a.client.health()).height;
      const plain = (
        await a.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount: '500',
            expiresAtHeight: quote.sourceExpiryAtLeast!,
          }),
          { wait: 'commit' },
        )
      ).hash;
      const elsewhere = (
        await a.client.send(
          user,
          txs.createHold({
            to: recipient.address,
            asset: 'USD',
            amount: '500',
            expiresAtHeight: quote.sourceExpiryAtLeast!,
            condition,
          }),
          { wait: 'commit' },
        )
      ).hash;
      const short = (
        await a.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount: '500',
            expiresAtHeight: height + 20,
            condition,
          }),
          { wait: 'commit' },
        )
      ).hash;
      const wrongAmount = (
        await a.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount: '499',
            expiresAtHeight: quote.sourceExpiryAtLeast!,
            condition,
          }),
          { wait: 'commit' },
        )
      ).hash;
      const forward = (lockId: string, to = recipient.address) =>
        code(engine.forward({ quoteId: quote.id, lockId, recipient: to }));
      assert.equal(await forward(plain), 'lock_not_hash_locked');
      assert.equal(await forward(elsewhere), 'lock_wrong_payee');
      assert.equal(await forward(short), 'lock_expires_too_soon');
      assert.equal(await forward(wrongAmount), 'lock_wrong_amount');
      assert.equal(await forward('1'.repeat(64)), 'lock_not_open');
      const good = await lockSource(quote, condition);
      assert.equal(await forward(good, '0xabc'), 'invalid_recipient');
      now += 2_001;
      assert.equal(await forward(good), 'quote_expired', 'a quote lives quoteTtlSeconds');
      now -= 2_001;
      assert.equal(await forward(good), 'ok');
      const again = await engine.quote(amount('500'));
      assert.equal(
        await code(engine.forward({ quoteId: quote.id, lockId: good, recipient: user.address })),
        'quote_used',
      );
      assert.notEqual(again.id, quote.id);
      // One lock pays one forward: another quote cannot reuse it (nor someone else's lock).
      const reuse = (lockId: string) =>
        code(engine.forward({ quoteId: again.id, lockId, recipient: recipient.address }));
      assert.equal(await reuse(good), 'lock_used');
      assert.equal(
        await reuse(`0x${good.toUpperCase()}`),
        'lock_used',
        'however the id is written',
      );
      assert.equal(await reuse('zz'), 'invalid_lock_id');
      // A hold with an arbiter could be voided by it after the engine paid.
      const arbitered = (
        await a.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount: '500',
            expiresAtHeight: again.sourceExpiryAtLeast!,
            condition,
            arbiter: recipient.address,
          }),
          { wait: 'commit' },
        )
      ).hash;
      assert.equal(await reuse(arbitered), 'lock_has_arbiter');
      // A lock open for days would keep the forward (and its promised liquidity) that long.
      const late = (
        await a.client.send(
          user,
          txs.createHold({
            to: engineKey.address,
            asset: 'USD',
            amount: '500',
            expiresAtHeight: height + 9_000_000,
            condition,
          }),
          { wait: 'commit' },
        )
      ).hash;
      assert.equal(await reuse(late), 'lock_expires_too_late');
      assert.equal(store.listForwards(10).length, 1, 'only the good forward was taken');
    } finally {
      store.close();
    }
  });
});
