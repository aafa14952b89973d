import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import Fastify from 'fastify';

import '../registry.js';
import { toHex } from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { RelayGate, relaysInFlightMax } from '../../node/relay-gate.js';
import { signAuthorisation, signMintRequest } from './client.js';
import { acquirerRelaysMax, cardsRoutes } from './routes.js';
import {
  cardTokenKeyHash,
  cryptogram,
  openTokenKeys,
  type MintResult,
  type TerminalRequest,
} from './schema.js';
import { readCardDevice, readCardToken } from './state.js';
import {
  acquirer,
  approvedDevice,
  asset,
  cardsWorld,
  chainId,
  device,
  funds,
  holder,
  issuer,
  key,
  linkedCard,
  terminal,
  tsp,
  type TestKey,
} from './txs-fixture.js';

/*
 * The cards relays in process, against a host whose `submitOwn` runs the tx through the handlers
 * (held until the test lets it go, when it asks), with a vault key file of its own: the node's
 * checks before it signs, the sealed batches, the authorisation's answer, the acquirer's cap.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cards-routes-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const vaultFile = path.join(dir, 'vault.json');
fs.writeFileSync(
  vaultFile,
  JSON.stringify({
    fingerprintKey: '11'.repeat(32),
    keks: [{ id: 'k1', key: '22'.repeat(32) }],
    current: 'k1',
  }),
  { mode: 0o600 },
);

async function host(options: { vault?: boolean; tokensMax?: number; operator?: string } = {}) {
  const w = cardsWorld();
  const { card, token } = linkedCard(w, 'card-1', { tokensMax: options.tokensMax ?? 10 });
  const d = device(40);
  approvedDevice(w, card, d);
  const held: (() => void)[] = [];
  let holding = false;
  let submitted = 0;
  const app = Fastify();
  const submitOwn = async (type: string, payload: Record<string, unknown>) => {
    submitted += 1;
    if (holding) await new Promise<void>((release) => held.push(release));
    const result = w.run(tsp, type, payload);
    return result === 'ok'
      ? { hash: 'ab'.repeat(32), status: 'ok', height: w.height - 1, final: true }
      : { hash: 'ab'.repeat(32), status: result, height: w.height };
  };
  cardsRoutes({
    app,
    store: w.state,
    chain: { chainId, latest: () => ({ header: { time: w.time } }) },
    healthy: true,
    config: {
      vaultKeyFile: options.vault === false ? undefined : vaultFile,
      mempoolSystemTxsMax: 1_000,
    },
    submitOwn,
    relays: new RelayGate(submitOwn, relaysInFlightMax(1_000)),
    operator: options.operator ?? tsp.address,
  } as unknown as ModuleHost);
  await app.ready();
  const post = async (url: string, payload: unknown) => {
    const response = await app.inject({ method: 'POST', url, payload: payload as object });
    return { status: response.statusCode, body: JSON.parse(response.body) as Answer };
  };
  return {
    w,
    app,
    card,
    token,
    d,
    held,
    post,
    submitted: () => submitted,
    holdRelays: () => {
      holding = true;
    },
    releaseAll: () => {
      holding = false;
      for (const release of held.splice(0)) release();
    },
  };
}

type Host = Awaited<ReturnType<typeof host>>;

/** A route's JSON answer: an approval, a batch or an error. */
type Answer = Record<string, unknown> & {
  error?: { code: string };
  holdId?: string;
};

function mintBody(h: Host, count: number, by: 'device' | 'issuer' = 'device', n?: number) {
  const signer = by === 'device' ? h.d : issuer;
  return signMintRequest(signer.secretKey, chainId, {
    card: h.card,
    device: h.d.address,
    n: n ?? readCardDevice(h.w.state, h.card, h.d.address)!.nextRequest,
    count,
    by,
  });
}

const mintUrl = (h: Host) => `/v1/cards/${h.card}/devices/${h.d.address}/tokens`;

/** Mints through the route and opens the batch as the device does. */
async function mintedKeys(h: Host, count: number) {
  const minted = await h.post(mintUrl(h), mintBody(h, count));
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  return openTokenKeys(
    h.d.boxSecret,
    chainId,
    h.card,
    h.d.address,
    minted.body as unknown as MintResult,
  );
}

/** The device's answer, computed with the key it opened. */
function pay(keyBytes: Uint8Array, token: string, request: TerminalRequest, counter = 1) {
  const paid = { token, counter, ...request };
  return { ...paid, cryptogram: cryptogram(keyBytes, chainId, paid) };
}

function acquirerKey(k: TestKey) {
  return { address: k.address, secretKey: toHex(k.secretKey) };
}

