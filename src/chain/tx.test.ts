import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import fc from 'fast-check';

import { addressFromPublicKey, fromHex, keyPairFromSecret, toHex } from '../crypto/index.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import { ledgerModule } from './ledger-module.js';
import { reject } from './rejections.js';
import {
  decodeTx,
  decodeTxs,
  isRejection,
  signTx,
  txHashBytes,
  txSizeMax,
  type DecodedTx,
  type PayloadParser,
} from './tx.js';

const chainId = 'coffer-test';
const parserFor = (type: string) => ledgerModule.txs[type]?.parse;

describe('decodeTx', () => {
  it('refuses a sender whose key is weak: anyone could sign as the identity point', () => {
    const identity = fromHex('01' + '00'.repeat(31));
    const forged = {
      chainId,
      type: 'ledger.transfer',
      sender: addressFromPublicKey(identity),
      nonce: 0,
      payload: {
        to: addressFromPublicKey(fromHex('03' + '00'.repeat(31))),
        asset: 'USD',
        amount: '1',
      },
      // R = identity, s = 0: a valid ed25519 signature of every message under a small-order key.
      signature: toHex(identity) + '00'.repeat(32),
    };
    const decoded = decodeTx(forged, chainId, parserFor);
    assert.ok(isRejection(decoded));
    assert.deepEqual([decoded.code, decoded.field], ['invalid_sender', 'sender']);
  });

  it("gives the payload's check the tx's sender, so a check over the sender runs at admission", () => {
    const pair = keyPairFromSecret(new Uint8Array(32).fill(9));
    const sender = addressFromPublicKey(pair.publicKey);
    const seen: (string | undefined)[] = [];
    const parser = (payload: Record<string, unknown>, by?: string) => {
      seen.push(by);
      return by === payload.refuse ? reject('sender_refused') : { value: payload };
    };
    const body = { chainId, type: 'test.check', sender, nonce: 0 };
    const accepted = decodeTx(
      signTx({ ...body, payload: { refuse: 'someone else' } }, pair.secretKey),
      chainId,
      () => parser,
    );
    assert.ok(!isRejection(accepted));
    const refused = decodeTx(
      signTx({ ...body, payload: { refuse: sender } }, pair.secretKey),
      chainId,
      () => parser,
    );
    assert.ok(isRejection(refused));
    assert.equal(refused.code, 'sender_refused');
    assert.deepEqual(seen, [sender, sender]);
  });
});

