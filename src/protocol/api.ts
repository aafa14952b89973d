import { z } from 'zod';
import { receiptSchema, signedHeaderSchema, txWithProofSchema } from './core.js';

/*
 * What the core routes of a node answer (src/node/api.ts), as schemas: the routes serialise
 * through them (nothing unlisted leaves the node), the OpenAPI document shows them and the SDK
 * (src/sdk/client.ts) takes its types from them. The modules' records are in their schema.ts.
 */

/** The body of every API error: `{ "error": { code, message, field? } }`. */
export const apiErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

/** `POST /v1/txs`: `pending` without `wait`; with `wait: 'commit'`, `ok` and where it landed. */
export const txResultSchema = z.object({
  hash: z.string(),
  status: z.string(),
  height: z.number().int().optional(),
  index: z.number().int().optional(),
  /** With `wait: 'final'`: the block is attested by more than two thirds of the validators. */
  final: z.boolean().optional(),
});
export type TxResult = z.infer<typeof txResultSchema>;

/** One tx of a batch the node refused (a committed tx that failed is a `TxResult` instead). */
export const batchRejectionSchema = z.object({
  /** Set when the tx was well-formed enough to hash. */
  hash: z.string().optional(),
  status: z.literal('rejected'),
  error: apiErrorSchema,
  /** `final_timeout`: committed at this height, not final in time. */
  height: z.number().int().optional(),
});
export type BatchRejection = z.infer<typeof batchRejectionSchema>;

/**
 * What `POST /v1/txs` answers and each item of a batch: a result, a refusal, or a committed tx
 * that failed (its code in `error`, its status the receipt's).
 */
export const submitAnswerSchema = z.object({
  hash: z.string().optional(),
  status: z.string().optional(),
  height: z.number().int().optional(),
  index: z.number().int().optional(),
  final: z.boolean().optional(),
  error: apiErrorSchema.optional(),
});

/** `POST /v1/txs/batch`: a result per tx, in order; tell them apart with `'error' in result`. */
export const batchResultSchema = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  results: z.array(z.union([txResultSchema, batchRejectionSchema])),
});
export type BatchResult = z.infer<typeof batchResultSchema>;

/** `GET /v1/txs/{hash}` of a committed tx: the tx, its receipt, its block's header and proofs. */
export const committedTxSchema = txWithProofSchema.extend({
  height: z.number().int(),
  index: z.number().int(),
  receipt: receiptSchema,
});
export type CommittedTx = z.infer<typeof committedTxSchema>;

/** `GET /v1/txs/{hash}` of a tx still in the mempool (HTTP 202). */
export const pendingTxSchema = z.object({ hash: z.string(), status: z.literal('pending') });

/** A signed header as `GET /v1/blocks` lists it. */
export const blockSchema = signedHeaderSchema.extend({
  height: z.number().int(),
  txCount: z.number().int(),
  /** Attested by more than two thirds of the validators (on a solo node: every block). */
  final: z.boolean(),
});

/** One block with the hashes of its txs, in order (`/v1/blocks/latest`, `/v1/blocks/{height}`). */
export const blockWithTxsSchema = blockSchema.extend({ txs: z.array(z.string()) });

/** `GET /v1/blocks?from=&to=`: at most 100 blocks, clipped to the committed ones. */
export const blockPageSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  blocks: z.array(blockSchema),
});

