// test-runner: alone
// The conversion engine end to end, as issue 19 asks: two Coffer node processes, ganache with the
// HashTimeLock and USDC contracts, the reference payment provider and the bridge process. USD on
// chain A to USDC on the EVM chain (the best route goes through EUR on chain B: two hops) and
// back; a quote that expires; a recipient who never releases (both legs come back); the bridge
// killed with SIGKILL right after it locked the destination leg (on restart it completes); a
// provider that fails the payout (the hold is voided); a provider deposit forwarded once however
// often it is notified. Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { sha256Hex } from '../src/crypto/index.js';
import {
  lockFunds,
  readLock,
  releaseLock,
  tokenBalance,
} from '../src/modules/conversion/evm/htlc-client.js';
import type { Forward, Quote } from '../src/modules/conversion/engine/records.js';
import { verifyQuote } from '../src/modules/conversion/engine/records.js';
import fs from 'node:fs';
import path from 'node:path';
import { generateKey, txs } from '../src/sdk/index.js';
import { childEnv, describeRun, runCli } from './support/cli.js';
import {
  bridgeCall,
  startConversionWorld,
  type CofferChain,
  type ConversionWorld,
} from './support/conversion-world.js';

const suiteTimeoutMs = 300_000;
let world: ConversionWorld;
let bridgeUrl: string;
const user = generateKey();
const recipient = generateKey();

function secret(): { preimage: string; condition: string } {
  const preimage = randomBytes(32).toString('hex');
  return { preimage, condition: sha256Hex(Buffer.from(preimage, 'hex')) };
}

async function balance(chain: CofferChain, address: string, asset: string): Promise<bigint> {
  const account = await chain.client.getAccount(address);
  return BigInt(account.balances.find((x) => x.asset === asset)?.balance ?? '0');
}

/** Spendable and held together: what an account owns of an asset. */
async function owned(chain: CofferChain, address: string, asset: string): Promise<bigint> {
  const entry = (await chain.client.getAccount(address)).balances.find((x) => x.asset === asset);
  return BigInt(entry?.balance ?? '0') + BigInt(entry?.held ?? '0');
}

async function quote(body: unknown): Promise<Quote> {
  const answer = await bridgeCall<Quote>(bridgeUrl, 'POST', '/v1/conversion/quotes', body);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.ok(verifyQuote(answer.body), 'signed by the engine');
  return answer.body;
}

