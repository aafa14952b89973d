import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { rejection, startTestNode, type TestNode } from '../../../../test/support/test-node.js';
import { generateKey, type SigningKey } from '../../../sdk/index.js';
import { publicKeyFromAddress, toHex } from '../../../crypto/index.js';
import { licensingTxBuilders, type AgreementView } from '../client.js';
import type { Policy } from '../policy.js';
import { createGateway, type Gateway } from './server.js';
import { chunkBytes } from './storage.js';
import {
  popFor,
  tempDataDir,
  testConfig,
  tokenRequest,
  uploadHeaders,
  type TestKey,
} from './fixture.js';

/*
 * The gateway against a real node in this process (5 ms blocks while txs wait): the content is
 * registered, offered and bought by txs; the gateway reads the agreement from the node's routes
 * on every request, stops serving at the block that revokes it, refuses the use past the count,
 * and records the uses it served as `licence.usage` txs from the content's gateway account.
 */

const asTestKey = (key: SigningKey): TestKey => ({
  address: key.address,
  secretKey: key.secretKey,
  publicKey: toHex(publicKeyFromAddress(key.address)),
});

interface ErrorBody {
  error: { code: string };
}
interface Issued {
  token: string;
  jti: string;
}

describe('content gateway against a node', () => {
  let t: TestNode;
  let gateway: Gateway;
  let dataDir: string;
  const owner = generateKey();
  const licensee = generateKey();
  const body = crypto.randomBytes(2 * chunkBytes + 123);
  let contentId: string;

  before(async () => {
    t = await startTestNode('licensing-gateway');
    dataDir = tempDataDir('node');
    // heightFreshMs 0: every request asks the node's height, so "within one block" is exact here.
    gateway = await createGateway(
      testConfig(dataDir, { node: { url: t.url }, limits: { heightFreshMs: 0 } }),
      { timers: false, log: () => {} },
    );
    const uploaded = await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/uploads',
      headers: uploadHeaders(asTestKey(owner), body, Date.now()),
      payload: body,
    });
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const answer = uploaded.json<{
      contentId: string;
      publicKey: string;
      proof: string;
      size: number;
    }>();
    contentId = answer.contentId;
    // A front-runner copying the owner's register tx (its proof names the owner) is refused.
    const copied = await rejection(
      t.client.send(
        generateKey(),
        licensingTxBuilders.register({
          contentId: answer.contentId,
          title: 'Squatted',
          mediaType: 'video/webm',
          size: answer.size,
          publicKey: answer.publicKey,
          proof: answer.proof,
        }),
      ),
    );
    assert.equal(copied.code, 'registration_proof_invalid');
    const registered = await t.client.send(
      owner,
      licensingTxBuilders.register({
        contentId,
        title: 'A short film',
        mediaType: 'video/webm',
        size: answer.size,
        publicKey: answer.publicKey,
        proof: answer.proof,
      }),
    );
    assert.equal(registered.status, 'ok', JSON.stringify(registered));
  });

  after(async () => {
    await gateway?.close();
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function buy(offerId: string, policy: Policy): Promise<string> {
    const offered = await t.client.send(
      owner,
      licensingTxBuilders.offer(contentId, offerId, policy),
    );
    assert.equal(offered.status, 'ok', JSON.stringify(offered));
    const accepted = await t.client.send(licensee, licensingTxBuilders.accept(contentId, offerId));
    assert.equal(accepted.status, 'ok', JSON.stringify(accepted));
    return accepted.hash;
  }

  let requestTime = Date.now();
  const askToken = (agreementId: string) =>
    gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/tokens',
      payload: tokenRequest(asTestKey(licensee), agreementId, Math.max(Date.now(), ++requestTime)),
    });
  const get = (issued: Issued, range: string) => {
    const path = `/content/${contentId}`;
    return gateway.app.inject({
      method: 'GET',
      url: path,
      headers: {
        authorization: `Bearer ${issued.token}`,
        'x-coffer-pop': popFor(asTestKey(licensee), {
          path,
          range,
          time: Date.now(),
          jti: issued.jti,
        }),
        range,
      },
    });
  };
  const agreementOnChain = async (agreementId: string) =>
    (await (
      await fetch(`${t.url}/v1/licensing/agreements/${agreementId}`)
    ).json()) as AgreementView;

  it('streams a bought licence, then stops at the block that revokes it', async () => {
    const agreementId = await buy('forever', { permission: [{ action: 'play' }] });
    const issued = (await askToken(agreementId)).json<Issued>();
    const range = `bytes=${chunkBytes - 5}-${chunkBytes + 5}`;
    const served = await get(issued, range);
    assert.equal(served.statusCode, 206, served.body);
    assert.deepEqual(served.rawPayload, body.subarray(chunkBytes - 5, chunkBytes + 6));

    const revoked = await t.client.send(
      owner,
      licensingTxBuilders.revoke(agreementId, 'licence breached'),
    );
    assert.equal(revoked.status, 'ok');
    // The very next request, once the revoking block is committed, is refused.
    const refused = await get(issued, range);
    assert.deepEqual(
      [refused.statusCode, refused.json<ErrorBody>().error.code],
      [403, 'agreement_revoked'],
    );
    const again = await askToken(agreementId);
    assert.equal(again.json<ErrorBody>().error.code, 'agreement_revoked');
    // The use served before the revocation is still recorded.
    await gateway.flushUsage();
    assert.equal((await agreementOnChain(agreementId)).agreement.used.play, 1);
  });

  it('refuses the use past the count, and records the uses from the content’s gateway account', async () => {
    const agreementId = await buy('three-plays', {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 3 }],
        },
      ],
    });
    assert.equal((await askToken(agreementId)).statusCode, 201);
    await gateway.flushUsage();
    const view = await agreementOnChain(agreementId);
    assert.equal(view.agreement.used.play, 1);
    assert.equal((await askToken(agreementId)).statusCode, 201);
    const last = await askToken(agreementId);
    assert.equal(last.statusCode, 201);
    const refused = await askToken(agreementId);
    assert.deepEqual(
      [refused.statusCode, refused.json<ErrorBody>().error.code],
      [403, 'count_exhausted'],
    );
    await gateway.flushUsage();
    assert.equal((await agreementOnChain(agreementId)).agreement.used.play, 3);
    // Only the content's gateway account may send licence.usage: its txs are in the node.
    const content = (await (await fetch(`${t.url}/v1/licensing/content/${contentId}`)).json()) as {
      content: { gateway: string };
    };
    const account = (await (
      await fetch(`${t.url}/v1/accounts/${content.content.gateway}`)
    ).json()) as {
      nonce: number;
    };
    assert.equal(account.nonce, 3, 'three licence.usage txs: one per agreement per flush');
    assert.equal((await askToken(agreementId)).json<ErrorBody>().error.code, 'count_exhausted');
    // The token of the last use still serves.
    assert.equal((await get(last.json<Issued>(), 'bytes=0-0')).statusCode, 206);
  });

  it('reads balances for the upload gate: the dev account is funded, a fresh key is not', async () => {
    assert.ok((await gateway.chain.balance(t.dev.address, 'USD')) > 0n);
    assert.equal(await gateway.chain.balance(generateKey().address, 'USD'), 0n);
  });

  it('refuses a licence whose time is over (elapsedTime) and one not accepted', async () => {
    const agreementId = await buy('short', {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: 60_000 }],
        },
      ],
    });
    assert.equal((await askToken(agreementId)).statusCode, 201);
    const unknown = await askToken('ab'.repeat(32));
    assert.deepEqual(
      [unknown.statusCode, unknown.json<ErrorBody>().error.code],
      [404, 'agreement_not_found'],
    );
    const expiresAt = (await agreementOnChain(agreementId)).agreement.expiresAt!;
    assert.ok(expiresAt > Date.now());
    const later = await createGateway(testConfig(dataDir, { node: { url: t.url } }), {
      now: () => expiresAt,
      timers: false,
      log: () => {},
    });
    try {
      const answer = await later.app.inject({
        method: 'POST',
        url: '/v1/gateway/tokens',
        payload: tokenRequest(asTestKey(licensee), agreementId, expiresAt),
      });
      assert.deepEqual(
        [answer.statusCode, answer.json<ErrorBody>().error.code],
        [403, 'agreement_expired'],
      );
    } finally {
      await later.app.close();
    }
  });
});
