import { z } from 'zod';
import { coded } from '../../src/protocol/schema.js';

/*
 * The wire contract of the example module (docs/modules.md): what a `counter.add` tx carries, what
 * `GET /v1/counters/{name}` answers and what a block emits. Pure: zod and src/protocol only, so
 * the node, the OpenAPI document and the SDK all take it from here.
 */

/** A counter's name: 1 to 16 lowercase letters. */
export const counterNamePattern = /^[a-z]{1,16}$/;
/** The most one tx may add, and the most a counter may hold. */
export const counterStepMax = 1_000;
export const counterValueMax = 10_000;

export const counterPayloads = {
  'counter.add': z.strictObject({
    name: coded(z.string().regex(counterNamePattern), 'invalid_counter_name'),
    by: coded(z.number().int().min(1).max(counterStepMax), 'invalid_counter_step'),
  }),
};
export type AddToCounter = z.input<(typeof counterPayloads)['counter.add']>;

/** A counter as the route answers it (and as it is stored). */
export const counterSchema = z.object({
  name: z.string(),
  value: z.number().int(),
  /** The account that added last. */
  lastBy: z.string(),
  /** The height of the last addition. */
  updatedAtHeight: z.number().int(),
});
export type Counter = z.infer<typeof counterSchema>;

/** `counter.added`: emitted by every `counter.add` that succeeds. */
export const counterAddedSchema = z.object({ name: z.string(), by: z.number(), value: z.number() });

/** Rejections of its txs, with what a person reads. */
export const counterRejections = {
  invalid_counter_name: 'A counter name is 1 to 16 lowercase letters.',
  invalid_counter_step: `A counter grows by 1 to ${counterStepMax} at a time.`,
  counter_overflow: `A counter holds at most ${counterValueMax}.`,
};

/** The tx builders both the SDK and the CLI use. */
export const counterTxs = {
  add: (payload: AddToCounter) => ({ type: 'counter.add', payload }),
};