async function forward(body: unknown): Promise<Forward> {
  const answer = await bridgeCall<Forward>(bridgeUrl, 'POST', '/v1/conversion/forwards', body);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

async function until(id: string, states: string[], ms = 60_000): Promise<Forward> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await bridgeCall<Forward>(
      bridgeUrl,
      'GET',
      `/v1/conversion/forwards/${id}`,
    ).catch(() => ({ body: undefined }));
    if (body && states.includes(body.state)) return body;
    if (Date.now() > end)
      throw new Error(`forward ${id} is ${body?.state ?? '?'}, not ${states.join('|')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The user's hash-locked hold for the engine on chain A, for a quote. */
async function holdOnA(q: Quote, condition?: string): Promise<string> {
  return (
    await world.a.client.send(
      user,
      txs.createHold({
        to: q.payTo,
        asset: q.from.asset,
        amount: q.from.amount,
        expiresAtHeight: q.sourceExpiryAtLeast!,
        ...(condition === undefined ? {} : { condition }),
      }),
      { wait: 'commit' },
    )
  ).hash;
}

describe(
  'the conversion engine between two Coffer chains, an EVM chain and a provider',
  { timeout: suiteTimeoutMs },
  () => {
    before(async () => {
      world = await startConversionWorld({ destinationMs: 3_000, claimMarginMs: 1_000 });
      await world.a.client.send(
        world.a.dev,
        txs.transfer({ to: user.address, asset: 'USD', amount: '1000000' }),
        { wait: 'commit' },
      );
      bridgeUrl = (await world.startBridge()).url;
    });

    after(async () => {
      await world?.close();
    });

    it('USD on chain A to USDC on the EVM chain, by the best route (through EUR on chain B)', async () => {
      const q = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '10000' },
        to: { ecosystem: 'evm', asset: 'USDC' },
      });
      assert.deepEqual(
        q.route.map((h) => `${h.from.ecosystem}:${h.from.asset}>${h.to.ecosystem}:${h.to.asset}`),
        ['chain-a:USD>chain-b:EUR', 'chain-b:EUR>evm:USDC'],
        'two cheap hops beat the dear direct pair',
      );
      // 100.00 USD at 1/1.0842 EUR less 10 bps and 5 bps fee, then EUR at 1.0842 USD less the same.
      const out = BigInt(q.to.amount);
      assert.ok(out > 99_600_000n && out < 100_000_000n, `${out} micro-USDC for 100.00 USD`);
      const { preimage, condition } = secret();
      const userUsd0 = await balance(world.a, user.address, 'USD');
      const lockId = await holdOnA(q, condition);
      const f = await forward({ quoteId: q.id, lockId, recipient: world.userEvm.address });
      const locked = await until(f.id, ['locked']);
      const lock = await readLock(
        { rpcUrl: world.ganache.url, htlc: world.evm.htlc },
        locked.destination.lockId as `0x${string}`,
      );
      assert.equal(lock?.amount, out);
      const usdc0 = await tokenBalance(
        { rpcUrl: world.ganache.url, htlc: world.evm.htlc },
        world.evm.token,
        world.userEvm.address,
      );
      // The recipient releases on the EVM chain: the preimage is public there now.
      await releaseLock(
        { rpcUrl: world.ganache.url, htlc: world.evm.htlc, privateKey: world.userEvm.privateKey },
        { id: locked.destination.lockId!, preimage },
      );
      const done = await until(f.id, ['completed']);
      assert.equal(done.preimage, preimage);
      assert.equal(
        await tokenBalance(
          { rpcUrl: world.ganache.url, htlc: world.evm.htlc },
          world.evm.token,
          world.userEvm.address,
        ),
        usdc0 + out,
      );
      assert.equal(await balance(world.a, user.address, 'USD'), userUsd0 - 10_000n);
      assert.ok(done.source.claimTx, 'the engine claimed the source hold with the preimage');
    });

    it('and back: USDC locked on the EVM chain to USD on chain A', async () => {
      const q = await quote({
        from: { ecosystem: 'evm', asset: 'USDC' },
        to: { ecosystem: 'chain-a', asset: 'USD', amount: '5000' },
      });
      assert.equal(q.route.length, 1);
      assert.ok(BigInt(q.to.amount) >= 5000n, 'a to-quote delivers at least what was asked');
      const { preimage, condition } = secret();
      const id: `0x${string}` = `0x${randomBytes(32).toString('hex')}`;
      await lockFunds(
        { rpcUrl: world.ganache.url, htlc: world.evm.htlc, privateKey: world.userEvm.privateKey },
        {
          token: world.evm.token,
          id,
          recipient: world.engineEvm.address,
          amount: BigInt(q.from.amount),
          condition,
          timelock: q.sourceExpiryAtLeast!,
        },
      );
      const f = await forward({ quoteId: q.id, lockId: id, recipient: recipient.address });
      const locked = await until(f.id, ['locked']);
      const before0 = await balance(world.a, recipient.address, 'USD');
      await world.a.client.send(
        recipient,
        txs.releaseHold({ holdId: locked.destination.lockId!, preimage }),
        { wait: 'commit' },
      );
      const done = await until(f.id, ['completed']);
      assert.equal(await balance(world.a, recipient.address, 'USD'), before0 + BigInt(q.to.amount));
      const source = await readLock({ rpcUrl: world.ganache.url, htlc: world.evm.htlc }, id);
      assert.equal(
        source?.state,
        'withdrawn',
        'the engine withdrew the user lock on the EVM chain',
      );
      assert.ok(done.source.claimTx);
    });

    it('refuses a forward on an expired quote; the user hold comes back by itself', async () => {
      const q = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '2000' },
        to: { ecosystem: 'chain-b', asset: 'EUR' },
      });
      const { condition } = secret();
      const lockId = await holdOnA(q, condition);
      await new Promise((resolve) => setTimeout(resolve, q.expiresAt - Date.now() + 200));
      const answer = await bridgeCall<{ error: { code: string } }>(
        bridgeUrl,
        'POST',
        '/v1/conversion/forwards',
        { quoteId: q.id, lockId, recipient: recipient.address },
      );
      assert.deepEqual([answer.status, answer.body.error.code], [410, 'quote_expired']);
      const hold = await world.a.client.getHold(lockId);
      assert.equal(
        hold.expiresAtHeight,
        q.sourceExpiryAtLeast,
        'still open; it refunds at its expiry height',
      );
    });

    it('refunds both legs when the recipient never releases', async () => {
      const q = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '3000' },
        to: { ecosystem: 'chain-b', asset: 'EUR' },
      });
      const { condition } = secret();
      // Owned, not spendable: the expired quote's hold may come back meanwhile.
      const user0 = await owned(world.a, user.address, 'USD');
      const engineEur0 = await owned(world.b, world.engine.address, 'EUR');
      const lockId = await holdOnA(q, condition);
      const f = await forward({ quoteId: q.id, lockId, recipient: recipient.address });
      const refunded = await until(f.id, ['refunded'], 120_000);
      assert.deepEqual(
        refunded.history.map((h) => h.state),
        ['accepted', 'locked', 'refunding', 'refunded'],
      );
      assert.equal(await owned(world.a, user.address, 'USD'), user0);
      assert.equal(
        await balance(world.a, user.address, 'USD'),
        user0,
        'nothing of the user is held',
      );
      assert.equal(await owned(world.b, world.engine.address, 'EUR'), engineEur0);
    });

    it('completes a forward after the bridge was SIGKILLed right after locking the destination', async () => {
      await world.bridge!.stop();
      const crashing = await world.startBridge({ COFFER_BRIDGE_CRASH_AFTER: 'locked' });
      bridgeUrl = crashing.url;
      const q = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '4000' },
        to: { ecosystem: 'chain-b', asset: 'EUR' },
      });
      const { preimage, condition } = secret();
      const lockId = await holdOnA(q, condition);
      const f = await forward({ quoteId: q.id, lockId, recipient: recipient.address });
      assert.deepEqual(await crashing.exited, { code: null, signal: 'SIGKILL' });
      // The destination hold is on chain B, for the recipient: released while no bridge runs.
      const engineAccount = await world.b.client.getAccount(world.engine.address);
      const hold = engineAccount.holds.find(
        (h) => h.payee === recipient.address && h.condition === condition,
      );
      assert.ok(hold, 'the destination leg was locked before the kill');
      await world.b.client.send(recipient, txs.releaseHold({ holdId: hold.id, preimage }), {
        wait: 'commit',
      });
      bridgeUrl = (await world.startBridge()).url;
      const done = await until(f.id, ['completed']);
      assert.deepEqual(
        done.history.map((h) => h.state),
        ['accepted', 'locked', 'claiming', 'completed'],
      );
      assert.equal(done.destination.lockId, hold.id, 'the same lock, not a second one');
      // The reconciliation shows every forward: the operator's token, or 401.
      const anonymous = await bridgeCall<{ error: { code: string } }>(
        bridgeUrl,
        'GET',
        '/v1/conversion/reconciliation',
      );
      assert.deepEqual(
        [anonymous.status, anonymous.body.error.code],
        [401, 'operator_token_required'],
      );
      const wrong = await bridgeCall<{ error: { code: string } }>(
        bridgeUrl,
        'GET',
        '/v1/conversion/events',
        undefined,
        'not-the-token',
      );
      assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'operator_token_invalid']);
      const reconciliation = await bridgeCall<{ forwards: { id: string; tied: boolean }[] }>(
        bridgeUrl,
        'GET',
        '/v1/conversion/reconciliation',
        undefined,
        world.operatorToken,
      );
      assert.ok(
        reconciliation.body.forwards.every((x) => x.tied),
        'every forward tied to both ledgers',
      );
    });

    it('pays the captured hold back when the provider fails the payout, and keeps it when the payout completes', async () => {
      world.provider.failPayouts('all');
      const failing = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '1500' },
        to: { ecosystem: 'bank', asset: 'USD' },
      });
      assert.equal(failing.mode, 'hold');
      const user0 = await balance(world.a, user.address, 'USD');
      const f1 = await forward({
        quoteId: failing.id,
        lockId: await holdOnA(failing),
        recipient: 'alice',
      });
      const refunded = await until(f1.id, ['refunded']);
      assert.equal(refunded.error?.code, 'payout_failed');
      assert.equal(await balance(world.a, user.address, 'USD'), user0, 'the hold was voided');
      world.provider.failPayouts('none');
      const alice0 = world.provider.balances('alice').USD ?? 0n;
      const paying = await quote({
        from: { ecosystem: 'chain-a', asset: 'USD', amount: '1500' },
        to: { ecosystem: 'bank', asset: 'USD' },
      });
      const f2 = await forward({
        quoteId: paying.id,
        lockId: await holdOnA(paying),
        recipient: 'alice',
      });
      await until(f2.id, ['completed']);
      assert.equal(world.provider.balances('alice').USD, alice0 + BigInt(paying.to.amount));
      assert.equal(await balance(world.a, user.address, 'USD'), user0 - 1500n, 'captured');
    });

    it('forwards a provider deposit once to chain A, and pays back one it cannot forward', async () => {
      const q = await quote({
        from: { ecosystem: 'bank', asset: 'USD', amount: '2500' },
        to: { ecosystem: 'chain-a', asset: 'USD' },
      });
      assert.equal(q.mode, 'deposit');
      const to = generateKey();
      // The provider's webhook goes to the bridge (its deposit route for this ecosystem).
      world.provider.setWebhookUrl(`${bridgeUrl}/v1/conversion/deposits/bank`);
      await world.provider.deposit({
        asset: 'USD',
        amount: 2500n,
        sender: 'alice',
        reference: `${q.id} ${to.address}`,
      });
      const delivered = world.provider.deliveries().at(-1)!;
      assert.equal(delivered.delivered, true, JSON.stringify(delivered));
      const page = await bridgeCall<{ forwards: Forward[] }>(
        bridgeUrl,
        'GET',
        '/v1/conversion/forwards?limit=100',
        undefined,
        world.operatorToken,
      );
      const f = page.body.forwards.find((x) => x.quoteId === q.id)!;
      await until(f.id, ['completed']);
      assert.equal(await balance(world.a, to.address, 'USD'), BigInt(q.to.amount));
      // A deposit naming no quote of the engine is paid back to its sender, in full.
      const alice0 = world.provider.balances('alice').USD ?? 0n;
      await world.provider.deposit({
        asset: 'USD',
        amount: 700n,
        sender: 'alice',
        reference: 'no-such-quote',
      });
      const all = await bridgeCall<{ forwards: Forward[] }>(
        bridgeUrl,
        'GET',
        '/v1/conversion/forwards?limit=100',
        undefined,
        world.operatorToken,
      );
      const refused = all.body.forwards.find(
        (x) => x.mode === 'deposit' && x.from.amount === '700',
      )!;
      const back = await until(refused.id, ['refunded']);
      assert.equal(back.error?.code, 'quote_not_found');
      assert.equal(world.provider.balances('alice').USD, alice0, 'paid back in full');
    });

    it('from the command line: quote, send (the secret kept in a file), release, status, liquidity, reconcile', async () => {
      const env = {
        ...childEnv,
        COFFER_BRIDGE_TOKEN: world.operatorToken,
        COFFER_HOME: path.join(world.dir, 'cli-home'),
        COFFER_PASSPHRASE: 'bridge-test',
      };
      const cli = async (args: string[], input?: string) => {
        const run = await runCli(args, {
          env,
          timeoutMs: 60_000,
          ...(input === undefined ? {} : { input }),
        });
        assert.equal(run.code, 0, describeRun(args, run));
        return run.stdout;
      };
      const payer = generateKey();
      const payee = generateKey();
      await world.a.client.send(
        world.a.dev,
        txs.transfer({ to: payer.address, asset: 'USD', amount: '5000' }),
        { wait: 'commit' },
      );
      await cli(['keys', 'import', 'payer'], payer.secretKey);
      await cli(['keys', 'import', 'payee'], payee.secretKey);
      const quoted = JSON.parse(
        await cli([
          'bridge',
          'quote',
          '--from',
          'chain-a:USD:12.50',
          '--to',
          'chain-b:EUR',
          '--bridge',
          bridgeUrl,
          '--node',
          world.a.url,
          '--json',
        ]),
      ) as Quote;
      assert.deepEqual([quoted.from.amount, quoted.mode], ['1250', 'htlc']);
      const secretFile = path.join(world.dir, 'forward.secret');
      const sent = JSON.parse(
        await cli([
          'bridge',
          'send',
          quoted.id,
          '--from',
          'payer',
          '--recipient',
          payee.address,
          '--secret-file',
          secretFile,
          '--wait',
          '--bridge',
          bridgeUrl,
          '--node',
          world.a.url,
          '--json',
        ]),
      ) as Forward;
      assert.equal(sent.state, 'locked');
      assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600, 'readable by its owner only');
      const preimage = fs.readFileSync(secretFile, 'utf8').trim();
      await cli([
        'hold',
        'release',
        sent.destination.lockId!,
        '--preimage',
        preimage,
        '--from',
        'payee',
        '--node',
        world.b.url,
      ]);
      const done = JSON.parse(
        await cli([
          'bridge',
          'status',
          sent.id,
          '--wait',
          'completed',
          '--bridge',
          bridgeUrl,
          '--json',
        ]),
      ) as Forward;
      assert.equal(done.state, 'completed');
      assert.equal(await balance(world.b, payee.address, 'EUR'), BigInt(quoted.to.amount));
      const liquidity = JSON.parse(
        await cli(['bridge', 'liquidity', '--bridge', bridgeUrl, '--json']),
      ) as {
        assets: { ecosystem: string; asset: string; status: string }[];
      };
      assert.deepEqual(liquidity.assets.map((a) => `${a.ecosystem}:${a.asset}`).sort(), [
        'bank:USD',
        'chain-a:USD',
        'chain-b:EUR',
        'evm:USDC',
      ]);
      const text = await cli(['bridge', 'reconcile', '--bridge', bridgeUrl]);
      assert.match(text, /completed: \d+/);
      // A quote for an asset the engine does not serve is refused with the bridge's code.
      const refused = await runCli(
        [
          'bridge',
          'quote',
          '--from',
          'chain-a:USD:1',
          '--to',
          'chain-b:GBP',
          '--bridge',
          bridgeUrl,
          '--node',
          world.a.url,
        ],
        { env, timeoutMs: 60_000 },
      );
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /asset_not_found/);
    });
  },
);