/** One committed event as `GET /v1/events?from=` lists it. */
export const committedEventSchema = z.object({
  height: z.number().int(),
  /** The tx that emitted it, or null for the block's own events (expired holds, say). */
  tx: z.string().nullable(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type CommittedEvent = z.infer<typeof committedEventSchema>;

/**
 * `GET /v1/events?from=&to=` without a websocket: committed events of at most 100 blocks, oldest
 * first. A page reads at most 1,000 events of the range before the filters; `next`, when present,
 * is the `after` that continues the same range.
 */
export const eventPageSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  events: z.array(committedEventSchema),
  next: z.string().optional(),
});
export type EventPage = z.infer<typeof eventPageSchema>;

export const balanceSchema = z.object({
  asset: z.string(),
  decimals: z.number().int(),
  /** Spendable, in minor units. */
  balance: z.string(),
  /** In this account's open holds as payer, in minor units. */
  held: z.string(),
  /** Both in the asset's units, as `formatUnits` writes them. */
  formatted: z.object({ balance: z.string(), held: z.string() }),
  frozen: z.boolean(),
});
export type Balance = z.infer<typeof balanceSchema>;

export const holdSchema = z.object({
  id: z.string(),
  payer: z.string(),
  payee: z.string(),
  asset: z.string(),
  /** What is left to post, in minor units (less what partial captures, `captureHold`, paid). */
  amount: z.string(),
  expiresAtHeight: z.number().int(),
  arbiter: z.string().optional(),
  /** Hex SHA-256 digest the releasing preimage must hash to. */
  condition: z.string().optional(),
  createdAtHeight: z.number().int(),
});
export type Hold = z.infer<typeof holdSchema>;

/** `GET /v1/holds/{id}`: an open hold's record; `open` is false once its expiry height passed. */
export const openHoldSchema = holdSchema.extend({ open: z.boolean() });
export type OpenHold = z.infer<typeof openHoldSchema>;

/** `GET /v1/accounts/{address}`; an address never used answers nonce 0 and nothing else. */
export const accountSchema = z.object({
  address: z.string(),
  nonce: z.number().int(),
  balances: z.array(balanceSchema),
  frozen: z.array(z.string()),
  holds: z.array(holdSchema),
});
export type Account = z.infer<typeof accountSchema>;

export const assetSchema = z.object({
  symbol: z.string(),
  decimals: z.number().int(),
  issuer: z.string(),
  supply: z.string(),
  /** Minor units; null when the supply is unlimited. */
  maxSupply: z.string().nullable(),
});
export type Asset = z.infer<typeof assetSchema>;

export const assetListSchema = z.object({ assets: z.array(assetSchema) });
export type AssetList = z.infer<typeof assetListSchema>;

/** `GET /health`; a halted node answers 503 with this body too. */
export const healthSchema = z.object({
  /**
   * `degraded`: still producing, but `reason` says what will stop it (the producer's committed
   * nonces running low); `halted`: not producing (a `fault`, or `reason`).
   */
  status: z.enum(['ok', 'degraded', 'halted']),
  chainId: z.string(),
  height: z.number().int(),
  blockHash: z.string(),
  blockTime: z.number().int(),
  /** The highest final height. */
  finalizedHeight: z.number().int(),
  /** `solo` or `jetstream`. */
  consensus: z.string(),
  /** This node's validator name, in a cluster. */
  validator: z.string().optional(),
  pendingTxs: z.number().int(),
  /** How far the dev clock was moved (a node started with --dev-clock). */
  devClockOffsetMs: z.number().int().optional(),
  /** This node's producer's committed nonces ahead (when it is an active producer). */
  nonceRunway: z
    .object({
      /** Heights from the next one on it can sign (0: not the next one). */
      heightsLeft: z.number().int(),
      lastHeight: z.number().int(),
      renewingFromHeight: z.number().int().optional(),
    })
    .optional(),
  /** Why the node is degraded or cannot produce (its producer's nonces). */
  reason: z.string().optional(),
  /** Why block production stopped, when halted. */
  fault: z.string().optional(),
});
export type Health = z.infer<typeof healthSchema>;

/** `GET /v1/finality`. */
export const finalitySchema = z.object({
  consensus: z.string(),
  height: z.number().int(),
  finalizedHeight: z.number().int(),
  /** The active producers of the next heights; their operators' attestations count. */
  validators: z.array(z.object({ producer: z.string(), operator: z.string() })),
  /**
   * Attestations needed: more than two thirds of the validators' distinct operators (an operator
   * of two producers attests once).
   */
  quorum: z.number().int(),
});
export type Finality = z.infer<typeof finalitySchema>;

/** `POST /v1/dev/clock`. */
export const clockAdvanceSchema = z.object({
  offsetMs: z.number().int(),
  height: z.number().int(),
  blockTime: z.number().int(),
  blockCut: z.boolean(),
});
