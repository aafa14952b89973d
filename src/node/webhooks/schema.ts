import { z } from 'zod';

/** The webhook routes' answers, as the OpenAPI document shows them (jsonSchema). */

const positionSchema = z.object({
  height: z.number().int(),
  /** -1 for a block event; 2147483647 (with eventIndex) when the whole height was passed. */
  txIndex: z.number().int(),
  eventIndex: z.number().int(),
});

/** A subscription as `GET /v1/webhooks` lists it: the secret only as a hint. */
export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  /** `whsec_…` and the secret's last 4 characters. */
  secretHint: z.string(),
  createdAt: z.string(),
  /** The last event delivered, dead-lettered or passed over; delivery goes on after it. */
  cursor: positionSchema,
  /** Failed tries of the next event (0: none). */
  attempts: z.number().int(),
  /** When the next try is due (ISO 8601), while one has failed. */
  nextAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  deadLetters: z.number().int(),
});

/** `POST /v1/webhooks`: the subscription with its secret, shown this once. */
export const createdWebhookSchema = webhookSchema.extend({ secret: z.string() });

export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) });

export const webhookRemovedSchema = z.object({ id: z.string(), removed: z.boolean() });

export const webhookReplaySchema = z.object({ id: z.string(), fromHeight: z.number().int() });

export const deadLetterListSchema = z.object({
  id: z.string(),
  /** Newest first. */
  deadLetters: z.array(
    z.object({
      webhookId: z.string(),
      height: z.number().int(),
      txIndex: z.number().int(),
      eventIndex: z.number().int(),
      type: z.string(),
      attempts: z.number().int(),
      lastError: z.string(),
      failedAt: z.string(),
    }),
  ),
});

export type WebhookJson = z.infer<typeof webhookSchema>;
export type CreatedWebhookJson = z.infer<typeof createdWebhookSchema>;
export type DeadLetterListJson = z.infer<typeof deadLetterListSchema>;
