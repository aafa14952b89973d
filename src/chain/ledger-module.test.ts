import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { addressFromPublicKey, keyPairFromSecret } from '../crypto/index.js';
import { crowdfundModule } from '../modules/crowdfund/index.js';
import { producersModule } from '../modules/producers/index.js';
import { timecreditsModule } from '../modules/timecredits/index.js';
import { z } from 'zod';
import { coded } from '../protocol/schema.js';
import { ledgerModule } from './ledger-module.js';
import { payloadParserOf } from './payload.js';
import type { ChainModule } from './module.js';

/** Every name an object inherits from Object.prototype: none is a payload field of any tx. */
const prototypeNames = Object.getOwnPropertyNames(Object.prototype);

const modules: ChainModule[] = [ledgerModule, producersModule, timecreditsModule, crowdfundModule];

describe('payload parsers', () => {
  it('know the inherited names this test feeds them', () => {
    // The list is what `key in fields` used to let through; pin a few so it cannot be empty.
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      assert.ok(prototypeNames.includes(name), name);
    }
  });

  it('refuse Object.prototype names as unknown fields (ledger.transfer)', () => {
    const parse = ledgerModule.txs['ledger.transfer']!.parse;
    const to = addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(7)).publicKey);
    const valid = { to, asset: 'USD', amount: '1' };
    assert.ok('value' in parse(valid), 'the valid payload parses');
    for (const name of prototypeNames) {
      // JSON.parse makes each one an own property, as a payload from the wire would have it.
      const payload = JSON.parse(JSON.stringify({ ...valid, [name]: 1 })) as Record<
        string,
        unknown
      >;
      const result = parse(payload);
      assert.ok('code' in result, `accepted ${name}`);
      assert.deepEqual([result.code, result.field], ['unknown_field', name], name);
    }
  });

  it('refuse them in every tx type of every module, before any field is read', () => {
    let checked = 0;
    for (const module of modules) {
      for (const [type, definition] of Object.entries(module.txs)) {
        for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
          const result = definition.parse(JSON.parse(`{"${name}":"x"}`) as Record<string, unknown>);
          assert.ok('code' in result, `${type} accepted ${name}`);
          // The unknown field is refused first, whatever else is missing.
          assert.equal(result.code, 'unknown_field', `${type} with ${name}: ${result.code}`);
          checked += 1;
        }
      }
    }
    assert.ok(checked >= 4 * 30, `only ${checked} cases: are the modules' txs listed?`);
  });

  it('still accept own fields and report the first unknown one by name', () => {
    const parse = payloadParserOf(
      z.strictObject({ symbol: coded(z.string().regex(/^[A-Z]{3}$/), 'invalid_symbol') }),
    );
    assert.deepEqual(parse({ symbol: 'USD' }), { value: { symbol: 'USD' } });
    const result = parse({ symbol: 'USD', extra: 1 });
    assert.ok('code' in result);
    assert.deepEqual([result.code, result.field], ['unknown_field', 'extra']);
  });
});
