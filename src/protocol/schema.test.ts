import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { addressFromPublicKey } from '../crypto/address.js';
import { generateKeyPair } from '../crypto/keys.js';
import {
  coded,
  hexOf,
  jsonSchema,
  minorUnitsMax,
  rejectionCodeFor,
  rejectionCodeOf,
  wire,
} from './schema.js';

/** The code a schema's first problem with `value` gets, or the parsed value. */
function outcome(schema: z.ZodType, value: unknown): { code: string } | { value: unknown } {
  const result = schema.safeParse(value);
  return result.success
    ? { value: result.data }
    : { code: rejectionCodeFor(schema, result.error, 'fallback') };
}

describe('wire fields', () => {
  it('minor units as text: digits without a leading zero, up to 2^127 - 1, never a throw', () => {
    const text = wire.minorUnitsText;
    for (const good of ['0', '1', '7450', (2n ** 127n - 1n).toString()]) {
      assert.equal(text.safeParse(good).success, true, good);
    }
    for (const bad of ['', '01', '-1', '1.5', '12a', 'a', ' 1', '1 ', (2n ** 127n).toString(), 5]) {
      assert.equal(text.safeParse(bad).success, false, String(bad));
    }
    assert.equal(minorUnitsMax, 170141183460469231731687303715884105727n);
  });

  it('a positive amount parses to its bigint and refuses 0, the cap plus one and non-digits', () => {
    assert.deepEqual(outcome(wire.positiveAmount, '7450'), { value: 7450n });
    assert.deepEqual(outcome(wire.positiveAmount, (2n ** 127n - 1n).toString()), {
      value: 2n ** 127n - 1n,
    });
    for (const bad of ['0', (2n ** 127n).toString(), '1e3', '12a', 12]) {
      assert.equal(wire.positiveAmount.safeParse(bad).success, false, String(bad));
    }
  });

  it('property: any string is accepted or refused, never thrown on', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        wire.minorUnitsText.safeParse(text);
        wire.positiveAmount.safeParse(text);
        wire.hash.safeParse(text);
        wire.address.safeParse(text);
      }),
    );
  });
});

describe('rejection codes', () => {
  const payload = z.strictObject({
    amount: coded(wire.positiveAmount, 'invalid_amount'),
    cap: coded(wire.positiveAmount, 'invalid_cap').optional(),
    lines: coded(
      z.array(z.strictObject({ to: coded(wire.address, 'invalid_line_address'), n: z.number() })),
      'invalid_lines',
    ),
    minutes: z.string().refine((t) => t.endsWith('m'), { error: 'invalid_minutes' }),
  });

  it('a copy per code: one field schema carries different codes in different places', () => {
    const a = coded(wire.hash, 'invalid_a');
    const b = coded(wire.hash, 'invalid_b');
    assert.deepEqual(outcome(a, 'x'), { code: 'invalid_a' });
    assert.deepEqual(outcome(b, 'x'), { code: 'invalid_b' });
    assert.deepEqual(outcome(wire.hash, 'x'), { code: 'fallback' });
  });

  it('the innermost coded schema on the path of the first problem names the code', () => {
    const line = { to: 'cof1nope', n: 1 };
    const base = { amount: '5', lines: [], minutes: '5m' };
    assert.deepEqual(outcome(payload, { ...base, amount: '0' }), { code: 'invalid_amount' });
    assert.deepEqual(outcome(payload, { ...base, cap: '0' }), { code: 'invalid_cap' });
    assert.deepEqual(outcome(payload, { ...base, lines: [line] }), {
      code: 'invalid_line_address',
    });
    // n is not coded: the nearest coded schema above it (the array) names it.
    assert.deepEqual(outcome(payload, { ...base, lines: [{ ...line, n: 'x' }] }), {
      code: 'invalid_line_address',
    });
    assert.deepEqual(outcome(payload, { ...base, lines: 'x' }), { code: 'invalid_lines' });
    // A refinement's own snake_case message is the code.
    assert.deepEqual(outcome(payload, { ...base, minutes: '5' }), { code: 'invalid_minutes' });
  });

  it('a code survives .meta() and .describe() (a field documented after it was coded)', () => {
    const documented = coded(wire.hash, 'invalid_c').meta({ description: 'the hash' });
    const described = coded(wire.hash, 'invalid_d').describe('the hash');
    assert.deepEqual(outcome(documented, 'x'), { code: 'invalid_c' });
    assert.deepEqual(outcome(described, 'x'), { code: 'invalid_d' });
    assert.deepEqual(outcome(z.object({ h: documented }), { h: 'x' }), { code: 'invalid_c' });
  });

  it('refuses a code that is not snake_case', () => {
    assert.throws(() => coded(z.string(), 'Invalid Amount'), /bad rejection code/);
  });
});

