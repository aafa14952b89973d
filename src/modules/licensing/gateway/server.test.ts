import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, it, mock } from 'node:test';
import fc from 'fast-check';
import type { Policy } from '../policy.js';
import type { GatewayAction } from './messages.js';
import { chunkBytes } from './storage.js';
import { createGateway, deviceHash, gatewayErrors, type Gateway } from './server.js';
import {
  FakeChain,
  popFor,
  requestFrom,
  tempDataDir,
  testConfig,
  testKey,
  tokenRequest,
  uploadHeaders,
  urlPop,
  type TestKey,
} from './fixture.js';

const start = 1_800_000_000_000;
const clock = { t: start };
const dirs: string[] = [];
const gateways: Gateway[] = [];
after(async () => {
  for (const gateway of gateways) await gateway.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function open(name: string, extra: Record<string, unknown> = {}, chain = new FakeChain()) {
  const dataDir = tempDataDir(name);
  dirs.push(dataDir);
  const gateway = await createGateway(testConfig(dataDir, extra), {
    chain,
    now: () => clock.t,
    timers: false,
    log: () => {},
  });
  gateways.push(gateway);
  return { gateway, chain };
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function upload(gateway: Gateway, owner: TestKey, body: Buffer, time = clock.t) {
  return gateway.app.inject({
    method: 'POST',
    url: '/v1/gateway/uploads',
    headers: uploadHeaders(owner, body, time),
    payload: body,
  });
}

/** Uploads, registers on the fake chain, accepts an agreement: the usual start. */
async function world(
  gateway: Gateway,
  chain: FakeChain,
  policy: Policy,
  size = 3 * chunkBytes + 500,
) {
  const owner = testKey();
  const licensee = testKey();
  const body = crypto.randomBytes(size);
  const uploaded = await upload(gateway, owner, body);
  assert.equal(uploaded.statusCode, 201, uploaded.body);
  const { contentId, publicKey } = uploaded.json<{ contentId: string; publicKey: string }>();
  chain.register({ contentId, owner: owner.address, publicKey, size });
  const agreementId = chain.accept({
    contentId,
    licensee: licensee.address,
    policy,
    acceptedAt: clock.t,
  });
  return { owner, licensee, body, contentId, publicKey, agreementId };
}

async function token(
  gateway: Gateway,
  licensee: TestKey,
  agreementId: string,
  options: { action?: GatewayAction; device?: string; ip?: string } = {},
) {
  return gateway.app.inject({
    method: 'POST',
    url: '/v1/gateway/tokens',
    payload: tokenRequest(licensee, agreementId, clock.t, options.action ?? 'play', options.device),
    remoteAddress: options.ip ?? '127.0.0.1',
  });
}

interface Issued {
  token: string;
  jti: string;
  url: string;
  remaining: number | null;
}

async function fetchContent(
  gateway: Gateway,
  key: TestKey,
  contentId: string,
  issued: Issued,
  range?: string,
  ip = '127.0.0.1',
) {
  const path = `/content/${contentId}`;
  return gateway.app.inject({
    method: 'GET',
    url: path,
    headers: {
      authorization: `Bearer ${issued.token}`,
      'x-coffer-pop': popFor(key, {
        path,
        ...(range ? { range } : {}),
        time: clock.t,
        jti: issued.jti,
      }),
      ...(range ? { range } : {}),
    },
    remoteAddress: ip,
  });
}

const playForever: Policy = { permission: [{ action: 'play' }] };

describe('gateway uploads', () => {
  it('takes a signed upload and answers the contentId and the content key to register', async () => {
    // Two uploads at once from one address (the twins below): the per-address bound allows it.
    const { gateway, chain } = await open('upload', {
      limits: { uploadsInFlightPerAddressMax: 2 },
    });
    const owner = testKey();
    const body = crypto.randomBytes(1000);
    const answer = await upload(gateway, owner, body);
    assert.equal(answer.statusCode, 201);
    const json = answer.json<{
      contentId: string;
      publicKey: string;
      size: number;
      mediaType: string;
    }>();
    assert.equal(json.contentId, crypto.createHash('sha256').update(body).digest('hex'));
    assert.match(json.publicKey, /^[0-9a-f]{64}$/);
    assert.deepEqual([json.size, json.mediaType], [1000, 'video/webm']);
    const again = await upload(gateway, owner, body);
    assert.equal(again.json<{ publicKey: string }>().publicKey, json.publicKey, 'idempotent');
    const other = await upload(gateway, testKey(), body);
    assert.equal(other.json<ErrorBody>().error.code, 'content_exists');
    // Two uploads of the same new bytes at once (the chain slow to answer, so both are past the
    // first check before either stores): both answer the one stored content.
    const content = chain.content.bind(chain);
    chain.content = async (id) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return content(id);
    };
    const twins = crypto.randomBytes(5_000);
    const both = await Promise.all([upload(gateway, owner, twins), upload(gateway, owner, twins)]);
    assert.deepEqual(both.map((answer) => answer.statusCode).sort(), [200, 201]);
    assert.equal(
      both[0].json<{ publicKey: string }>().publicKey,
      both[1].json<{ publicKey: string }>().publicKey,
    );
  });

  it('refuses a forged, stale, oversized or unsigned upload before storing anything', async () => {
    const { gateway } = await open('upload-bad', { uploads: { bytesMax: 2000 } });
    const owner = testKey();
    const body = crypto.randomBytes(1000);
    const forged = await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/uploads',
      headers: { ...uploadHeaders(owner, body, clock.t), 'x-coffer-owner': testKey().address },
      payload: body,
    });
    assert.deepEqual(
      [forged.statusCode, forged.json<ErrorBody>().error.code],
      [401, 'signature_invalid'],
    );
    const stale = await upload(gateway, owner, body, clock.t - 6 * 60_000);
    assert.deepEqual(
      [stale.statusCode, stale.json<ErrorBody>().error.code],
      [401, 'request_stale'],
    );
    const big = crypto.randomBytes(2001);
    const large = await upload(gateway, owner, big);
    assert.deepEqual(
      [large.statusCode, large.json<ErrorBody>().error.code],
      [413, 'upload_too_large'],
    );
    const noOwner = await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/uploads',
      payload: body,
    });
    assert.equal(noOwner.json<ErrorBody>().error.code, 'invalid_request');
    assert.equal(gateway.store.all().length, 0);
  });

  it('bounds pending uploads per owner, in all and in bytes, and deletes expired ones', async () => {
    const { gateway, chain } = await open('pending', {
      uploads: {
        pendingPerOwnerMax: 2,
        pendingTotalMax: 3,
        pendingBytesMax: 10_000,
        pendingExpiryMs: 60_000,
      },
    });
    const alice = testKey();
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await upload(gateway, alice, crypto.randomBytes(100))).statusCode);
    assert.deepEqual(codes, [201, 201, 429]);
    // Fresh keys cost nothing: the total bounds them.
    assert.equal((await upload(gateway, testKey(), crypto.randomBytes(100))).statusCode, 201);
    const crowd = await upload(gateway, testKey(), crypto.randomBytes(100));
    assert.deepEqual(
      [crowd.statusCode, crowd.json<ErrorBody>().error.code],
      [429, 'pending_uploads_exceeded'],
    );
    assert.equal(gateway.store.all().length, 3);
    // Registering one frees its place; the others expire.
    const first = gateway.store.all()[0]!;
    chain.register({
      contentId: first.contentId,
      owner: first.owner,
      publicKey: first.publicKey,
      size: first.size,
    });
    clock.t += 61_000;
    await gateway.sweepUploads();
    assert.deepEqual(
      gateway.store.all().map((m) => [m.contentId, m.registered]),
      [[first.contentId, true]],
    );
    assert.equal(fs.readdirSync(`${gateway.store.dataDir}/content`).length, 1, 'files deleted');
    // Bytes: a body past the pending byte budget is refused before it is read.
    const { gateway: small } = await open('pending-bytes', { uploads: { pendingBytesMax: 1500 } });
    assert.equal((await upload(small, alice, crypto.randomBytes(1000))).statusCode, 201);
    assert.equal((await upload(small, testKey(), crypto.randomBytes(1000))).statusCode, 429);
  });

  it('bounds what one owner stores, registered or not, and what the gateway stores in all', async () => {
    const { gateway, chain } = await open('quota', {
      uploads: { ownerBytesMax: 2_500, storedBytesMax: 4_000 },
    });
    const alice = testKey();
    // Upload, register (a tx costs nothing), upload again: the owner's quota stops the loop.
    for (let i = 0; i < 2; i++) {
      const answer = await upload(gateway, alice, crypto.randomBytes(1_000));
      assert.equal(answer.statusCode, 201);
      const { contentId, publicKey } = answer.json<{ contentId: string; publicKey: string }>();
      chain.register({ contentId, owner: alice.address, publicKey, size: 1_000 });
      await gateway.sweepUploads();
    }
    assert.ok(gateway.store.all().every((meta) => meta.registered));
    const third = await upload(gateway, alice, crypto.randomBytes(1_000));
    assert.deepEqual(
      [third.statusCode, third.json<ErrorBody>().error.code],
      [429, 'storage_quota_exceeded'],
    );
    // Contents are counted too: one-byte contents would otherwise be free.
    const { gateway: counted, chain: countedChain } = await open('quota-count', {
      uploads: { ownerContentsMax: 2 },
    });
    // Distinct one-byte bodies: random ones collide one time in 256, and a second upload of the
    // same bytes answers the stored content instead of storing another.
    for (let i = 0; i < 2; i++) {
      const answer = await upload(counted, alice, Buffer.from([i]));
      assert.equal(answer.statusCode, 201, answer.body);
      const { contentId, publicKey } = answer.json<{ contentId: string; publicKey: string }>();
      countedChain.register({ contentId, owner: alice.address, publicKey, size: 1 });
    }
    await counted.sweepUploads();
    const tiny = await upload(counted, alice, Buffer.from([2]));
    assert.deepEqual(
      [tiny.statusCode, tiny.json<ErrorBody>().error.code],
      [429, 'storage_quota_exceeded'],
    );
    // Fresh keys: the gateway's total stops them.
    assert.equal((await upload(gateway, testKey(), crypto.randomBytes(1_500))).statusCode, 201);
    const full = await upload(gateway, testKey(), crypto.randomBytes(600));
    assert.deepEqual(
      [full.statusCode, full.json<ErrorBody>().error.code],
      [429, 'storage_quota_exceeded'],
    );
  });

  it('takes no upload slot without the owner’s pre-authorisation, and one address holds one', async () => {
    const { gateway } = await open('upload-slots', { limits: { uploadsInFlightMax: 2 } });
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const alice = testKey();
    const length = 1_000_000;
    /** An upload whose body trickles: headers and a first byte, then nothing. */
    const trickle = (headers: Record<string, string>, localAddress: string) => {
      const request = http.request(`${url}/v1/gateway/uploads`, {
        method: 'POST',
        localAddress,
        headers: { ...headers, 'content-length': String(length) },
      });
      const answered = new Promise<number>((resolve) =>
        request.on('response', (response) => {
          response.resume();
          resolve(response.statusCode!);
        }),
      );
      request.on('error', () => undefined);
      request.write(Buffer.alloc(1));
      return { request, answered };
    };
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    // An outsider with no key names alice as the owner: refused before a slot is taken, twice.
    const { 'x-coffer-upload-authorisation': _auth, ...unauthorised } = uploadHeaders(
      alice,
      Buffer.alloc(length),
      clock.t,
    );
    const outsiders = [trickle(unauthorised, '127.0.0.2'), trickle(unauthorised, '127.0.0.3')];
    assert.deepEqual(await Promise.all(outsiders.map((o) => o.answered)), [401, 401]);
    await settle();
    assert.equal(
      (await gateway.app.inject({ url: '/health' })).json<{ uploadsInFlight: number }>()
        .uploadsInFlight,
      0,
    );
    assert.equal((await upload(gateway, alice, crypto.randomBytes(100))).statusCode, 201);
    // A key holder's trickling upload holds one slot, and its address holds no more.
    const slow = trickle(uploadHeaders(alice, Buffer.alloc(length), clock.t), '127.0.0.2');
    await settle();
    assert.equal(
      (await gateway.app.inject({ url: '/health' })).json<{ uploadsInFlight: number }>()
        .uploadsInFlight,
      1,
    );
    const body = Buffer.from(crypto.randomBytes(50).toString('hex')); // ASCII: sent as a string
    const second = await requestFrom(`${url}/v1/gateway/uploads`, '127.0.0.2', {
      method: 'POST',
      headers: uploadHeaders(testKey(), body, clock.t),
      body: body.toString(),
    });
    assert.equal(second.status, 429, second.body.toString());
    assert.equal((JSON.parse(second.body.toString()) as ErrorBody).error.code, 'rate_limited');
    assert.equal((await upload(gateway, testKey(), crypto.randomBytes(100))).statusCode, 201);
    slow.request.destroy();
    for (const outsider of outsiders) outsider.request.destroy();
    await settle();
    assert.equal(
      (await gateway.app.inject({ url: '/health' })).json<{ uploadsInFlight: number }>()
        .uploadsInFlight,
      0,
    );
  });

  it('takes uploads from funded owners only when the operator sets a minimum balance', async () => {
    const chain = new FakeChain();
    const { gateway } = await open(
      'funded',
      { uploads: { minimumBalance: { asset: 'USD', amount: '100' } } },
      chain,
    );
    const fresh = testKey();
    const refused = await upload(gateway, fresh, crypto.randomBytes(10));
    assert.deepEqual(
      [refused.statusCode, refused.json<ErrorBody>().error.code],
      [403, 'owner_unfunded'],
    );
    chain.balances.set(`${fresh.address}/USD`, 100n);
    assert.equal((await upload(gateway, fresh, crypto.randomBytes(10))).statusCode, 201);
  });

  it('takes uploads from the allowed owners only when the operator lists them', async () => {
    const publisher = testKey();
    const { gateway } = await open('allowed', { uploads: { allowedOwners: [publisher.address] } });
    assert.equal((await upload(gateway, publisher, crypto.randomBytes(10))).statusCode, 201);
    const stranger = await upload(gateway, testKey(), crypto.randomBytes(10));
    assert.deepEqual(
      [stranger.statusCode, stranger.json<ErrorBody>().error.code],
      [403, 'owner_not_allowed'],
    );
  });
});

