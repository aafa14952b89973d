import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { fromHex, keyPairFromSecret, sha256Hex, sign, toHex, utf8 } from '../../crypto/index.js';
import { CofferError, type CofferClient } from '../../sdk/client.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { trustFromProducers, verifyTxInclusion } from '../../sdk/verify.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { licensingTxBuilders as build } from './client.js';
import type { Policy } from './policy.js';
import { registrationMessage } from './schema.js';

/*
 * The licensing routes on a node in this process, through the SDK: the catalogue, a content with
 * its offers, an offer and an agreement with their ODRL, a licensee's agreements, a holder's
 * content, a content's agreements, and the chain of title whose txs verify offline with their
 * Merkle proofs; the error codes and statuses of bad and unknown ids; a refused accept over HTTP.
 */

let testNode: TestNode;
let client: CofferClient;
let dev: SigningKey;
const creator = generateKey();
const publisher = generateKey();
const buyer = generateKey();
const gatewayKey = generateKey();
const contentId = sha256Hex(utf8('routes film'));
let agreementId: string;

const policy: Policy = {
  permission: [
    { action: 'play', constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 5 }] },
  ],
  duty: [{ action: 'compensate', payAmount: '1000', unit: 'USD' }],
};

async function send(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
  const result = await client.send(key, tx, { wait: 'commit' });
  return result;
}

async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
  const result = await send(key, tx);
  assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  return result.hash;
}

async function codeOf(promise: Promise<unknown>): Promise<[string, number]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CofferError);
    return [error.code, error.status];
  }
  assert.fail('expected a CofferError');
}

before(async () => {
  testNode = await startTestNode('licensing-routes');
  ({ client, dev } = testNode);
  await ok(dev, {
    type: 'ledger.transfer',
    payload: { to: buyer.address, asset: 'USD', amount: '50000' },
  });
  const { chainId } = await client.health();
  const gatewaySecret = fromHex(gatewayKey.secretKey);
  const proof = toHex(
    sign(registrationMessage(chainId, contentId, creator.address), gatewaySecret),
  );
  await ok(
    creator,
    build.register({
      contentId,
      title: 'Routes film',
      mediaType: 'video/webm',
      size: 4096,
      publicKey: toHex(keyPairFromSecret(gatewaySecret).publicKey),
      proof,
    }),
  );
  await ok(creator, build.assign(contentId, publisher.address, 1500, 1));
  await ok(publisher, build.offer(contentId, 'standard', policy));
  agreementId = await ok(buyer, build.accept(contentId, 'standard', '1000'));
});

after(async () => {
  await testNode.close();
});

describe('licensing routes', () => {
  it('the catalogue and a content with its open offers', async () => {
    const page = await client.licensing.catalogue();
    assert.equal(page.content.length, 1);
    assert.equal(page.content[0]!.contentId, contentId);
    assert.equal(page.content[0]!.openOffers, 1);
    assert.equal(page.next, null);
    const view = await client.licensing.content(contentId);
    assert.equal(view.content.holder, publisher.address);
    assert.equal(view.content.owner, creator.address);
    assert.equal(view.content.titleLength, 1);
    assert.equal(view.offers.length, 1);
    assert.deepEqual(view.offers[0]!.policy, policy);
  });

  it('an offer and an agreement with their ODRL, and the lists', async () => {
    const offer = await client.licensing.offer(contentId, 'standard');
    assert.equal(offer.offer.offerer, publisher.address);
    assert.equal(offer.odrl['@type'], 'Offer');
    const view = await client.licensing.agreement(agreementId);
    assert.equal(view.agreement.licensee, buyer.address);
    assert.equal(view.odrl['@type'], 'Agreement');
    assert.deepEqual(view.agreement.paid?.splits, [
      { to: creator.address, amount: '150', role: 'title' },
      { to: publisher.address, amount: '850', role: 'offerer' },
    ]);
    const mine = await client.licensing.agreementsOf(buyer.address);
    assert.deepEqual(
      mine.agreements.map((a) => a.agreementId),
      [agreementId],
    );
    const held = await client.licensing.contentOf(publisher.address);
    assert.deepEqual(
      held.content.map((c) => c.contentId),
      [contentId],
    );
    assert.deepEqual((await client.licensing.contentOf(creator.address)).content, []);
    const sold = await client.licensing.contentAgreements(contentId, { limit: 1 });
    assert.equal(sold.agreements.length, 1);
  });

  it('the chain of title: each tx verifies with its Merkle proof against the producers', async () => {
    const title = await client.licensing.title(contentId);
    assert.equal(title.holder, publisher.address);
    assert.equal(title.assignments.length, 1);
    assert.equal(title.assignments[0]!.from, creator.address);
    assert.equal(title.assignments[0]!.share, 1500);
    assert.equal(title.registration.tx.type, 'content.register');
    assert.equal(title.assignments[0]!.tx.tx.type, 'content.assign');
    const trust = trustFromProducers((await client.listProducers()).producers);
    for (const tx of [title.registration, title.assignments[0]!.tx]) {
      assert.equal(verifyTxInclusion(tx, trust).ok, true);
      assert.equal(tx.receipt.status, 'ok');
    }
  });

  it('pages the catalogue with after and next', async () => {
    const { chainId } = await client.health();
    const secondId = sha256Hex(utf8('routes film 2'));
    const secret = fromHex(gatewayKey.secretKey);
    await ok(
      buyer,
      build.register({
        contentId: secondId,
        title: 'Second',
        mediaType: 'video/webm',
        size: 1,
        publicKey: toHex(keyPairFromSecret(secret).publicKey),
        proof: toHex(sign(registrationMessage(chainId, secondId, buyer.address), secret)),
      }),
    );
    const ids = [contentId, secondId].sort();
    const first = await client.licensing.catalogue({ limit: 1 });
    assert.deepEqual(
      first.content.map((c) => c.contentId),
      [ids[0]],
    );
    assert.equal(first.next, ids[0]);
    const second = await client.licensing.catalogue({ limit: 1, after: first.next });
    assert.deepEqual(
      second.content.map((c) => c.contentId),
      [ids[1]],
    );
    assert.equal(second.next, null);
  });

  it('answers codes with their statuses for bad and unknown ids', async () => {
    const unknown = sha256Hex(utf8('nothing'));
    assert.deepEqual(await codeOf(client.licensing.content('XYZ')), ['invalid_content_id', 400]);
    assert.deepEqual(await codeOf(client.licensing.content(unknown)), ['content_not_found', 404]);
    assert.deepEqual(await codeOf(client.licensing.title(unknown)), ['content_not_found', 404]);
    assert.deepEqual(await codeOf(client.licensing.offer(contentId, 'Bad!')), [
      'invalid_offer_id',
      400,
    ]);
    assert.deepEqual(await codeOf(client.licensing.offer(contentId, 'none')), [
      'offer_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.licensing.agreement(unknown)), [
      'agreement_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.licensing.agreementsOf('cof1nope')), [
      'invalid_address',
      400,
    ]);
    assert.deepEqual(await codeOf(client.licensing.catalogue({ limit: 101 })), [
      'invalid_request',
      400,
    ]);
  });

  it('a tx failing in its block answers 422 with its code', async () => {
    // A tx that fails in its block answers 422 with its code (the node's rule for failed txs).
    assert.deepEqual(await codeOf(send(publisher, build.accept(contentId, 'standard'))), [
      'own_offer',
      422,
    ]);
    assert.deepEqual(
      await codeOf(
        send(buyer, build.offer(contentId, 'mine', { permission: [{ action: 'play' }] })),
      ),
      ['not_holder', 422],
    );
  });
});
