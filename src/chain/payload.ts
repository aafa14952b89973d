import type { z } from 'zod';
import { rejectionCodeFor } from '../protocol/schema.js';
import type { TxContext, TxDefinition } from './module.js';
import { reject, type Rejection } from './rejections.js';
import type { PayloadParser } from './tx.js';

/** A tx payload's schema: a strict object whose fields are coded (src/protocol/schema.ts). */
export type PayloadSchema = z.ZodObject<z.ZodRawShape>;

/**
 * The stateless parser of a payload schema, with the precedence every parser has had: an unknown
 * field first (`unknown_field`, own properties only, so `constructor` and the other names of
 * Object.prototype are unknown too), then each field in the schema's order, refused with its
 * code and named in `field`; an absent optional field stays absent. `check` then runs the
 * checks across fields on the parsed value (with the tx's sender, when the parser is given one).
 */
export function payloadParserOf<S extends PayloadSchema>(
  schema: S,
  check?: (value: z.output<S>, sender?: string) => Rejection | undefined,
): PayloadParser {
  const shape = schema.shape as Record<string, z.ZodType>;
  const fields = Object.entries(shape);
  return (payload, sender) => {
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(shape, key)) return reject('unknown_field', key);
    }
    const value: Record<string, unknown> = {};
    for (const [key, field] of fields) {
      const result = field.safeParse(Object.hasOwn(payload, key) ? payload[key] : undefined);
      if (!result.success) {
        return reject(rejectionCodeFor(field, result.error, 'invalid_payload'), key);
      }
      if (result.data !== undefined) value[key] = result.data;
    }
    const rejection = check?.(value as z.output<S>, sender);
    return rejection ?? { value };
  };
}

/**
 * A tx type from its payload schema: the parser is the schema's (`payloadParserOf`), `check` the
 * stateless checks across fields, and `execute` gets the parsed payload, typed.
 */
export function defineTxOf<S extends PayloadSchema>(
  schema: S,
  definition: {
    /** Stateless checks across fields; `sender` is the tx's at admission (absent on a bare payload). */
    check?: (value: z.output<S>, sender?: string) => Rejection | undefined;
    execute(context: TxContext, payload: z.output<S>): string | undefined;
  },
): TxDefinition<never> {
  return {
    payload: schema,
    parse: payloadParserOf(schema, definition.check),
    execute: (context, payload) => definition.execute(context, payload),
  };
}
