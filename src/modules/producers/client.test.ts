import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  CryptoInputError,
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  hiddenInfoBytesMax,
  revealHiddenInfo,
  toHex,
} from '../../crypto/index.js';
import { producersModule } from './index.js';
import {
  prepareNonceCommitment,
  prepareProducerRegistration,
  producerEscrowAddress,
  producerIdOf,
} from './client.js';
import { txs } from '../../sdk/tx.js';

const chainId = 'coffer-test';
const seedBytes = fc.uint8Array({ minLength: 32, maxLength: 32 });

function fieldError(field: string) {
  return (error: unknown) => error instanceof CryptoInputError && error.field === field;
}

/** The registry's own parser of a tx type: what the node runs on the payload. */
function parse(type: string, payload: Record<string, unknown>) {
  return producersModule.txs[type]!.parse(payload);
}

describe('producer registration, off-chain', () => {
  it('property: the payload names the accountable key of the seed, its hidden info opens to the info with that key, and the registry parses it', () => {
    fc.assert(
      fc.property(
        seedBytes,
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 4 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.bigInt({ min: 1n, max: 2n ** 127n - 1n }),
        (seed, info, fromHeight, bond) => {
          const prepared = prepareProducerRegistration({
            seed: toHex(seed),
            info,
            bond,
            chainId,
            fromHeight,
            count: 4,
          });
          const key = deriveAccountableKey(seed);
          assert.equal(prepared.producer, addressFromPublicKey(key.publicKey));
          assert.equal(prepared.producer, producerIdOf(seed));
          const { payload } = prepared;
          assert.equal(payload.publicKey, toHex(key.publicKey));
          assert.equal(payload.bond, bond.toString());
          assert.deepEqual(payload.nonces, {
            fromHeight,
            count: 4,
            root: commitNonces(key.nonceSecret, chainId, fromHeight, 4).root,
          });
          const revealed = revealHiddenInfo(
            key.secretScalar,
            payload.hiddenInfo,
            payload.commitment,
          );
          // fast-check's dictionaries may lack a prototype; JSON's objects have one.
          assert.deepEqual(revealed?.info, JSON.parse(JSON.stringify(info)));
          const parsed = parse('producer.register', payload);
          assert.ok('value' in parsed, 'code' in parsed ? parsed.code : '');
        },
      ),
      { numRuns: 20 },
    );
  });

  it('a seed as bytes or hex (either case) is the same producer; another key cannot open the info', () => {
    const seed = new Uint8Array(32).fill(7);
    const hex = toHex(seed);
    assert.equal(producerIdOf(seed), producerIdOf(hex));
    assert.equal(producerIdOf(hex.toUpperCase()), producerIdOf(hex));
    const { payload } = prepareProducerRegistration({
      seed,
      info: { name: 'A' },
      bond: '100000',
      chainId,
      fromHeight: 10,
      count: 2,
    });
    const other = deriveAccountableKey(new Uint8Array(32).fill(8));
    assert.equal(
      revealHiddenInfo(other.secretScalar, payload.hiddenInfo, payload.commitment),
      undefined,
    );
  });

  it('refuses bad inputs, naming the field, before any work', () => {
    const good = {
      seed: '11'.repeat(32),
      info: { name: 'A' },
      bond: '1',
      chainId,
      fromHeight: 1,
      count: 1,
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ seed: '11'.repeat(31) }, 'seed'],
      [{ seed: new Uint8Array(31) }, 'seed'],
      [{ seed: 'zz'.repeat(32) }, 'seed'],
      [{ bond: '0' }, 'bond'],
      [{ bond: 0n }, 'bond'],
      [{ bond: '-1' }, 'bond'],
      [{ bond: '1.5' }, 'bond'],
      [{ bond: '01' }, 'bond'],
      [{ bond: (2n ** 127n).toString() }, 'bond'],
      [{ bond: 100 }, 'bond'],
      [{ info: { name: 'x'.repeat(hiddenInfoBytesMax) } }, 'info'],
      [{ info: undefined }, 'info'],
      [{ count: 0 }, 'count'],
      [{ fromHeight: -1 }, 'fromHeight'],
    ];
    for (const [change, field] of cases) {
      assert.throws(
        () => prepareProducerRegistration({ ...good, ...change }),
        fieldError(field),
        `${JSON.stringify(change, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} names ${field}`,
      );
    }
  });

  it('the next nonce range: the same root the seed commits, a payload the registry parses', () => {
    const seed = new Uint8Array(32).fill(9);
    const { producer, payload } = prepareNonceCommitment({
      seed,
      chainId,
      fromHeight: 100,
      count: 8,
    });
    const key = deriveAccountableKey(seed);
    assert.equal(producer, producerIdOf(seed));
    assert.deepEqual(payload, {
      producer,
      fromHeight: 100,
      count: 8,
      root: commitNonces(key.nonceSecret, chainId, 100, 8).root,
    });
    assert.ok('value' in parse('producer.commitNonces', payload));
    // Another chain, other nonces: a commitment is bound to its chain id.
    const elsewhere = prepareNonceCommitment({ seed, chainId: 'other', fromHeight: 100, count: 8 });
    assert.notEqual(elsewhere.payload.root, payload.root);
  });

  it('the escrow address is the registry’s, pinned (schema.test.ts checks the derivation)', () => {
    const id = producerIdOf(new Uint8Array(32).fill(1));
    assert.equal(id, 'cof1lqq8r02dcmualhha3vvg0arqffqvsw08fntjy8m3t34askprq3ms6rcyc0');
    assert.equal(
      producerEscrowAddress(id),
      'cof1qfa40raaw5tpl6d6ezu56lmrkgcz2z5setzg4qehhewnrqyj4r9spt0wve',
    );
  });

  it('tx builders carry the registry tx types', () => {
    const producer = producerIdOf(new Uint8Array(32).fill(2));
    assert.equal(txs.unbondProducer({ producer }).type, 'producer.unbond');
    assert.ok('value' in parse('producer.unbond', txs.unbondProducer({ producer }).payload));
    const { payload } = prepareNonceCommitment({
      seed: new Uint8Array(32).fill(2),
      chainId,
      fromHeight: 5,
      count: 1,
    });
    assert.equal(txs.commitNonces(payload).type, 'producer.commitNonces');
    assert.equal(
      txs.registerProducer(
        prepareProducerRegistration({
          seed: new Uint8Array(32).fill(2),
          info: 1,
          bond: 1n,
          chainId,
          fromHeight: 5,
          count: 1,
        }).payload,
      ).type,
      'producer.register',
    );
  });
});
