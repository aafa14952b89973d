import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import Fastify from 'fastify';

import '../registry.js';
import type { ModuleHost } from '../../node/module-host.js';
import { RelayGate, relaysInFlightMax, relaysPerParticipantMax } from '../../node/relay-gate.js';
import { tokensRoutes } from './routes.js';
import { panCommitment, provisionSignedFields } from './schema.js';
import {
  chainId,
  key,
  pan,
  requestor,
  serviceIn,
  signRequest,
  tsp,
  TxWorld,
  withCheckDigit,
  type TestKey,
} from './txs-fixture.js';
import { readToken } from './state.js';
import { newVaultKeyDocument } from './vault.js';

/*
 * The relay routes in process, against a fake host whose `submitOwn` runs the tx through the
 * handlers once the test lets it: requests can be held in flight deterministically.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-tokens-routes-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const vaultFile = path.join(dir, 'vault.json');
fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });

interface Held {
  type: string;
  release: () => void;
}

async function host(systemTxsMax: number) {
  const w = new TxWorld();
  serviceIn(w);
  const held: Held[] = [];
  let holding = true;
  const app = Fastify();
  const submitOwn = async (type: string, payload: Record<string, unknown>) => {
    if (holding) await new Promise<void>((release) => held.push({ type, release }));
    const result = w.run(tsp, type, payload);
    return result === 'ok'
      ? { hash: 'ab'.repeat(32), status: 'ok', height: w.height - 1, final: true }
      : { hash: 'ab'.repeat(32), status: result, height: w.height };
  };
  tokensRoutes({
    app,
    store: w.state,
    chain: { chainId, latest: () => ({ header: { time: w.time } }) },
    healthy: true,
    config: { vaultKeyFile: vaultFile, mempoolSystemTxsMax: systemTxsMax },
    submitOwn,
    relays: new RelayGate(submitOwn, relaysInFlightMax(systemTxsMax)),
  } as unknown as ModuleHost);
  await app.ready();
  return {
    w,
    app,
    held,
    releaseAll: () => {
      holding = false;
      for (const one of held.splice(0)) one.release();
    },
  };
}

function provisionBody(signer: TestKey, requestId: string, cardPan = pan) {
  const panSalt = crypto.randomBytes(32).toString('hex');
  const body = {
    requestor: signer.address,
    requestId,
    expiry: '2030-12',
    domain: { channels: ['ecommerce' as const], merchantIds: ['m-1'] },
    assuranceLevel: 'high',
  };
  const fields = provisionSignedFields({ ...body, commitment: panCommitment(cardPan, panSalt) });
  return { ...body, pan: cardPan, panSalt, signature: signRequest(signer, 'provision', fields) };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(done(), 'timed out');
}

describe('relays in flight', () => {
  it('joins only the same signed request: another PAN under one requestId is a duplicate', async () => {
    const { app, held, releaseAll } = await host(1_000);
    const second = withCheckDigit('411111000099999');
    const answers = [pan, second].map((cardPan) =>
      app.inject({
        method: 'POST',
        url: '/v1/tokens',
        payload: provisionBody(requestor, 'same-id', cardPan),
      }),
    );
    await until(() => held.length === 2);
    releaseAll();
    const results = (await Promise.all(answers)).map((response) => ({
      status: response.statusCode,
      body: JSON.parse(response.body) as { error?: { code: string } },
    }));
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results));
    const other = results.find((r) => r.status !== 200)!;
    assert.deepEqual([other.status, other.body.error?.code], [409, 'token_request_duplicate']);
    await app.close();
  });
});

describe('GET /v1/tokens/:token', () => {
  it('answers the public view: no envelope, no fingerprint (kept in state)', async () => {
    const { w, app, releaseAll } = await host(1_000);
    releaseAll();
    const provisioned = await app.inject({
      method: 'POST',
      url: '/v1/tokens',
      payload: provisionBody(requestor, 'view-1'),
    });
    assert.equal(provisioned.statusCode, 200, provisioned.body);
    const token = (JSON.parse(provisioned.body) as { token: { token: string } }).token.token;
    const read = await app.inject({ method: 'GET', url: `/v1/tokens/${token}` });
    assert.equal(read.statusCode, 200);
    const view = JSON.parse(read.body) as Record<string, unknown>;
    assert.equal(view.token, token);
    assert.equal('fingerprint' in view, false);
    assert.equal('vault' in view, false);
    assert.match(readToken(w.state, token)!.fingerprint, /^[0-9a-f]{64}$/);
    await app.close();
  });
});

describe('relay caps', () => {
  it('keeps relays well below the system-tx lane', () => {
    assert.equal(relaysInFlightMax(1_000), 100);
    assert.equal(relaysInFlightMax(64), 16);
    assert.equal(relaysInFlightMax(16), 4);
  });

  it('refuses relays beyond the per-participant and the node caps; the node still submits', async () => {
    const { w, app, held, releaseAll } = await host(64); // 16 relays in flight
    const second = key(21);
    const third = key(22);
    for (const [k, name] of [
      [second, 'Pay2'],
      [third, 'Pay3'],
    ] as const) {
      const registered = w.run(tsp, 'tokens.registerParticipant', {
        address: k.address,
        name,
        roles: ['requestor'],
      });
      assert.equal(registered, 'ok');
    }
    const answers: { code?: string; status: number }[] = [];
    const post = (signer: TestKey, requestId: string) => {
      const answer = app
        .inject({ method: 'POST', url: '/v1/tokens', payload: provisionBody(signer, requestId) })
        .then((response) => {
          const json = JSON.parse(response.body) as { error?: { code: string } };
          const settled = { status: response.statusCode, ...(json.error ? json.error : {}) };
          answers.push(settled);
          return settled;
        });
      return answer;
    };
    const all: Promise<unknown>[] = [];
    // One requestor: 8 in flight, the rest refused at once.
    for (let i = 0; i < relaysPerParticipantMax + 2; i++) all.push(post(requestor, `a-${i}`));
    await until(() => held.length === relaysPerParticipantMax && answers.length === 2);
    assert.deepEqual(
      answers.map((a) => [a.status, a.code]),
      [
        [429, 'relays_busy'],
        [429, 'relays_busy'],
      ],
    );
    // Another requestor fills the node's cap; a third is refused mempool_full.
    for (let i = 0; i < 8; i++) all.push(post(second, `b-${i}`));
    await until(() => held.length === 16);
    all.push(post(third, 'c-0'));
    await until(() => answers.length === 3);
    assert.deepEqual([answers[2]!.status, answers[2]!.code], [429, 'mempool_full']);
    // Relays hold a quarter of the node's system-tx lane at most: 48 of 64 stay its own.
    assert.equal(held.length, relaysInFlightMax(64));
    releaseAll();
    await Promise.all(all);
    assert.equal(answers.filter((a) => a.status === 200).length, 16);
    // Once they settle, relays go through again.
    const later = await post(third, 'c-1');
    assert.equal(later.status, 200);
    await app.close();
  });
});