describe('jsonSchema', () => {
  it('describes what is sent (input) and what is answered (output), in OpenAPI 3.0', () => {
    const record = z.object({ amount: wire.positiveAmount, note: z.string().nullable() });
    const input = jsonSchema(record, 'input') as {
      properties: { amount: { type: string; pattern: string }; note: { nullable: boolean } };
      $schema?: string;
    };
    assert.equal(input.properties.amount.type, 'string');
    assert.equal(input.properties.note.nullable, true);
    assert.equal(input.$schema, undefined);
  });

  it('a nullable union serialises through Fastify (null and each member), not a 500', async () => {
    const { default: Fastify } = await import('fastify');
    const record = z.object({
      point: z.union([z.object({ height: z.number() }), z.object({ time: z.number() })]).nullable(),
    });
    const app = Fastify();
    const answers = [{ point: { height: 5 } }, { point: { time: 7 } }, { point: null }];
    answers.forEach((answer, index) =>
      app.get(`/${index}`, { schema: { response: { 200: jsonSchema(record) } } }, () => answer),
    );
    for (const [index, answer] of answers.entries()) {
      const reply = await app.inject({ url: `/${index}` });
      assert.equal(reply.statusCode, 200, reply.body);
      assert.deepEqual(JSON.parse(reply.body), answer);
    }
    await app.close();
  });
});

describe('rejection codes through wrappers and containers', () => {
  it('a code is found through optional, nullable, default and pipe (transform) wrappers', () => {
    const base = coded(z.string().regex(/^x$/), 'invalid_x');
    for (const wrapped of [
      base.optional(),
      base.nullable(),
      base.default('x'),
      base.transform((t) => t.length),
      base
        .optional()
        .nullable()
        .transform((t) => t),
    ]) {
      assert.equal(rejectionCodeOf(wrapped), 'invalid_x');
    }
    // A transform's output side is not where the code is: a pipe is looked through by its input.
    assert.equal(rejectionCodeOf(z.string().pipe(base)), undefined);
    assert.equal(rejectionCodeOf(z.string().optional()), undefined);
  });

  it('looks through at most 15 wrappers: a code under 16 is not found (a bound, not a loop)', () => {
    const wrap = (depth: number) => {
      let schema: z.ZodType = coded(z.string(), 'invalid_deep');
      for (let i = 0; i < depth; i += 1) schema = schema.optional();
      return schema;
    };
    assert.equal(rejectionCodeOf(wrap(15)), 'invalid_deep');
    assert.equal(rejectionCodeOf(wrap(16)), undefined);
  });

  it('finds a field under at most 15 wrappers of its object: under 16 the object code stays', () => {
    const under = (depth: number) => {
      let schema: z.ZodType = z.strictObject({ n: coded(z.number(), 'invalid_n') });
      for (let i = 0; i < depth; i += 1) schema = schema.optional();
      return coded(z.strictObject({ o: schema }), 'invalid_outer');
    };
    assert.deepEqual(outcome(under(15), { o: { n: 'x' } }), { code: 'invalid_n' });
    assert.deepEqual(outcome(under(16), { o: { n: 'x' } }), { code: 'invalid_outer' });
  });

  it('follows the path through objects (own keys only), arrays, records, tuples and pipes', () => {
    const schema = z.strictObject({
      list: z.array(coded(z.string().regex(/^a$/), 'invalid_item')),
      map: z.record(z.string(), coded(z.number(), 'invalid_value')),
      pair: z.tuple([z.number(), coded(z.string(), 'invalid_second')]),
      piped: z.strictObject({ n: coded(z.number(), 'invalid_n') }).transform((o) => o.n),
      deep: z.strictObject({ n: coded(z.number(), 'invalid_deep_n') }).optional(),
    });
    const good = { list: ['a'], map: { k: 1 }, pair: [1, 's'], piped: { n: 1 } };
    const codeOf = (value: unknown) => outcome(schema, value);
    assert.deepEqual(codeOf({ ...good, list: ['a', 'b'] }), { code: 'invalid_item' });
    assert.deepEqual(codeOf({ ...good, map: { k: 'x' } }), { code: 'invalid_value' });
    assert.deepEqual(codeOf({ ...good, pair: [1, 2] }), { code: 'invalid_second' });
    // The first tuple item is not coded: no code on the path, the fallback.
    assert.deepEqual(codeOf({ ...good, pair: ['x', 's'] }), { code: 'fallback' });
    assert.deepEqual(codeOf({ ...good, piped: { n: 'x' } }), { code: 'invalid_n' });
    assert.deepEqual(codeOf({ ...good, deep: { n: 'x' } }), { code: 'invalid_deep_n' });
  });

  it('a path key the object does not own (an inherited name) finds no child schema', () => {
    const schema = z.object({ constructor: coded(z.number(), 'invalid_own') });
    // `constructor` is an own key here: found.
    assert.deepEqual(outcome(schema, { constructor: 'x' }), { code: 'invalid_own' });
    const plain = coded(z.object({ a: z.number() }), 'invalid_plain');
    const issue = { code: 'custom' as const, message: 'Bad', path: ['toString', 'x'], input: 1 };
    // An inherited key on the path does not look up Object.prototype: the object's own code.
    assert.equal(rejectionCodeFor(plain, new z.ZodError([issue]), 'fallback'), 'invalid_plain');
    const numbered = coded(z.object({ 0: coded(z.number(), 'invalid_zero') }), 'invalid_obj');
    // A number segment on an object is not a key of its shape.
    const numberIssue = { ...issue, path: [0] };
    assert.equal(rejectionCodeFor(numbered, new z.ZodError([numberIssue]), 'f'), 'invalid_obj');
    const tuple = coded(z.tuple([coded(z.number(), 'invalid_first')]), 'invalid_tuple');
    const keyIssue = { ...issue, path: ['0'] };
    assert.equal(rejectionCodeFor(tuple, new z.ZodError([keyIssue]), 'f'), 'invalid_tuple');
    assert.equal(rejectionCodeFor(tuple, new z.ZodError([numberIssue]), 'f'), 'invalid_first');
  });

  it('no issue at all gives the fallback', () => {
    assert.equal(rejectionCodeFor(z.string(), new z.ZodError([]), 'fallback'), 'fallback');
  });
});

