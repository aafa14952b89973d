import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { coded, jsonSchema, minorUnitsMax, rejectionCodeFor, wire } from './schema.js';

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
