// Content licensing end to end, as issue 21 asks: a node and the content gateway over real
// sockets (both in this process, so the gateway's clock can be moved past an expiry). A creator
// uploads a WebM made by headless Chromium to the gateway (stored encrypted) and registers it with
// the content key the gateway made; the rights pass creator -> publisher -> distributor; the
// distributor offers licences; a buyer pays (the price splits along the chain of title to the
// unit) and streams with ranges (each 206 equals the original's slice, across chunk edges).
// Refused: an expired, a revoked, an exhausted and a wrong-territory licence, a token replayed by
// another key, a sublicence offered beyond its parent's rights. `coffer verify title` passes.
// (The video is recorded by test/support/webm.ts through support/chromium.js.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { createCli } from '../src/cli/app.js';
import type { CliIo } from '../src/cli/terminal.js';
import { licensingTxBuilders, type Policy } from '../src/modules/licensing/client.js';
import { parseGatewayConfig } from '../src/modules/licensing/gateway/config.js';
import {
  popFor,
  requestFrom,
  tempDataDir,
  testKey,
  tokenRequest,
  uploadHeaders,
  urlPop,
  type TestKey,
} from '../src/modules/licensing/gateway/fixture.js';
import { startGateway, type RunningGateway } from '../src/modules/licensing/gateway/server.js';
import { txs, type SigningKey } from '../src/sdk/index.js';
import { rejection, startTestNode, type TestNode } from './support/test-node.js';
import { makeWebm } from './support/webm.js';

const suiteTimeoutMs = 90_000;
const price = 1999n;

