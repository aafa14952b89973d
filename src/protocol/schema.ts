import { z } from 'zod';
import { isAddress } from '../crypto/address.js';
import { amountMax } from '../ledger/amount.js';

/*
 * The wire contract's building blocks. A module's `schema.ts` writes each tx payload, each record
 * a route answers and each event as a zod schema built from these; the node parses payloads with
 * it (src/chain/payload.ts), the OpenAPI document is generated from it (`jsonSchema`) and the SDK
 * takes its types from it. One definition; no copy.
 *
 * A payload field carries the rejection code a bad value gets (`coded`): the tx parser answers
 * the code of the innermost coded schema on the path of the first problem, or a snake_case
 * message a refinement gave itself (`.refine(f, { error: 'invalid_minutes' })`).
 */

/**
 * Codes by schema definition, not by schema object: `.meta()` and `.describe()` return a new
 * object on the same definition, and the code must survive them (a field documented after it was
 * coded is still refused with its code).
 */
const rejectionCodes = new WeakMap<object, string>();

/** A rejection code: lowercase words joined by underscores. */
export const rejectionCodePattern = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * A copy of `schema` whose bad values are refused with `code` (a copy, so one shared field schema
 * can carry different codes in different payloads).
 */
export function coded<T extends z.ZodType>(schema: T, code: string): T {
  if (!rejectionCodePattern.test(code)) throw new Error(`bad rejection code ${code}`);
  // A fresh definition, so that coding a shared field schema never codes the original.
  const copy = schema.clone({ ...defOf(schema) } as never);
  rejectionCodes.set(defOf(copy), code);
  return copy;
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The code of `schema` itself, looking through optional, nullable, default and pipe wrappers. */
export function rejectionCodeOf(schema: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current !== undefined && depth < 16; depth += 1) {
    const code = rejectionCodes.get(defOf(current));
    if (code !== undefined) return code;
    const def = defOf(current);
    // Only a pipe has an input (`in`): a transform's code is on the schema it pipes from.
    current = def.innerType ?? def.in;
  }
  return undefined;
}

/** The schema one step down `segment` (an object key or an array index), if it can be told. */
function childOf(schema: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current !== undefined && depth < 16; depth += 1) {
    const def = defOf(current);
    if (def.type === 'object') {
      return typeof segment === 'string' && def.shape && Object.hasOwn(def.shape, segment)
        ? def.shape[segment]
        : undefined;
    }
    if (def.type === 'array') return def.element;
    if (def.type === 'record') return def.valueType;
    if (def.type === 'tuple') return typeof segment === 'number' ? def.items?.[segment] : undefined;
    current = def.innerType ?? def.in;
  }
  return undefined;
}

/**
 * The rejection code for a failed parse of `schema`: the first issue's own message when it is a
 * code, else the code of the innermost coded schema on the issue's path, else `fallback`.
 */
export function rejectionCodeFor(schema: z.ZodType, error: z.ZodError, fallback: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return fallback;
  if (rejectionCodePattern.test(issue.message)) return issue.message;
  let code = rejectionCodeOf(schema);
  let current: z.ZodType | undefined = schema;
  for (const segment of issue.path) {
    current = childOf(current, segment);
    if (current === undefined) break;
    code = rejectionCodeOf(current) ?? code;
  }
  return code ?? fallback;
}

/**
 * A JSON Schema (OpenAPI 3.0 dialect) of `schema`, for route schemas and the OpenAPI document.
 * `input` describes what is sent (a payload's amounts are strings before they become bigints);
 * `output` what is answered.
 */
export function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'output',
): Record<string, unknown> {
  const document = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete document.$schema;
  return nullableUnions(document) as Record<string, unknown>;
}

/**
 * OpenAPI 3.0 writes a nullable union as `{nullable: true, anyOf}`, which has no `type` and which
 * Fastify's serialiser refuses (every answer of such a route would be a 500): write it as the
 * union of its members and null instead, everywhere in the document.
 */
function nullableUnions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableUnions);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node).map(([key, value]) => [key, nullableUnions(value)] as const);
  const out = Object.fromEntries(entries) as Record<string, unknown>;
  if (out.nullable === true && out.type === undefined && Array.isArray(out.anyOf)) {
    const { nullable: _nullable, anyOf, ...rest } = out;
    return { ...rest, anyOf: [...(anyOf as unknown[]), { type: 'null' }] };
  }
  return out;
}

// ---- the fields every module uses ----------------------------------------------------------------

/** 2^127 - 1: the largest amount of minor units (`amountMax` of src/ledger/amount.ts, pure). */
export const minorUnitsMax = amountMax;

const minorUnitsPattern = /^(0|[1-9][0-9]{0,38})$/;

/** Lowercase hex of exactly `bytes` bytes. */
export function hexOf(bytes: number) {
  return z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
}

export const wire = {
  /** A `cof1…` address. */
  address: z
    .string()
    .refine((value) => isAddress(value), 'not a Coffer address')
    .meta({ description: 'A Coffer address: bech32m, prefix cof' }),
  /** A decimal string of minor units, 0 allowed, at most 2^127 - 1, as sent. */
  minorUnitsText: z
    .string()
    // abort: the range check below must not run on text that is not digits (BigInt throws).
    .regex(minorUnitsPattern, { abort: true })
    .refine((text) => BigInt(text) <= minorUnitsMax, 'above 2^127 - 1')
    .meta({ description: 'Minor units as a decimal string, at most 2^127 - 1' }),
  /** A positive decimal string of minor units, parsed to a bigint. */
  positiveAmount: z
    .string()
    .regex(minorUnitsPattern)
    .transform((text) => BigInt(text))
    .refine((amount) => amount > 0n && amount <= minorUnitsMax, 'not a positive amount')
    .meta({ description: 'A positive amount of minor units as a decimal string' }),
  /** A 32-byte id (a tx hash, a hold id), lowercase hex. */
  hash: hexOf(32).meta({ description: '32 bytes, lowercase hex' }),
  /** A block height, 1 or more. */
  height: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** A whole number from 0. */
  count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Unix milliseconds. */
  time: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
};