describe('decodeTxs (the hash and the signature in the verify workers)', () => {
  const pool = new VerifyPool({ size: 2 });
  after(() => pool.close());
  const pair = keyPairFromSecret(new Uint8Array(32).fill(7));
  const sender = addressFromPublicKey(pair.publicKey);
  // Takes any payload, so the property reaches every shape of body.
  const anyPayload: PayloadParser = (payload) => ({ value: payload });

  function sameDecoding(fromWorker: DecodedTx, onMain: DecodedTx): void {
    assert.equal(fromWorker.hash, onMain.hash);
    assert.deepEqual(fromWorker.hashBytes, onMain.hashBytes);
    assert.deepEqual(fromWorker.signatureBytes, onMain.signatureBytes);
    assert.deepEqual(fromWorker.publicKey, onMain.publicKey);
    assert.deepEqual(fromWorker.parsed, onMain.parsed);
    assert.equal(fromWorker.tx, onMain.tx);
  }

  // Unicode of every plane, lone surrogates included; nested payloads; big numbers as strings.
  const text = fc.string({ unit: 'binary', maxLength: 24 });
  const payload = fc.dictionary(
    text,
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
    ),
    { maxKeys: 6 },
  );
  const body = fc.record(
    {
      nonce: fc.nat(),
      expiresAt: fc.nat(),
      memo: fc.string({ unit: 'binary', maxLength: 60 }),
      payload,
    },
    { requiredKeys: ['nonce', 'payload'] },
  );

  it('computes what decodeTx computes, for any body, and refuses a tampered tx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 20 }), async (bodies) => {
        const signed = bodies.map((b) =>
          signTx({ chainId, type: 'test.any', sender, ...b }, pair.secretKey),
        );
        // The same bodies with one more payload field after signing: the signature no longer fits.
        const tampered = signed.map((tx) => ({ ...tx, payload: { ...tx.payload, extra: 1 } }));
        const inputs = [...signed, ...tampered];
        const onMain = inputs.map((tx) => decodeTx(tx, chainId, () => anyPayload));
        const hashed = await decodeTxs(inputs, chainId, () => anyPayload, pool, false);
        const verified = await decodeTxs(inputs, chainId, () => anyPayload, pool, true);
        inputs.forEach((tx, index) => {
          const main = onMain[index]!;
          const worker = hashed[index]!;
          if (isRejection(main)) {
            // Only a body past the size bound, which random ones may reach.
            assert.deepEqual(worker, main);
            assert.deepEqual(verified[index], main);
            return;
          }
          assert.ok(!isRejection(worker), JSON.stringify(worker));
          sameDecoding(worker, main);
          assert.deepEqual(worker.hashBytes, txHashBytes(tx));
          const checked = verified[index]!;
          if (index < signed.length) {
            assert.ok(!isRejection(checked), JSON.stringify(checked));
            sameDecoding(checked, main);
          } else {
            assert.deepEqual(checked, reject('bad_signature', 'signature'));
          }
        });
      }),
      { numRuns: 40 },
    );
  });

  it('hashes the canonical body whatever the spacing and key order of the text', async () => {
    const tx = signTx(
      {
        chainId,
        type: 'test.any',
        sender,
        nonce: 3,
        memo: 'caf\u00e9 \ud83d\ude00',
        payload: { b: [1, { y: 2, x: '3' }], a: 'z' },
      },
      pair.secretKey,
    );
    // The same tx, its keys in reverse order and its payload's keys reordered.
    const reordered = {
      ...Object.fromEntries(Object.entries(tx).reverse()),
      payload: { a: 'z', b: [1, { x: '3', y: 2 }] },
    };
    const [digest, spaced] = await pool.digestTxs(
      [JSON.stringify(tx), JSON.stringify(reordered, null, 3)],
      { verify: true },
    );
    assert.deepEqual(digest!.hashBytes, txHashBytes(tx));
    assert.deepEqual(spaced!.hashBytes, txHashBytes(tx));
    assert.equal(digest!.valid, true);
    assert.equal(spaced!.valid, true);
    assert.equal(digest!.status, 'ok');
  });

  it('refuses with the codes decodeTx gives, in the same precedence', async () => {
    const good = signTx(
      {
        chainId,
        type: 'ledger.transfer',
        sender,
        nonce: 0,
        payload: { to: sender, asset: 'USD', amount: '1' },
      },
      pair.secretKey,
    );
    let deep: unknown = 1;
    for (let level = 0; level < 70; level++) deep = { deep };
    const flipped = (good.signature[0] === '0' ? '1' : '0') + good.signature.slice(1);
    const inputs: unknown[] = [
      good,
      { ...good, signature: flipped },
      { ...good, signature: 'zz' },
      { ...good, chainId: 'another' },
      { ...good, surprise: true },
      { ...good, payload: { to: sender, asset: 'USD', amount: '1', note: deep } },
      { ...good, payload: { to: sender, asset: 'USD', amount: 'x'.repeat(txSizeMax) } },
      { ...good, payload: { to: sender, asset: 'USD', amount: 'not a number' } },
      { ...good, nonce: -1 },
      'not a tx',
    ];
    const onMain = inputs.map((input) => decodeTx(input, chainId, parserFor));
    const expectedCodes = [
      undefined,
      undefined, // decodes; its signature fails the verify
      'bad_signature',
      'wrong_chain',
      'unknown_field',
      'invalid_payload',
      'tx_too_large',
      'invalid_amount',
      'invalid_nonce',
      'invalid_tx',
    ];
    assert.deepEqual(
      onMain.map((d) => (isRejection(d) ? d.code : undefined)),
      expectedCodes,
    );
    const hashed = await decodeTxs(inputs, chainId, parserFor, pool, false);
    const verified = await decodeTxs(inputs, chainId, parserFor, pool, true);
    inputs.forEach((_, index) => {
      const main = onMain[index]!;
      if (isRejection(main)) {
        assert.deepEqual(hashed[index], main, `input ${index}`);
        assert.deepEqual(verified[index], main, `input ${index}`);
      } else {
        sameDecoding(hashed[index] as DecodedTx, main);
      }
    });
    sameDecoding(verified[0] as DecodedTx, onMain[0] as DecodedTx);
    assert.deepEqual(verified[1], reject('bad_signature', 'signature'));
  });
});