describe('jsonSchema: nullable unions written as unions with null', () => {
  it('exactly: the members, then null, the rest of the node kept', () => {
    const record = z.object({
      point: z
        .union([z.object({ h: z.number() }), z.object({ t: z.number() })])
        .nullable()
        .meta({ description: 'where' }),
    });
    const out = jsonSchema(record) as { properties: { point: Record<string, unknown> } };
    const point = out.properties.point;
    assert.equal(point.nullable, undefined);
    assert.equal(point.description, 'where');
    assert.deepEqual(
      (point.anyOf as { properties?: object; type?: string }[]).map((m) =>
        m.type === 'null' ? 'null' : Object.keys(m.properties ?? {}).join(),
      ),
      ['h', 't', 'null'],
    );
  });

  it('a nullable with a type (a nullable string) is left as OpenAPI 3.0 writes it', () => {
    const out = jsonSchema(z.object({ note: z.string().nullable() })) as {
      properties: { note: Record<string, unknown> };
    };
    assert.deepEqual(out.properties.note, { type: 'string', nullable: true });
  });

  it('a nullable union that has its own type keeps nullable (Fastify serialises by the type)', () => {
    const typed = z
      .union([z.object({ h: z.number() }), z.object({ t: z.number() })])
      .nullable()
      .meta({ type: 'object' });
    const out = jsonSchema(typed) as { type?: string; nullable?: boolean; anyOf: unknown[] };
    assert.equal(out.type, 'object');
    assert.equal(out.nullable, true);
    assert.equal(out.anyOf.length, 2);
  });

  it('only nullable: true with anyOf and no type is rewritten', () => {
    // A plain union (no nullable) keeps its anyOf as it is, with no null added.
    const plain = jsonSchema(z.union([z.string(), z.number()])) as { anyOf: unknown[] };
    assert.deepEqual(plain.anyOf, [{ type: 'string' }, { type: 'number' }]);
  });
});

describe('wire fields: bounds and documentation', () => {
  const address = addressFromPublicKey(generateKeyPair().publicKey);

  it('an address: a real cof1 address is accepted; anything else is "not a Coffer address"', () => {
    assert.deepEqual(outcome(wire.address, address), { value: address });
    // One character changed (bech32m's checksum catches every single substitution).
    const refused = wire.address.safeParse(
      address.slice(0, -1) + (address.endsWith('q') ? 'p' : 'q'),
    );
    assert.equal(refused.success, false);
    assert.equal(refused.error?.issues[0]?.message, 'not a Coffer address');
  });

  it('refusals say why: above 2^127 - 1, not a positive amount', () => {
    const above = wire.minorUnitsText.safeParse((2n ** 127n).toString());
    assert.equal(above.error?.issues[0]?.message, 'above 2^127 - 1');
    const zero = wire.positiveAmount.safeParse('0');
    assert.equal(zero.error?.issues[0]?.message, 'not a positive amount');
  });

  it('hexOf(n): exactly 2n lowercase hex characters', () => {
    assert.equal(hexOf(2).safeParse('abcd').success, true);
    for (const bad of ['ab', 'abcdef', 'ABCD', 'abcg']) {
      assert.equal(hexOf(2).safeParse(bad).success, false, bad);
    }
    assert.equal(wire.hash.safeParse('ab'.repeat(32)).success, true);
    assert.equal(wire.hash.safeParse('ab'.repeat(31)).success, false);
  });

  it('heights from 1, counts and times from 0, all up to 2^53 - 1, whole numbers', () => {
    const max = Number.MAX_SAFE_INTEGER;
    for (const [schema, min] of [
      [wire.height, 1],
      [wire.count, 0],
      [wire.time, 0],
    ] as const) {
      for (const good of [min, min + 1, max]) assert.equal(schema.safeParse(good).success, true);
      for (const bad of [min - 1, max + 1, min + 0.5, String(min)]) {
        assert.equal(schema.safeParse(bad).success, false, String(bad));
      }
    }
  });

  it('every wire field a payload shows is described in the OpenAPI document', () => {
    for (const [name, schema] of Object.entries(wire)) {
      if (name === 'height' || name === 'count' || name === 'time') continue;
      const description = (jsonSchema(schema, 'input') as { description?: string }).description;
      assert.ok(description !== undefined && description.length > 10, `${name}: ${description}`);
    }
  });
});