describe('POST /v1/cards/:card/devices/:device/tokens', () => {
  it('answers keys only the device opens, whose hashes the ledger keeps; a retry answers the same tokens', async () => {
    const h = await host();
    const keys = await mintedKeys(h, 3);
    assert.equal(keys.length, 3);
    for (const { token, key: k } of keys) {
      assert.equal(readCardToken(h.w.state, token)!.keyHash, cardTokenKeyHash(k));
    }
    const retry = await h.post(mintUrl(h), mintBody(h, 3, 'device', 1));
    assert.equal(retry.status, 200);
    const again = openTokenKeys(
      h.d.boxSecret,
      chainId,
      h.card,
      h.d.address,
      retry.body as unknown as MintResult,
    );
    assert.deepEqual(again, keys);
    assert.equal(h.submitted(), 1, 'the retry submitted nothing');
    const stranger = device(77);
    assert.throws(() =>
      openTokenKeys(
        stranger.boxSecret,
        chainId,
        h.card,
        h.d.address,
        retry.body as unknown as MintResult,
      ),
    );
    await h.app.close();
  });

  it('answers identical requests in flight together with the one batch they minted', async () => {
    const h = await host();
    h.holdRelays();
    const body = mintBody(h, 2);
    const both = [h.post(mintUrl(h), body), h.post(mintUrl(h), body)];
    await until(() => h.held.length === 1);
    h.releaseAll();
    const [a, b] = await Promise.all(both);
    assert.deepEqual([a!.status, b!.status], [200, 200], JSON.stringify(b!.body));
    const ids = (r: typeof a) => (r!.body as unknown as MintResult).tokens.map((t) => t.token);
    assert.deepEqual(ids(b), ids(a));
    assert.equal(h.submitted(), 1);
    await h.app.close();
  });

  it('refuses before signing anything: bad fields, a forged request, out of order, over the limit', async () => {
    const h = await host();
    const refused = async (body: unknown, code: string, status: number, url = mintUrl(h)) => {
      const answer = await h.post(url, body);
      assert.deepEqual([answer.status, answer.body.error?.code], [status, code]);
    };
    await refused({ ...mintBody(h, 1), count: 0 }, 'invalid_token_count', 400);
    await refused({ ...mintBody(h, 1), extra: 1 }, 'unknown_field', 400);
    await refused({ ...mintBody(h, 1), by: 'someone' }, 'invalid_requester', 400);
    await refused({ ...mintBody(h, 1), count: 2 }, 'mint_request_signature_invalid', 403);
    await refused(mintBody(h, 1, 'device', 2), 'request_out_of_order', 409);
    await refused(mintBody(h, 11), 'card_tokens_limit', 422);
    await refused(
      mintBody(h, 1),
      'device_not_found',
      404,
      `/v1/cards/${h.card}/devices/${key(99).address}/tokens`,
    );
    await refused(
      mintBody(h, 1),
      'invalid_card_id',
      400,
      `/v1/cards/x/devices/${h.d.address}/tokens`,
    );
    assert.equal(h.submitted(), 0);
    await h.app.close();
  });

  it('relays nothing when the node operator is not an active validator', async () => {
    const h = await host({ operator: key(97).address });
    const answer = await h.post(mintUrl(h), mintBody(h, 1));
    assert.deepEqual([answer.status, answer.body.error?.code], [503, 'relay_not_validator']);
    assert.equal(h.submitted(), 0);
    await h.app.close();
  });

  it('answers vault_key_missing on a node without the vault key', async () => {
    const h = await host({ vault: false });
    const answer = await h.post(mintUrl(h), mintBody(h, 1));
    assert.deepEqual([answer.status, answer.body.error?.code], [503, 'vault_key_missing']);
    await h.app.close();
  });
});