describe(
  'content licensing end to end: node, gateway, chain of title',
  { timeout: suiteTimeoutMs },
  () => {
    let t: TestNode;
    let gateway: RunningGateway;
    let gatewayDir: string;
    let video: Uint8Array;
    let contentId = '';
    /** The gateway's clock runs this far ahead of the wall clock (an expiry test moves it). */
    let skewMs = 0;
    const gatewayNow = () => Date.now() + skewMs;

    const creator = testKey();
    const publisher = testKey();
    const distributor = testKey();
    const buyer = testKey();
    const eve = testKey();
    const reseller = testKey();

    const send = async (
      key: SigningKey,
      tx: { type: string; payload: Record<string, unknown> },
    ) => {
      const result = await t.client.send(key, tx);
      assert.equal(result.status, 'ok', `${tx.type}: ${result.status}`);
      return result.hash;
    };
    const balance = async (key: TestKey) =>
      BigInt(
        (await t.client.getAccount(key.address)).balances.find((b) => b.asset === 'USD')?.balance ??
          '0',
      );

    async function offer(id: string, policy: Policy, from = distributor, parent?: string) {
      await send(from, licensingTxBuilders.offer(contentId, id, policy, parent));
    }
    async function buy(id: string, key = buyer, maxAmount?: string): Promise<string> {
      return send(key, licensingTxBuilders.accept(contentId, id, maxAmount));
    }

    /** Asks for a token from `from` (127.0.0.x: the territory map says where that is). */
    async function token(
      key: TestKey,
      agreementId: string,
      options: { from?: string; device?: string } = {},
    ) {
      const answer = await requestFrom(
        `${gateway.url}/v1/gateway/tokens`,
        options.from ?? '127.0.0.1',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(
            tokenRequest(key, agreementId, gatewayNow(), 'play', options.device),
          ),
        },
      );
      return {
        status: answer.status,
        body: JSON.parse(answer.body.toString()) as {
          token?: string;
          jti?: string;
          url?: string;
          remaining?: number | null;
          error?: { code: string };
        },
      };
    }

    /** A header-mode request for bytes, the proof of possession signed by `key`. */
    async function fetchBytes(
      key: TestKey,
      issued: { token?: string; jti?: string },
      range?: string,
    ) {
      const path = `/content/${contentId}`;
      const headers: Record<string, string> = {
        authorization: `Bearer ${issued.token!}`,
        'x-coffer-pop': popFor(key, {
          path,
          ...(range === undefined ? {} : { range }),
          time: gatewayNow(),
          jti: issued.jti!,
        }),
      };
      if (range !== undefined) headers.range = range;
      return requestFrom(`${gateway.url}${path}`, '127.0.0.1', { headers });
    }

    const errorOf = (body: Buffer) =>
      (JSON.parse(body.toString()) as { error: { code: string } }).error.code;

    before(async () => {
      [t, video] = await Promise.all([
        startTestNode('licensing-e2e'),
        makeWebm({ durationMs: 1_500 }),
      ]);
      gatewayDir = tempDataDir('e2e');
      gateway = await startGateway(
        parseGatewayConfig({
          node: { url: t.url },
          dataDir: gatewayDir,
          http: { host: '127.0.0.1', port: 0 },
          // 127.0.0.1 is in France, 127.0.0.2 in the United States.
          // The node here cuts a block every 5 ms: the gateway asks its height on every request, so
          // "within one block" is checked right after the revoking tx commits.
          limits: { heightFreshMs: 0 },
          territories: [
            { cidr: '127.0.0.1/32', country: 'FR' },
            { cidr: '127.0.0.2/32', country: 'US' },
          ],
        }),
        { now: gatewayNow, timers: false },
      );
      for (const key of [buyer, eve, reseller]) {
        await send(t.dev, txs.transfer({ to: key.address, asset: 'USD', amount: '100000' }));
      }
    });

    after(async () => {
      await gateway?.close();
      await t?.close();
      if (gatewayDir) fs.rmSync(gatewayDir, { recursive: true, force: true });
    });

    it('uploads a video encrypted, registers it and passes the rights creator -> publisher -> distributor', async () => {
      const upload = await fetch(`${gateway.url}/v1/gateway/uploads`, {
        method: 'POST',
        headers: uploadHeaders(creator, video, gatewayNow()),
        body: video,
      });
      assert.equal(upload.status, 201, await upload.clone().text());
      const uploaded = (await upload.json()) as {
        contentId: string;
        publicKey: string;
        proof: string;
        size: number;
      };
      contentId = createHash('sha256').update(video).digest('hex');
      assert.equal(uploaded.contentId, contentId);
      assert.equal(uploaded.size, video.length);
      // Never in clear at rest: no file of the gateway's holds the video's first 4 KiB.
      const head = Buffer.from(video.subarray(0, 4096));
      const files = fs.readdirSync(gatewayDir, { recursive: true, withFileTypes: true });
      for (const f of files.filter((f) => f.isFile())) {
        const bytes = fs.readFileSync(`${f.parentPath}/${f.name}`);
        assert.equal(bytes.indexOf(head), -1, `${f.name} holds the video in clear`);
      }
      await send(
        creator,
        licensingTxBuilders.register({
          contentId,
          title: 'Canvas, a short film',
          mediaType: 'video/webm',
          size: video.length,
          publicKey: uploaded.publicKey,
          proof: uploaded.proof,
        }),
      );
      await send(creator, licensingTxBuilders.assign(contentId, publisher.address, 1_000, 1));
      await send(publisher, licensingTxBuilders.assign(contentId, distributor.address, 500, 2));
      const view = await t.client.licensing.content(contentId);
      assert.deepEqual(
        [view.content.owner, view.content.holder, view.content.titleLength],
        [creator.address, distributor.address, 2],
      );
    });

    let agreementId = '';

    it('sells a licence: the price splits along the three-step chain of title to the unit', async () => {
      await offer('rent-fr', {
        permission: [
          {
            action: 'play',
            constraint: [
              { leftOperand: 'count', operator: 'lteq', rightOperand: 3 },
              { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'BE'] },
            ],
          },
        ],
        duty: [{ action: 'compensate', payAmount: String(price), unit: 'USD' }],
      });
      const before = await Promise.all([creator, publisher, distributor, buyer].map(balance));
      // The buyer's ceiling below the price: refused, nothing paid.
      const low = await rejection(buy('rent-fr', buyer, '1998'));
      assert.ok(low.code !== 'ok');
      agreementId = await buy('rent-fr', buyer, String(price));
      const afterwards = await Promise.all([creator, publisher, distributor, buyer].map(balance));
      const delta = afterwards.map((b, i) => b - before[i]!);
      // 10% of 1999 is 199.9 and 5% is 99.95: floors 199 and 99, and the one unit left of the title
      // shares (299 of 299.85) goes to the larger remainder; the offerer gets the rest.
      assert.deepEqual(delta, [199n, 100n, 1700n, -price]);
      assert.equal(
        delta.reduce((a, b) => a + b, 0n),
        0n,
      );
      const { agreement } = await t.client.licensing.agreement(agreementId);
      assert.deepEqual(
        agreement.paid?.splits.map((s) => [s.to, s.amount]),
        [
          [creator.address, '199'],
          [publisher.address, '100'],
          [distributor.address, '1700'],
        ],
      );
    });

    it('streams with ranges: each 206 is the original slice, also across chunk edges', async () => {
      const issued = await token(buyer, agreementId);
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
      assert.equal(issued.body.remaining, 2);
      const size = video.length;
      const cases: [range: string, from: number, to: number][] = [
        ['bytes=0-99', 0, 99],
        ['bytes=65500-65600', 65_500, 65_600],
        ['bytes=1000-140000', 1_000, Math.min(140_000, size - 1)],
        [`bytes=${size - 10}-`, size - 10, size - 1],
        ['bytes=-100', size - 100, size - 1],
      ];
      for (const [range, from, to] of cases) {
        const answer = await fetchBytes(buyer, issued.body, range);
        assert.equal(answer.status, 206, `${range}: ${answer.body.toString().slice(0, 200)}`);
        assert.equal(answer.headers['content-range'], `bytes ${from}-${to}/${size}`);
        assert.ok(answer.body.equals(Buffer.from(video.subarray(from, to + 1))), `${range} bytes`);
      }
      const whole = await fetchBytes(buyer, issued.body);
      assert.equal(whole.status, 200);
      assert.ok(whole.body.equals(Buffer.from(video)));
      const beyond = await fetchBytes(buyer, issued.body, `bytes=${size}-`);
      assert.equal(beyond.status, 416);

      // URL mode (a <video src>): the token and the licensee's signature over the path and jti.
      const url = `${gateway.url}${issued.body.url!}&pop=${urlPop(buyer, `/content/${contentId}`, issued.body.jti!)}`;
      const viaUrl = await requestFrom(url, '127.0.0.1', { headers: { range: 'bytes=0-9' } });
      assert.equal(viaUrl.status, 206);
      assert.ok(viaUrl.body.equals(Buffer.from(video.subarray(0, 10))));
    });

    it('refuses a token replayed by another key, and a request with no token', async () => {
      const issued = await token(buyer, agreementId);
      assert.equal(issued.status, 201);
      // Eve holds the buyer's token and signs the proof of possession with her own key.
      const replayed = await fetchBytes(eve, issued.body, 'bytes=0-9');
      assert.equal(replayed.status, 401);
      assert.equal(errorOf(replayed.body), 'token_key_mismatch');
      // Nor may she ask for a token for the buyer's agreement.
      const asked = await token(eve, agreementId);
      assert.equal(asked.status === 401 || asked.status === 403, true, JSON.stringify(asked.body));
      const none = await requestFrom(`${gateway.url}/content/${contentId}`, '127.0.0.1', {});
      assert.equal(none.status, 401);
      assert.equal(errorOf(none.body), 'token_missing');
    });

    it('refuses an exhausted licence, and counts the plays on the chain', async () => {
      // Three plays allowed: two tokens so far, one more, then none.
      const third = await token(buyer, agreementId);
      assert.equal(third.status, 201);
      assert.equal(third.body.remaining, 0);
      const fourth = await token(buyer, agreementId);
      assert.equal(fourth.status, 403);
      assert.equal(fourth.body.error?.code, 'count_exhausted');
      await gateway.gateway.flushUsage();
      const { agreement } = await t.client.licensing.agreement(agreementId);
      assert.equal(agreement.used.play, 3);
    });

    it('refuses a licence in the wrong territory', async () => {
      const second = await buy('rent-fr', eve);
      const fromUs = await token(eve, second, { from: '127.0.0.2' });
      assert.equal(fromUs.status, 403);
      assert.equal(fromUs.body.error?.code, 'territory_not_allowed');
      const fromFr = await token(eve, second, { from: '127.0.0.1' });
      assert.equal(fromFr.status, 201);
    });

    it('stops a revoked licence within one block, even for a token issued before', async () => {
      await offer('rent-open', { permission: [{ action: 'play' }] });
      const id = await buy('rent-open');
      const issued = await token(buyer, id);
      assert.equal(issued.status, 201);
      assert.equal((await fetchBytes(buyer, issued.body, 'bytes=0-9')).status, 206);
      await send(distributor, licensingTxBuilders.revoke(id, 'refunded'));
      const after = await fetchBytes(buyer, issued.body, 'bytes=0-9');
      assert.equal(after.status, 403);
      assert.equal(errorOf(after.body), 'agreement_revoked');
      const again = await token(buyer, id);
      assert.equal(again.body.error?.code, 'agreement_revoked');
    });

    it('refuses an expired licence', async () => {
      await offer('rent-hour', {
        permission: [
          {
            action: 'play',
            constraint: [{ leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: 3_600_000 }],
          },
        ],
      });
      const id = await buy('rent-hour');
      const issued = await token(buyer, id);
      assert.equal(issued.status, 201);
      // The gateway's clock two hours on (its own wall clock decides expiry).
      skewMs = 2 * 3_600_000;
      try {
        const late = await token(buyer, id);
        assert.equal(late.status, 403);
        assert.equal(late.body.error?.code, 'agreement_expired');
      } finally {
        skewMs = 0;
      }
    });

    it('refuses a sublicence beyond its parent rights, takes one within them', async () => {
      await offer('resale', {
        permission: [
          {
            action: 'play',
            constraint: [
              { leftOperand: 'count', operator: 'lteq', rightOperand: 10 },
              { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR'] },
            ],
          },
          { action: 'sublicense' },
        ],
      });
      const parent = await buy('resale', reseller);
      const beyond = await rejection(
        offer(
          'sub-wide',
          {
            permission: [
              {
                action: 'play',
                constraint: [
                  { leftOperand: 'count', operator: 'lteq', rightOperand: 10 },
                  { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'US'] },
                ],
              },
            ],
          },
          reseller,
          parent,
        ),
      );
      assert.equal(beyond.txStatus ?? beyond.code, 'exceeds_parent');
      await offer(
        'sub-fr',
        {
          permission: [
            {
              action: 'play',
              constraint: [
                { leftOperand: 'count', operator: 'lteq', rightOperand: 2 },
                { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR'] },
              ],
            },
          ],
        },
        reseller,
        parent,
      );
      const sub = await buy('sub-fr', eve);
      const issued = await token(eve, sub);
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
      // The parent revoked: its sublicence stops too.
      await send(distributor, licensingTxBuilders.revoke(parent, 'resale ended'));
      const orphan = await token(eve, sub);
      assert.equal(orphan.status, 403);
      assert.equal(orphan.body.error?.code, 'parent_invalid');
    });

    it('coffer verify title checks the chain of title', async () => {
      const cli = createCli();
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
      const code = await cli.run(['verify', 'title', contentId, '--node', t.url], io);
      assert.equal(code, 0, err);
      assert.match(
        out,
        /^ok: as of height \d+, content [0-9a-f]{64} was registered by its owner and passed through 2 assignments/,
      );
      assert.ok(out.includes(distributor.address));
    });
  },
);
