import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  signTx,
  verifyBlockSignature,
  zeroHash,
  type BlockHeader,
  type SignedBlock,
} from '../src/chain/index.js';
import {
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  encryptHiddenInfo,
  fromHex,
  keyPairFromSecret,
  toHex,
} from '../src/crypto/index.js';
import type { ProducerRecord } from '../src/modules/producers/index.js';
import { childEnv, cliPath } from './support/cli.js';
import { signBypassingSafety } from './support/block-signer.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

/** Small nonce ranges, so the test sees the node commit new ones and sign past the genesis range. */
const nonceRangeHeights = 64;
const nonceRangeLeadHeights = 32;
const suiteTimeoutMs = 120_000;

describe('accountable block signing against a node process', { timeout: suiteTimeoutMs }, () => {
  let node: NodeProcess | undefined;
  let url = '';
  let chainId = '';
  let dev: { address: string; secretKey: Uint8Array };
  let workDir = '';
  const killOnExit = () => node?.killNow();

  async function call<T>(method: string, route: string, body?: unknown) {
    const res = await fetch(`${url}${route}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function nonceOf(address: string): Promise<number> {
    return (await call<{ nonce: number }>('GET', `/v1/accounts/${address}`)).body.nonce;
  }

  async function usd(address: string): Promise<bigint> {
    const { body } = await call<{ balances: { asset: string; balance: string }[] }>(
      'GET',
      `/v1/accounts/${address}`,
    );
    return BigInt(body.balances.find((b) => b.asset === 'USD')?.balance ?? '0');
  }

  async function send(type: string, payload: Record<string, unknown>) {
    const tx = signTx(
      { chainId, type, sender: dev.address, nonce: await nonceOf(dev.address), payload },
      dev.secretKey,
    );
    return call<{ status: string; hash: string; height: number; error?: { code: string } }>(
      'POST',
      '/v1/txs?wait=commit',
      tx,
    );
  }

  async function height(): Promise<number> {
    return (await call<{ height: number }>('GET', '/health')).body.height;
  }

  before(async () => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-accountable-'));
    const dataDir = path.join(workDir, 'node');
    process.on('exit', killOnExit);
    node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs: 20,
      logLevel: 'warn',
      env: {
        ...childEnv,
        COFFER_NONCE_RANGE_HEIGHTS: String(nonceRangeHeights),
        COFFER_NONCE_RANGE_LEAD_HEIGHTS: String(nonceRangeLeadHeights),
      },
      startTimeoutMs: 15_000,
    });
    ({ url } = await node.listening());
    const devFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
      secretKey: string;
    };
    const pair = keyPairFromSecret(fromHex(devFile.secretKey, 'secretKey', 32));
    dev = { address: addressFromPublicKey(pair.publicKey), secretKey: pair.secretKey };
    chainId = (await call<{ chainId: string }>('GET', '/health')).body.chainId;
  });

  after(async () => {
    await node?.kill();
    process.off('exit', killOnExit);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('the solo producer is registered in genesis and signs every header accountably', async () => {
    const { body } = await call<{ producers: ProducerRecord[] }>('GET', '/v1/producers');
    assert.equal(body.producers.length, 1);
    const [solo] = body.producers;
    assert.equal(solo?.status, 'active');
    assert.deepEqual(solo?.nonceRanges[0], {
      fromHeight: 0,
      count: nonceRangeHeights,
      root: solo?.nonceRanges[0]?.root,
    });
    const genesis = (await call<SignedBlock>('GET', '/v1/blocks/0')).body;
    assert.equal(genesis.header.producer, solo?.id);
    assert.ok(verifyBlockSignature(genesis));
  });

  it('commits the next nonce ranges itself and keeps producing past the genesis range', async () => {
    // Past two range boundaries, one tx (one block) at a time.
    const target = 2 * nonceRangeHeights + 8;
    while ((await height()) < target) {
      const res = await send('ledger.transfer', {
        to: addressFromPublicKey(crypto.randomBytes(32)),
        asset: 'USD',
        amount: '1',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const { body } = await call<{ producers: ProducerRecord[] }>('GET', '/v1/producers');
    const solo = body.producers[0]!;
    const last = solo.nonceRanges[solo.nonceRanges.length - 1]!;
    assert.ok(last.fromHeight + last.count > target, 'a range covers the head and beyond');
    const head = (await call<SignedBlock>('GET', `/v1/blocks/${target}`)).body;
    assert.ok(verifyBlockSignature(head));
    const range = solo.nonceRanges.find(
      (r) => target >= r.fromHeight && target < r.fromHeight + r.count,
    );
    assert.ok(range && range.fromHeight > 0, 'the head is signed with a nonce committed by tx');
  });

  it('a second producer that signs two headers at one height is jailed, slashed and revealed', async () => {
    // Register a producer with known identity information and a bond of 2,000.00 USD.
    const key = deriveAccountableKey(new Uint8Array(crypto.randomBytes(32)));
    const id = addressFromPublicKey(key.publicKey);
    const info = { name: 'Equivocating Producer GmbH', contact: 'ops@equivocating.example' };
    const hidden = encryptHiddenInfo(key.secretScalar, info);
    const fromHeight = (await height()) + 10;
    const commitment = commitNonces(key.nonceSecret, chainId, fromHeight, 32);
    const bond = 200_000n;
    const devBefore = await usd(dev.address);
    const registered = await send('producer.register', {
      publicKey: toHex(key.publicKey),
      hiddenInfo: hidden.hiddenInfo,
      commitment: hidden.commitment,
      bond: bond.toString(),
      nonces: { fromHeight, count: 32, root: commitment.root },
    });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    assert.equal(await usd(dev.address), devBefore - bond);
    // Pending until the validators approve it; its equivocation is punished all the same.
    const shown = await call<ProducerRecord>('GET', `/v1/producers/${id}`);
    assert.equal(shown.body.status, 'pending');
    assert.equal(shown.body.bond, bond.toString());

    // Two different headers at one committed height, both validly signed.
    const at = fromHeight + 3;
    const headerOf = (stateRoot: string): BlockHeader => ({
      chainId,
      height: at,
      prevHash: zeroHash,
      time: Date.now(),
      txCount: 0,
      txRoot: zeroHash,
      receiptRoot: zeroHash,
      stateRoot,
      producer: id,
    });
    const a = signBypassingSafety(key, commitment, chainId, headerOf('aa'.repeat(32)));
    const b = signBypassingSafety(key, commitment, chainId, headerOf('bb'.repeat(32)));
    assert.ok(verifyBlockSignature(a) && verifyBlockSignature(b));

    const { body: soloList } = await call<{ producers: ProducerRecord[] }>('GET', '/v1/producers');
    const reporter = soloList.producers.find((p) => p.id !== id)!.operator;
    const reporterBefore = await usd(reporter);
    const burnedBefore = BigInt(
      (await call<{ supply: string }>('GET', '/v1/assets/USD')).body.supply,
    );

    const evidence = {
      a: { header: a.header, signature: a.signature },
      b: { header: b.header, signature: b.signature },
    };
    const reported = await call<{
      status: string;
      hash: string;
      info: unknown;
      infoRevealed: boolean;
    }>('POST', '/v1/evidence', evidence);
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assert.equal(reported.body.status, 'ok');
    assert.deepEqual(reported.body.info, info);

    // Jailed, bond slashed (half burned, half to the reporting node's account), info revealed.
    const jailed = (await call<ProducerRecord>('GET', `/v1/producers/${id}`)).body;
    assert.equal(jailed.status, 'jailed');
    assert.equal(jailed.bond, '0');
    assert.deepEqual(jailed.equivocation?.info, info);
    assert.equal(jailed.equivocation?.infoRevealed, true);
    assert.equal(jailed.equivocation?.height, at);
    assert.deepEqual(jailed.equivocation?.headerHashes, [a.hash, b.hash].sort());
    const burned = BigInt(jailed.equivocation.burned);
    const reward = BigInt(jailed.equivocation.reward);
    assert.equal(burned + reward, bond);
    assert.ok(burned > 0n && reward > 0n);
    assert.equal(await usd(reporter), reporterBefore + reward);
    const supplyAfter = BigInt(
      (await call<{ supply: string }>('GET', '/v1/assets/USD')).body.supply,
    );
    assert.equal(supplyAfter, burnedBefore - burned);

    // The event carries the revealed information.
    const tx = await call<{
      receipt: { status: string; events: { type: string; data: Record<string, unknown> }[] };
    }>('GET', `/v1/txs/${reported.body.hash}`);
    const event = tx.body.receipt.events.find((e) => e.type === 'producer.equivocated');
    assert.equal(event?.data.producer, id);
    assert.deepEqual(event?.data.info, info);

    // The same evidence again is a duplicate; one signed header twice is no evidence.
    const again = await call<{ error: { code: string } }>('POST', '/v1/evidence', evidence);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'evidence_duplicate');
    const same = await call<{ error: { code: string } }>('POST', '/v1/evidence', {
      a: evidence.a,
      b: evidence.a,
    });
    assert.equal(same.status, 400);
    assert.equal(same.body.error.code, 'invalid_evidence');

    // A second equivocation at another height, by the producer already jailed: refused before
    // the node signs anything (its account's nonce does not move), whoever asks and how often.
    const nextAt = at + 1;
    const headerAt = (stateRoot: string): BlockHeader => ({
      ...headerOf(stateRoot),
      height: nextAt,
    });
    const c = signBypassingSafety(key, commitment, chainId, headerAt('aa'.repeat(32)));
    const d = signBypassingSafety(key, commitment, chainId, headerAt('bb'.repeat(32)));
    const relayNonce = async () =>
      (await call<{ nonce: number }>('GET', `/v1/accounts/${reporter}`)).body.nonce;
    const nonceBefore = await relayNonce();
    const jailedAgain = await Promise.all(
      Array.from({ length: 5 }, () =>
        call<{ error: { code: string } }>('POST', '/v1/evidence', {
          a: { header: c.header, signature: c.signature },
          b: { header: d.header, signature: d.signature },
        }),
      ),
    );
    for (const answer of jailedAgain) {
      assert.equal(answer.status, 409);
      assert.equal(answer.body.error.code, 'producer_already_jailed');
    }
    assert.equal(await relayNonce(), nonceBefore, 'the node signed no tx for them');

    // Evidence the node refuses before it submits anything.
    const other = signBypassingSafety(key, commitment, chainId, headerOf('cc'.repeat(32)));
    const forged = { header: other.header, signature: { ...a.signature } };
    const badSignature = await call<{ error: { code: string } }>('POST', '/v1/evidence', {
      a: evidence.a,
      b: forged,
    });
    assert.equal(badSignature.body.error.code, 'evidence_bad_signature');
    const stranger = deriveAccountableKey(new Uint8Array(32).fill(3));
    const strangerCommitment = commitNonces(stranger.nonceSecret, chainId, at, 1);
    const strangerHalf = (stateRoot: string) => {
      const { header, signature } = signBypassingSafety(stranger, strangerCommitment, chainId, {
        ...headerOf(stateRoot),
        producer: addressFromPublicKey(stranger.publicKey),
      });
      return { header, signature };
    };
    const unknown = await call<{ error: { code: string } }>('POST', '/v1/evidence', {
      a: strangerHalf('aa'.repeat(32)),
      b: strangerHalf('bb'.repeat(32)),
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'producer_not_found');
    const missing = await call<{ error: { code: string } }>(
      'GET',
      `/v1/producers/${addressFromPublicKey(stranger.publicKey)}`,
    );
    assert.equal(missing.status, 404);
    assert.equal((await call('GET', '/v1/producers/nope')).status, 400);

    // The genesis producer keeps producing.
    const after = await send('ledger.transfer', { to: reporter, asset: 'USD', amount: '1' });
    assert.equal(after.status, 200);
    assert.equal(await usd(reporter), reporterBefore + reward + 1n);
  });
});