describe('POST /v1/cards/authorisations', () => {
  it('approves with a hold for the acquirer, once; the token is spent for every later request', async () => {
    const h = await host();
    const [first] = await mintedKeys(h, 2);
    const t = terminal('4200');
    const body = signAuthorisation(
      acquirerKey(acquirer),
      chainId,
      t,
      pay(first!.key, first!.token, t),
    );
    const approved = await h.post('/v1/cards/authorisations', body);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.approved, true);
    assert.equal(approved.body.amount, '4200');
    const ledger = new Ledger(h.w.state);
    assert.equal(ledger.hold(approved.body.holdId!)!.amount, '4200');
    assert.equal(ledger.balance(holder.address, asset), funds - 4200n);
    const retry = await h.post('/v1/cards/authorisations', body);
    assert.equal(retry.status, 200, 'a retry of the approved request answers its approval');
    assert.equal(retry.body.holdId, approved.body.holdId);
    // The token's id and counter are public: a fresh unpredictable number with a made-up
    // cryptogram, the same merchant and amount, is not a retry.
    const forgedTerminal = { ...t, unpredictableNumber: 'deadbeef' };
    const forgedAnswer = {
      ...pay(first!.key, first!.token, t),
      unpredictableNumber: 'deadbeef',
      cryptogram: '00'.repeat(32),
    };
    const forged = await h.post(
      '/v1/cards/authorisations',
      signAuthorisation(acquirerKey(acquirer), chainId, forgedTerminal, forgedAnswer),
    );
    assert.deepEqual([forged.status, forged.body.error?.code], [409, 'card_token_consumed']);
    const t2 = terminal('4300');
    const other = signAuthorisation(
      acquirerKey(acquirer),
      chainId,
      t2,
      pay(first!.key, first!.token, t2, 2),
    );
    const replay = await h.post('/v1/cards/authorisations', other);
    assert.deepEqual([replay.status, replay.body.error?.code], [409, 'card_token_consumed']);
    assert.equal(h.submitted(), 2, 'one batch, one authorisation: nothing else reached a tx');
    await h.app.close();
  });

  it('refuses from committed state without a tx or using the token: wrong amount, bad cryptogram, suspended card', async () => {
    const h = await host();
    const [k] = await mintedKeys(h, 1);
    const t = terminal('1000');
    const a = pay(k!.key, k!.token, t);
    const acq = acquirerKey(acquirer);
    const refused = async (body: unknown, code: string, status = 422) => {
      const answer = await h.post('/v1/cards/authorisations', body);
      assert.deepEqual([answer.status, answer.body.error?.code], [status, code]);
    };
    await refused(signAuthorisation(acq, chainId, terminal('1001'), a), 'amount_mismatch');
    const forged = pay(new Uint8Array(32).fill(7), k!.token, t);
    await refused(signAuthorisation(acq, chainId, t, forged), 'cryptogram_invalid');
    await refused(signAuthorisation(acquirerKey(key(98)), chainId, t, a), 'not_acquirer', 403);
    await refused(
      { ...signAuthorisation(acq, chainId, t, a), holdBlocks: 5 },
      'invalid_hold_blocks',
      400,
    );
    await refused(
      { ...signAuthorisation(acq, chainId, t, a), terminal: { ...t, amount: '-1' } },
      'invalid_amount',
      400,
    );
    assert.equal(
      h.w.run(issuer, 'token.suspend', {
        token: h.token,
        seq: 1,
        initiator: 'issuer',
        reason: 'fraud_suspected',
      }),
      'ok',
    );
    await refused(signAuthorisation(acq, chainId, t, a), 'card_suspended');
    assert.equal(
      h.w.run(issuer, 'token.resume', {
        token: h.token,
        seq: 2,
        initiator: 'issuer',
        reason: 'verified',
      }),
      'ok',
    );
    const tooMuch = terminal(String(funds + 1n));
    await refused(
      signAuthorisation(acq, chainId, tooMuch, pay(k!.key, k!.token, tooMuch)),
      'insufficient_funds',
    );
    assert.equal(readCardToken(h.w.state, k!.token)!.status, 'unused');
    assert.equal(h.submitted(), 1, 'only the batch');
    await h.app.close();
  });

  it("lets an acquirer have a quarter of the node's relays in flight, beyond the vault's 8 per participant", async () => {
    const cap = acquirerRelaysMax(relaysInFlightMax(1_000));
    assert.equal(cap, 25);
    const h = await host({ tokensMax: 60 });
    const keys = await mintedKeys(h, cap + 2);
    h.holdRelays();
    const answers: { status: number; code?: string }[] = [];
    const all = keys.map(({ token, key: k }, i) => {
      const t = { ...terminal(String(100 + i)) };
      const body = signAuthorisation(acquirerKey(acquirer), chainId, t, pay(k, token, t));
      return h.post('/v1/cards/authorisations', body).then((answer) => {
        answers.push({ status: answer.status, code: answer.body.error?.code });
      });
    });
    await until(() => h.held.length === cap && answers.length === 2);
    assert.deepEqual(answers, [
      { status: 429, code: 'relays_busy' },
      { status: 429, code: 'relays_busy' },
    ]);
    h.releaseAll();
    await Promise.all(all);
    assert.equal(answers.filter((a) => a.status === 200).length, cap);
    await h.app.close();
  });
});

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(done(), 'timed out');
}