describe('gateway tokens and streaming', () => {
  let gateway: Gateway;
  let chain: FakeChain;
  before(async () => {
    ({ gateway, chain } = await open('stream', {
      territories: [
        { cidr: '127.0.0.2/32', country: 'FR' },
        { cidr: '127.0.0.3/32', country: 'DE' },
      ],
    }));
  });

  it('serves ranges (206), the whole (200) and refuses unsatisfiable ones (416)', async () => {
    const w = await world(gateway, chain, playForever);
    const issued = await token(gateway, w.licensee, w.agreementId);
    assert.equal(issued.statusCode, 201, issued.body);
    const t = issued.json<Issued>();
    const whole = await fetchContent(gateway, w.licensee, w.contentId, t);
    assert.equal(whole.statusCode, 200);
    assert.deepEqual(whole.rawPayload, w.body);
    for (const [a, b] of [
      [0, 0],
      [chunkBytes - 1, chunkBytes],
      [chunkBytes, 2 * chunkBytes - 1],
      [2 * chunkBytes - 3, w.body.length - 1],
    ] as const) {
      const part = await fetchContent(gateway, w.licensee, w.contentId, t, `bytes=${a}-${b}`);
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], `bytes ${a}-${b}/${w.body.length}`);
      assert.deepEqual(part.rawPayload, w.body.subarray(a, b + 1));
    }
    const past = await fetchContent(gateway, w.licensee, w.contentId, t, `bytes=${w.body.length}-`);
    assert.deepEqual(
      [past.statusCode, past.json<ErrorBody>().error.code],
      [416, 'range_not_satisfiable'],
    );
    assert.equal(past.headers['content-range'], `bytes */${w.body.length}`);
  });

  it('refuses to serve a tampered chunk (500 content_corrupt), and serves the intact ones', async () => {
    const w = await world(gateway, chain, playForever);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    const file = gateway.store.chunksFile(w.contentId);
    const sealed = fs.readFileSync(file);
    sealed[2 * (chunkBytes + 16) + 7]! ^= 0x80; // a byte of chunk 2
    fs.writeFileSync(file, sealed);
    const bad = await fetchContent(
      gateway,
      w.licensee,
      w.contentId,
      t,
      `bytes=${2 * chunkBytes}-${2 * chunkBytes + 9}`,
    );
    assert.deepEqual([bad.statusCode, bad.json<ErrorBody>().error.code], [500, 'content_corrupt']);
    const good = await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-99');
    assert.equal(good.statusCode, 206);
    assert.deepEqual(good.rawPayload, w.body.subarray(0, 100));
  });

  it('refuses a token replayed with another key (token_key_mismatch) or a bad proof', async () => {
    const w = await world(gateway, chain, playForever);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    const thief = testKey();
    const stolen = await fetchContent(gateway, thief, w.contentId, t, 'bytes=0-9');
    assert.deepEqual(
      [stolen.statusCode, stolen.json<ErrorBody>().error.code],
      [401, 'token_key_mismatch'],
    );
    // The thief cannot ask for a token of the agreement either.
    const asked = await token(gateway, thief, w.agreementId);
    assert.deepEqual(
      [asked.statusCode, asked.json<ErrorBody>().error.code],
      [401, 'token_key_mismatch'],
    );
    // The licensee's proof for one range does not pass for another, nor after 60 s.
    const path = `/content/${w.contentId}`;
    const mismatched = await gateway.app.inject({
      method: 'GET',
      url: path,
      headers: {
        authorization: `Bearer ${t.token}`,
        'x-coffer-pop': popFor(w.licensee, { path, range: 'bytes=0-9', time: clock.t, jti: t.jti }),
        range: 'bytes=0-99999',
      },
    });
    assert.deepEqual(
      [mismatched.statusCode, mismatched.json<ErrorBody>().error.code],
      [401, 'pop_invalid'],
    );
    const old = await gateway.app.inject({
      method: 'GET',
      url: path,
      headers: {
        authorization: `Bearer ${t.token}`,
        'x-coffer-pop': popFor(w.licensee, { path, time: clock.t - 61_000, jti: t.jti }),
      },
    });
    assert.equal(old.json<ErrorBody>().error.code, 'pop_invalid');
    const none = await gateway.app.inject({ method: 'GET', url: path });
    assert.deepEqual([none.statusCode, none.json<ErrorBody>().error.code], [401, 'token_missing']);
  });

  it('refuses an expired token, a token of another content and a forged one', async () => {
    const w = await world(gateway, chain, playForever);
    const other = await world(gateway, chain, playForever, 100);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    const elsewhere = await fetchContent(gateway, w.licensee, other.contentId, t, 'bytes=0-9');
    assert.deepEqual(
      [elsewhere.statusCode, elsewhere.json<ErrorBody>().error.code],
      [401, 'token_invalid'],
    );
    const [h, p, s] = t.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, act: 'download' })).toString('base64url')}.${s}`;
    const tampered = await fetchContent(gateway, w.licensee, w.contentId, { ...t, token: forged });
    assert.equal(tampered.json<ErrorBody>().error.code, 'token_invalid');
    clock.t += 5 * 60_000 + 1_000;
    const expired = await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-9');
    assert.deepEqual(
      [expired.statusCode, expired.json<ErrorBody>().error.code],
      [401, 'token_expired'],
    );
  });

  it('stops serving an issued token once the chain shows the revocation (next height)', async () => {
    const w = await world(gateway, chain, playForever);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    assert.equal(
      (await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-9')).statusCode,
      206,
    );
    chain.revoke(w.agreementId);
    clock.t += 1;
    const refused = await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-9');
    assert.deepEqual(
      [refused.statusCode, refused.json<ErrorBody>().error.code],
      [403, 'agreement_revoked'],
    );
    assert.equal(
      (await token(gateway, w.licensee, w.agreementId)).json<ErrorBody>().error.code,
      'agreement_revoked',
    );
  });

  it('counts uses at issue: the count runs out, and the counts go to the chain from the content key', async () => {
    const w = await world(gateway, chain, {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 2 }],
        },
      ],
    });
    const first = await token(gateway, w.licensee, w.agreementId);
    assert.equal(first.json<Issued>().remaining, 1);
    clock.t += 1; // another request, another signature
    assert.equal((await token(gateway, w.licensee, w.agreementId)).json<Issued>().remaining, 0);
    clock.t += 1;
    const third = await token(gateway, w.licensee, w.agreementId);
    assert.deepEqual(
      [third.statusCode, third.json<ErrorBody>().error.code],
      [403, 'count_exhausted'],
    );
    await gateway.flushUsage();
    const sent = chain.usageTxs.filter((tx) => tx.agreementId === w.agreementId);
    assert.deepEqual(
      sent.map((tx) => tx.uses),
      [{ play: 2 }],
    );
    assert.equal(sent[0]!.sender, chain.contents.get(w.contentId)!.gateway);
    clock.t += 1;
    assert.equal(
      (await token(gateway, w.licensee, w.agreementId)).json<ErrorBody>().error.code,
      'count_exhausted',
    );
    // A token issued for the last use still serves its bytes.
    const last = await fetchContent(
      gateway,
      w.licensee,
      w.contentId,
      first.json<Issued>(),
      'bytes=0-0',
    );
    assert.equal(last.statusCode, 206);
  });

  it('refuses a replayed token request', async () => {
    const w = await world(gateway, chain, playForever);
    const request = tokenRequest(w.licensee, w.agreementId, clock.t);
    const send = () =>
      gateway.app.inject({ method: 'POST', url: '/v1/gateway/tokens', payload: request });
    assert.equal((await send()).statusCode, 201);
    assert.equal((await send()).json<ErrorBody>().error.code, 'request_replayed');
  });

  it('checks the territory of the client address (sockets bound to 127.0.0.2 and 127.0.0.3)', async () => {
    const w = await world(gateway, chain, {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR'] }],
        },
      ],
    });
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const ask = (ip: string) =>
      requestFrom(`${url}/v1/gateway/tokens`, ip, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tokenRequest(w.licensee, w.agreementId, clock.t++)),
      });
    const french = await ask('127.0.0.2');
    assert.equal(french.status, 201, french.body.toString());
    const german = await ask('127.0.0.3');
    assert.equal(german.status, 403);
    assert.equal(
      (JSON.parse(german.body.toString()) as ErrorBody).error.code,
      'territory_not_allowed',
    );
    assert.equal((await ask('127.0.0.1')).status, 403, 'an address in no block has no territory');
    // URL mode: bound to the address the token was issued to.
    const t = JSON.parse(french.body.toString()) as Issued;
    const link = `${url}${t.url}&pop=${urlPop(w.licensee, `/content/${w.contentId}`, t.jti)}`;
    const played = await requestFrom(link, '127.0.0.2', { headers: { range: 'bytes=0-99' } });
    assert.equal(played.status, 206);
    assert.deepEqual(played.body, w.body.subarray(0, 100));
    const moved = await requestFrom(link, '127.0.0.3', { headers: { range: 'bytes=0-99' } });
    assert.equal(moved.status, 401);
    assert.equal((JSON.parse(moved.body.toString()) as ErrorBody).error.code, 'token_key_mismatch');
    const badPop = await requestFrom(`${url}${t.url}&pop=${'00'.repeat(64)}`, '127.0.0.2', {});
    assert.equal((JSON.parse(badPop.body.toString()) as ErrorBody).error.code, 'pop_invalid');
  });

  it('refuses a token for content that is not registered on chain with its key', async () => {
    const owner = testKey();
    const licensee = testKey();
    const body = crypto.randomBytes(100);
    const { contentId } = (await upload(gateway, owner, body)).json<{ contentId: string }>();
    // Registered with another key (the gateway does not hold its secret): not ours to serve.
    chain.register({ contentId, owner: owner.address, publicKey: testKey().publicKey, size: 100 });
    const agreementId = chain.accept({
      contentId,
      licensee: licensee.address,
      policy: playForever,
      acceptedAt: clock.t,
    });
    const answer = await token(gateway, licensee, agreementId);
    assert.deepEqual(
      [answer.statusCode, answer.json<ErrorBody>().error.code],
      [404, 'content_not_found'],
    );
  });
});

describe('gateway edges', () => {
  it('answers the CORS preflight and takes an upload of any media type (JSON too)', async () => {
    const { gateway } = await open('edges');
    const preflight = await gateway.app.inject({
      method: 'OPTIONS',
      url: '/v1/gateway/tokens',
      headers: { origin: 'http://console.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.match(String(preflight.headers['access-control-allow-headers']), /content-type/);
    const owner = testKey();
    const json = Buffer.from('{"not": "parsed"}');
    const answer = await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/uploads',
      headers: uploadHeaders(owner, json, clock.t, 'application/json'),
      payload: json,
    });
    assert.equal(answer.statusCode, 201, answer.body);
    assert.equal(answer.json<{ mediaType: string }>().mediaType, 'application/json');
  });

  it('limits token requests per client address (a token bucket)', async () => {
    const { gateway, chain } = await open('rate', { limits: { requestsPerMinutePerAddress: 3 } });
    const w = await world(gateway, chain, playForever);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.t += 1;
      codes.push((await token(gateway, w.licensee, w.agreementId, { ip: '10.9.9.9' })).statusCode);
    }
    assert.deepEqual(codes, [201, 201, 201, 429]);
    clock.t += 1;
    assert.equal(
      (await token(gateway, w.licensee, w.agreementId, { ip: '10.9.9.8' })).statusCode,
      201,
    );
    // The clock stepped back an hour (NTP, or a test's clock): 10.9.9.8's bucket keeps what it
    // had (a negative elapsed time used to drain it).
    clock.t -= 3_600_000;
    assert.equal(
      (await token(gateway, w.licensee, w.agreementId, { ip: '10.9.9.8' })).statusCode,
      201,
    );
    // Time goes on: 10.9.9.9's bucket refills.
    clock.t += 3_600_000 + 20_000;
    assert.equal(
      (await token(gateway, w.licensee, w.agreementId, { ip: '10.9.9.9' })).statusCode,
      201,
    );
  });

  it('refuses a sublicence once its parent is revoked (parent_invalid)', async () => {
    const { gateway, chain } = await open('sublicence');
    const w = await world(gateway, chain, {
      permission: [{ action: 'play' }, { action: 'sublicense' }],
    });
    const reseller = testKey();
    const child = chain.accept({
      contentId: w.contentId,
      licensee: reseller.address,
      policy: playForever,
      acceptedAt: clock.t,
      parent: w.agreementId,
    });
    const issued = await token(gateway, reseller, child);
    assert.equal(issued.statusCode, 201, issued.body);
    chain.revoke(w.agreementId);
    clock.t += 1;
    const served = await fetchContent(
      gateway,
      reseller,
      w.contentId,
      issued.json<Issued>(),
      'bytes=0-9',
    );
    assert.deepEqual(
      [served.statusCode, served.json<ErrorBody>().error.code],
      [403, 'parent_invalid'],
    );
  });

  it('gives back the stream slot and closes the chunk file when a client goes mid-stream', async () => {
    const { gateway, chain } = await open('abort', { limits: { streamsInFlightMax: 4 } });
    const w = await world(gateway, chain, playForever, 40 * chunkBytes);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const path = `/content/${w.contentId}`;
    const openFiles = () => fs.readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const request = http.get(
          `${url}${path}`,
          {
            headers: {
              authorization: `Bearer ${t.token}`,
              'x-coffer-pop': popFor(w.licensee, { path, time: clock.t, jti: t.jti }),
            },
          },
          (response) => {
            assert.equal(response.statusCode, 200);
            response.once('data', () => {
              request.destroy();
              resolve();
            });
          },
        );
        request.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
      });
    }
    // More aborted streams than the bound: the slots came back, or the 5th would be refused.
    for (
      let i = 0;
      i < 50 &&
      (await gateway.app.inject({ url: '/health' })).json<{ streamsInFlight: number }>()
        .streamsInFlight > 0;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(
      (await gateway.app.inject({ url: '/health' })).json<{ streamsInFlight: number }>()
        .streamsInFlight,
      0,
    );
    assert.ok(openFiles() <= before + 1, `open files ${before} -> ${openFiles()}`);
    const after = await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-9');
    assert.equal(after.statusCode, 206);
  });

  it('gives back the stream slot and the file when a client resets before the stream starts', async () => {
    // The client goes while the gateway still reads the chain (before the status line): the
    // response's `close` has fired by the time the bytes would start. Each such request used to
    // keep its slot and its chunk file for good; with one slot, the next request was 503 busy.
    const chain = new FakeChain();
    const { gateway } = await open('reset-early', { limits: { streamsInFlightMax: 1 } }, chain);
    const w = await world(gateway, chain, playForever, 8 * chunkBytes);
    const t = (await token(gateway, w.licensee, w.agreementId)).json<Issued>();
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const path = `/content/${w.contentId}`;
    const openFiles = () => fs.readdirSync('/proc/self/fd').length;
    const connections = () =>
      new Promise<number>((resolve, reject) =>
        gateway.app.server.getConnections((error, count) =>
          error ? reject(error) : resolve(count),
        ),
      );
    const agreement = chain.agreement.bind(chain);
    const before = openFiles();
    for (let i = 0; i < 3; i++) {
      let entered!: () => void;
      const reading = new Promise<void>((resolve) => (entered = resolve));
      let resume!: () => void;
      const held = new Promise<void>((resolve) => (resume = resolve));
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      chain.agreement = async (id) => {
        entered();
        await held;
        const found = await agreement(id);
        setTimeout(finished, 20); // the rest of the handler runs meanwhile
        return found;
      };
      const request = http.get(`${url}${path}`, {
        headers: {
          authorization: `Bearer ${t.token}`,
          'x-coffer-pop': popFor(w.licensee, { path, time: clock.t, jti: t.jti }),
        },
      });
      request.on('error', () => undefined); // the reset is the point
      await reading;
      request.destroy();
      for (let j = 0; j < 100 && (await connections()) > 0; j++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(await connections(), 0, 'the server saw the client go');
      resume();
      await done;
      chain.agreement = agreement;
    }
    assert.equal(
      (await gateway.app.inject({ url: '/health' })).json<{ streamsInFlight: number }>()
        .streamsInFlight,
      0,
    );
    assert.ok(openFiles() <= before, `open files ${before} -> ${openFiles()}`);
    const after = await fetchContent(gateway, w.licensee, w.contentId, t, 'bytes=0-9');
    assert.equal(after.statusCode, 206, after.body);
  });

  it('keeps uses the chain refused and sends them again; drops them only for a code that never passes', async () => {
    const chain = new FakeChain();
    const events: { level: string; event: string; code?: string }[] = [];
    const dataDir = tempDataDir('usage-refused');
    dirs.push(dataDir);
    const gateway = await createGateway(testConfig(dataDir), {
      chain,
      now: () => clock.t,
      timers: false,
      log: (level, event, fields = {}) => events.push({ level, event, ...fields }),
    });
    gateways.push(gateway);
    const w = await world(gateway, chain, playForever);
    clock.t += 1;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    // A refusal this gateway does not know: the use stays pending, and goes out again after a
    // wait (one flush, then two, four ...).
    chain.refuseUsage.push('some_future_code');
    await gateway.flushUsage();
    assert.deepEqual(gateway.usage.of(w.agreementId).uses, { play: 1 });
    assert.equal(chain.agreements.get(w.agreementId)!.used.play, undefined);
    await gateway.flushUsage(); // waiting
    assert.equal(chain.usageTxs.filter((tx) => tx.agreementId === w.agreementId).length, 0);
    await gateway.flushUsage();
    assert.equal(chain.agreements.get(w.agreementId)!.used.play, 1);
    assert.equal(gateway.usage.size, 0);
    // Found refused by hash (the answer lost): the same.
    clock.t += 1;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    chain.refuseUsage.push('another_code');
    const submit = chain.submitUsage.bind(chain);
    chain.submitUsage = async (signed) => {
      await submit(signed);
      throw new Error('timeout');
    };
    await gateway.flushUsage();
    chain.submitUsage = submit;
    await gateway.flushUsage(); // asks by hash: failed, kept, waits
    assert.deepEqual(gateway.usage.of(w.agreementId).uses, { play: 1 });
    await gateway.flushUsage();
    assert.equal(chain.agreements.get(w.agreementId)!.used.play, 2);
    // A code that never passes (the key is not the gateway account): dropped, and logged.
    clock.t += 1;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    chain.refuseUsage.push('not_gateway_account');
    await gateway.flushUsage();
    assert.equal(gateway.usage.size, 0);
    assert.ok(
      events.some((e) => e.event === 'usage_dropped' && e.code === 'not_gateway_account'),
      JSON.stringify(events),
    );
  });

  it('counts the last use once when two token requests race for it', async () => {
    const { gateway, chain } = await open('race');
    const w = await world(gateway, chain, {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 1 }],
        },
      ],
    });
    const ask = (time: number) =>
      gateway.app.inject({
        method: 'POST',
        url: '/v1/gateway/tokens',
        payload: tokenRequest(w.licensee, w.agreementId, time),
      });
    const answers = await Promise.all([ask(clock.t + 1), ask(clock.t + 2), ask(clock.t + 3)]);
    assert.deepEqual(
      answers.map((answer) => answer.statusCode).sort(),
      [201, 403, 403],
      answers.map((answer) => `${answer.statusCode}`).join(' '),
    );
    assert.deepEqual(gateway.usage.of(w.agreementId).uses, { play: 1 });
  });

  it('counts a device only for an action whose permission has a deviceCount', async () => {
    const { gateway, chain } = await open('devices');
    const w = await world(gateway, chain, {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'deviceCount', operator: 'lteq', rightOperand: 1 }],
        },
        { action: 'download' },
      ],
    });
    clock.t += 1;
    const download = await token(gateway, w.licensee, w.agreementId, {
      action: 'download',
      device: 'laptop',
    });
    assert.equal(download.statusCode, 201, download.body);
    assert.deepEqual(gateway.usage.of(w.agreementId).devices, []);
    clock.t += 1;
    const play = await token(gateway, w.licensee, w.agreementId, { device: 'tv' });
    assert.equal(play.statusCode, 201, play.body);
    await gateway.flushUsage();
    const sent = chain.usageTxs.filter((tx) => tx.agreementId === w.agreementId);
    assert.deepEqual(
      sent.map((tx) => [tx.uses, tx.devices]),
      [[{ download: 1, play: 1 }, [deviceHash(w.agreementId, 'tv')]]],
    );
    clock.t += 1;
    const phone = await token(gateway, w.licensee, w.agreementId, { device: 'phone' });
    assert.equal(phone.json<ErrorBody>().error.code, 'device_limit_reached');
  });

  it('issues tokens for the actions that give bytes only, with their Content-Disposition', async () => {
    const { gateway, chain } = await open('served-actions');
    const w = await world(gateway, chain, {
      permission: [
        { action: 'play' },
        { action: 'download' },
        { action: 'distribute' },
        {
          action: 'sublicense',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 1 }],
        },
      ],
    });
    for (const action of ['sublicense', 'distribute'] as const) {
      clock.t += 1;
      const refused = await token(gateway, w.licensee, w.agreementId, { action });
      assert.deepEqual(
        [refused.statusCode, refused.json<ErrorBody>().error.code],
        [403, 'action_not_served'],
      );
    }
    // Nothing counted: the sub-offer budget is the licensee's still.
    assert.deepEqual(gateway.usage.of(w.agreementId).uses, {});
    for (const [action, disposition] of [
      ['play', 'inline'],
      ['download', 'attachment'],
    ] as const) {
      clock.t += 1;
      const issued = await token(gateway, w.licensee, w.agreementId, { action });
      assert.equal(issued.statusCode, 201, issued.body);
      const served = await fetchContent(
        gateway,
        w.licensee,
        w.contentId,
        issued.json<Issued>(),
        'bytes=0-9',
      );
      assert.equal(served.statusCode, 206);
      assert.equal(served.headers['content-disposition'], disposition);
    }
  });

  it('remembers only token requests that got a token, and bounds them per licensee key', async () => {
    const { gateway, chain } = await open('replay-fill', {
      limits: { replayEntriesMax: 16, replayEntriesPerLicenseeMax: 3 },
    });
    // A licensee refused (revoked) sends many requests: none is remembered, so the guard does
    // not fill and another licensee still gets tokens.
    const refused = await world(gateway, chain, playForever);
    chain.revoke(refused.agreementId);
    for (let i = 0; i < 20; i++) {
      clock.t += 1;
      const answer = await token(gateway, refused.licensee, refused.agreementId);
      assert.equal(answer.json<ErrorBody>().error.code, 'agreement_revoked');
    }
    const w = await world(gateway, chain, playForever);
    clock.t += 1;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    // A request refused (not valid yet) is not spent: the same one passes once valid.
    const later = await world(gateway, chain, {
      permission: [
        {
          action: 'play',
          constraint: [
            { leftOperand: 'dateTime', operator: 'gteq', rightOperand: clock.t + 60_000 },
          ],
        },
      ],
    });
    const request = tokenRequest(later.licensee, later.agreementId, clock.t);
    const send = () =>
      gateway.app.inject({ method: 'POST', url: '/v1/gateway/tokens', payload: request });
    assert.equal((await send()).json<ErrorBody>().error.code, 'not_yet_valid');
    clock.t += 60_000;
    assert.equal((await send()).statusCode, 201);
    assert.equal((await send()).json<ErrorBody>().error.code, 'request_replayed');
    // One key with a free agreement: at most 3 remembered in 5 minutes, then 429.
    const codes = [];
    for (let i = 0; i < 3; i++) {
      clock.t += 1;
      codes.push((await token(gateway, w.licensee, w.agreementId)).statusCode);
    }
    assert.deepEqual(codes, [201, 201, 429]);
    clock.t += 1;
    const other = await world(gateway, chain, playForever);
    assert.equal((await token(gateway, other.licensee, other.agreementId)).statusCode, 201);
    clock.t += 5 * 60_000 + 10;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
  });

  it('logs a failing flush or sweep of the timers, never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const events: { event: string; reason?: string }[] = [];
      const dataDir = tempDataDir('timers');
      dirs.push(dataDir);
      const gateway = await createGateway(testConfig(dataDir), {
        chain: new FakeChain(),
        now: () => clock.t,
        log: (_level, event, fields = {}) => events.push({ event, ...fields }),
      });
      gateway.usage.flush = () => Promise.reject(new Error('signing key unreadable'));
      gateway.store.all = () => {
        throw new Error('disk gone');
      };
      mock.timers.tick(60_000); // both timers fire (the flush six times)
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      await gateway.close();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
      assert.ok(
        events.some(
          (e) => e.event === 'usage_flush_failed' && e.reason === 'signing key unreadable',
        ),
        JSON.stringify(events),
      );
      assert.ok(
        events.some((e) => e.event === 'sweep_failed' && e.reason === 'disk gone'),
        JSON.stringify(events),
      );
    } finally {
      mock.timers.reset();
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('records each use once when a flush fails before or after the node took it', async () => {
    const chain = new FakeChain();
    const { gateway } = await open('flush-retry', {}, chain);
    const w = await world(gateway, chain, playForever);
    const submit = chain.submitUsage.bind(chain);
    // Lost on the way: the node never saw it; the next flush sends it.
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    chain.submitUsage = () => Promise.reject(new Error('node down'));
    await gateway.flushUsage();
    assert.equal(gateway.usage.size, 1);
    chain.submitUsage = submit;
    await gateway.flushUsage();
    assert.equal(gateway.usage.size, 0);
    assert.equal(chain.agreements.get(w.agreementId)!.used.play, 1);
    // Committed, but the answer was lost: the next flush finds it by hash and sends nothing again.
    clock.t += 1;
    assert.equal((await token(gateway, w.licensee, w.agreementId)).statusCode, 201);
    chain.submitUsage = async (signed) => {
      await submit(signed);
      throw new Error('timeout');
    };
    await gateway.flushUsage();
    chain.submitUsage = submit;
    await gateway.flushUsage();
    await gateway.flushUsage();
    assert.equal(gateway.usage.size, 0);
    assert.equal(chain.agreements.get(w.agreementId)!.used.play, 2);
    assert.equal(chain.usageTxs.filter((tx) => tx.agreementId === w.agreementId).length, 2);
  });
});

describe('gateway codes', () => {
  it('every code the gateway answers with is in docs/licensing-gateway.md', () => {
    const doc = fs.readFileSync(
      new URL('../../../../docs/licensing-gateway.md', import.meta.url),
      'utf8',
    );
    const missing = Object.keys(gatewayErrors).filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
  });
});

describe('gateway property: never a byte that no valid agreement allows', () => {
  it('random policies and request sequences against a reference model', async () => {
    const { gateway, chain } = await open('property', {
      limits: { requestsPerMinutePerAddress: 1_000_000 }, // the rate limit is not the subject
      territories: [
        { cidr: '10.0.0.0/8', country: 'FR' },
        { cidr: '172.16.0.0/12', country: 'DE' },
      ],
    });
    const ips = { FR: '10.1.2.3', DE: '172.16.0.9', none: '192.168.1.1' } as const;
    const size = 2 * chunkBytes + 10;
    const owner = testKey();
    const body = crypto.randomBytes(size);
    const { contentId, publicKey } = (await upload(gateway, owner, body)).json<{
      contentId: string;
      publicKey: string;
    }>();
    chain.register({ contentId, owner: owner.address, publicKey, size });

    const policyArb = fc.record({
      count: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      spatial: fc.option(fc.subarray(['FR', 'DE'], { minLength: 1 }), { nil: undefined }),
      endsAfterMs: fc.option(fc.integer({ min: 60_000, max: 20 * 60_000 }), { nil: undefined }),
      startsAfterMs: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * 60_000 }) },
      ),
      downloadProhibited: fc.boolean(),
      downloadPermitted: fc.boolean(),
      deviceCount: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    });
    const where = fc.constantFrom('FR', 'FR', 'DE', 'none');
    const opArb = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('token' as const),
          action: fc.constantFrom('play' as const, 'play' as const, 'download' as const),
          where,
          device: fc.option(fc.constantFrom('tv', 'phone', 'laptop'), { nil: undefined, freq: 8 }),
        }),
      },
      {
        weight: 12,
        arbitrary: fc.record({
          kind: fc.constant('get' as const),
          which: fc.nat(10),
          where,
          start: fc.nat(size + 5),
          length: fc.integer({ min: 1, max: chunkBytes + 5 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('wait' as const),
          ms: fc.integer({ min: 1, max: 150_000 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
    );

    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(opArb, { minLength: 8, maxLength: 30 }),
        async (p, ops) => {
          const licensee = testKey();
          const acceptedAt = clock.t;
          const playConstraints: NonNullable<Policy['permission'][number]['constraint']> = [];
          if (p.count !== undefined)
            playConstraints.push({ leftOperand: 'count', operator: 'lteq', rightOperand: p.count });
          if (p.spatial !== undefined)
            playConstraints.push({
              leftOperand: 'spatial',
              operator: 'isAnyOf',
              rightOperand: p.spatial,
            });
          if (p.endsAfterMs !== undefined)
            playConstraints.push({
              leftOperand: 'dateTime',
              operator: 'lt',
              rightOperand: acceptedAt + p.endsAfterMs,
            });
          if (p.deviceCount !== undefined)
            playConstraints.push({
              leftOperand: 'deviceCount',
              operator: 'lteq',
              rightOperand: p.deviceCount,
            });
          if (p.startsAfterMs !== undefined)
            playConstraints.push({
              leftOperand: 'dateTime',
              operator: 'gteq',
              rightOperand: acceptedAt + p.startsAfterMs,
            });
          const permitted = p.downloadPermitted && !p.downloadProhibited;
          const policy: Policy = {
            permission: [
              { action: 'play', constraint: playConstraints },
              ...(permitted ? [{ action: 'download' as const, constraint: playConstraints }] : []),
            ],
            ...(p.downloadProhibited ? { prohibition: [{ action: 'download' as const }] } : {}),
          };
          const agreementId = chain.accept({
            contentId,
            licensee: licensee.address,
            policy,
            acceptedAt,
          });
          // The reference model: what the licence allows, from the generated terms alone.
          const model = {
            revoked: false,
            issued: { play: 0, download: 0 },
            devices: new Set<string>(),
          };
          const inWindow = () =>
            (p.startsAfterMs === undefined || clock.t >= acceptedAt + p.startsAfterMs) &&
            (p.endsAfterMs === undefined || clock.t < acceptedAt + p.endsAfterMs);
          const inTerritory = (where: string) =>
            p.spatial === undefined || p.spatial.includes(where);
          const allowsAction = (action: 'play' | 'download') => action === 'play' || permitted;
          const tokens: {
            issued: Issued;
            action: 'play' | 'download';
            expiresAt: number;
            ip: string;
          }[] = [];

          for (const op of ops) {
            if (op.kind === 'wait') clock.t += op.ms;
            else if (op.kind === 'revoke') {
              chain.revoke(agreementId);
              model.revoked = true;
            } else if (op.kind === 'flush') await gateway.flushUsage();
            else if (op.kind === 'token') {
              clock.t += 1;
              const answer = await token(gateway, licensee, agreementId, {
                action: op.action,
                ip: ips[op.where],
                ...(op.device === undefined ? {} : { device: op.device }),
              });
              const devicesAllow =
                p.deviceCount === undefined ||
                (op.device !== undefined &&
                  (model.devices.has(op.device) || model.devices.size < p.deviceCount));
              const allowed =
                !model.revoked &&
                allowsAction(op.action) &&
                inWindow() &&
                inTerritory(op.where) &&
                devicesAllow &&
                (p.count === undefined || model.issued[op.action] < p.count);
              assert.equal(
                answer.statusCode === 201,
                allowed,
                `token ${JSON.stringify(op)}: ${answer.body}`,
              );
              if (allowed) {
                model.issued[op.action]++;
                if (op.device !== undefined) model.devices.add(op.device);
                tokens.push({
                  issued: answer.json<Issued>(),
                  action: op.action,
                  expiresAt: clock.t + 300_000,
                  ip: ips[op.where],
                });
              }
            } else {
              const held = tokens[op.which % Math.max(1, tokens.length)];
              if (!held) continue;
              const startByte = Math.min(op.start, size + 2);
              const range = `bytes=${startByte}-${startByte + op.length - 1}`;
              const answer = await fetchContent(
                gateway,
                licensee,
                contentId,
                held.issued,
                range,
                ips[op.where],
              );
              const valid =
                !model.revoked &&
                Math.floor(clock.t / 1000) < Math.floor(held.expiresAt / 1000) &&
                inWindow() &&
                inTerritory(op.where);
              if (answer.statusCode === 206 || answer.statusCode === 200) {
                assert.ok(
                  valid,
                  `served bytes no valid agreement allows: ${JSON.stringify({ p, op })}`,
                );
                const end = Math.min(startByte + op.length - 1, size - 1);
                assert.deepEqual(answer.rawPayload, body.subarray(startByte, end + 1));
              } else if (valid && startByte < size) {
                assert.fail(`refused a valid request: ${answer.body}`);
              }
            }
          }
          // Never more uses counted (on chain and pending) than the licence allows.
          await gateway.flushUsage();
          const used = chain.agreements.get(agreementId)!.used;
          if (p.count !== undefined)
            assert.ok((used.play ?? 0) <= p.count && (used.download ?? 0) <= p.count);
          assert.deepEqual({ play: used.play ?? 0, download: used.download ?? 0 }, model.issued);
        },
      ),
      { numRuns: 100 },
    );
    // The runs did reach both sides: bytes served and requests refused.
    assert.ok(gateway.stats.servedRequests > 40, `served ${JSON.stringify(gateway.stats)}`);
    assert.ok(gateway.stats.tokens > 30, `tokens ${gateway.stats.tokens}`);
    assert.ok(gateway.stats.refused > 40, `refused ${gateway.stats.refused}`);
  });
});
