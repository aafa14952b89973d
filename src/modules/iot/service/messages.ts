import { z } from 'zod';
import { deviceIdPattern } from '../pki/certificates.js';

/*
 * The MQTT (and HTTP) messages of issue 20 and the results the service publishes. A message is
 * one of `{start, signature}`, `{bill, signature}`, `{end, signature}` (docs/iot-spec, "Signed
 * messages"). The service checks only what it needs to route the message and its results (the
 * kind, the device ids, the session id, the seq) and bounds the size; the chain checks the rest,
 * signatures included, and its rejection code goes back in the result.
 */

/** A message larger than this is dropped (logged `message_too_large`), never parsed. */
export const messageBytesMax = 16 * 1024;

const deviceId = z.string().regex(deviceIdPattern);
const sessionId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const signature = z.string().min(1).max(256);
/** The fields the chain checks: passed through as they came, so the signature still matches. */
const rest = z.record(z.string(), z.unknown());

const startMessage = z.strictObject({
  start: z.looseObject({ serviceDevice: deviceId, iotDevice: deviceId, sessionId }).and(rest),
  signature,
});
const billMessage = z.strictObject({
  bill: z
    .looseObject({
      serviceDevice: deviceId,
      iotDevice: deviceId,
      sessionId,
      seq: z.number().int().min(1).max(100_000),
    })
    .and(rest),
  signature,
});
const endMessage = z.strictObject({
  end: z.looseObject({ serviceDevice: deviceId, sessionId }).and(rest),
  signature,
});

export type IotMessageKind = 'start' | 'bill' | 'end';

export interface IotMessage {
  kind: IotMessageKind;
  serviceDevice: string;
  /** Absent in an end message: the session's record names it. */
  iotDevice?: string;
  sessionId: string;
  seq?: number;
  /** The tx's payload: the message as it came. */
  payload: Record<string, unknown>;
}

/** Where a message may arrive: the service device's own topics (the broker ACL makes it so). */
export const messageTopicPattern = /^coffer\/iot\/([a-z0-9][a-z0-9-]{0,62})\/(sessions|bills)$/;

export function resultsTopic(deviceIdValue: string): string {
  return `coffer/iot/${deviceIdValue}/results`;
}

/** What the service answers for a message it could not read. */
export class InvalidMessage extends Error {
  readonly code = 'invalid_message';
}

/**
 * Reads a message. `topicDevice` is the sender by its topic (over MQTT): a message about another
 * service device is refused, and bills belong on `bills`, sessions on `sessions`.
 */
export function parseIotMessage(
  bytes: Buffer | string,
  from?: { topicDevice: string; topicKind: 'sessions' | 'bills' },
): IotMessage {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    throw new InvalidMessage('the message is not JSON');
  }
  let message: IotMessage;
  if (typeof value === 'object' && value !== null && 'bill' in value) {
    const parsed = billMessage.safeParse(value);
    if (!parsed.success) throw new InvalidMessage(describe(parsed.error));
    const { bill } = parsed.data;
    message = {
      kind: 'bill',
      serviceDevice: bill.serviceDevice,
      iotDevice: bill.iotDevice,
      sessionId: bill.sessionId,
      seq: bill.seq,
      payload: parsed.data,
    };
  } else if (typeof value === 'object' && value !== null && 'start' in value) {
    const parsed = startMessage.safeParse(value);
    if (!parsed.success) throw new InvalidMessage(describe(parsed.error));
    const { start } = parsed.data;
    message = {
      kind: 'start',
      serviceDevice: start.serviceDevice,
      iotDevice: start.iotDevice,
      sessionId: start.sessionId,
      payload: parsed.data,
    };
  } else if (typeof value === 'object' && value !== null && 'end' in value) {
    const parsed = endMessage.safeParse(value);
    if (!parsed.success) throw new InvalidMessage(describe(parsed.error));
    const { end } = parsed.data;
    message = {
      kind: 'end',
      serviceDevice: end.serviceDevice,
      sessionId: end.sessionId,
      payload: parsed.data,
    };
  } else {
    throw new InvalidMessage('the message is none of {start|bill|end, signature}');
  }
  if (from) {
    if (from.topicDevice !== message.serviceDevice) {
      throw new InvalidMessage(
        `a message on ${from.topicDevice}'s topic names service device ${message.serviceDevice}`,
      );
    }
    if ((message.kind === 'bill') !== (from.topicKind === 'bills')) {
      throw new InvalidMessage(`a ${message.kind} message does not belong on ${from.topicKind}`);
    }
  }
  return message;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the message does not parse';
  return `${issue.path.join('.') || '(message)'}: ${issue.message}`;
}

/**
 * A result as published to `coffer/iot/<id>/results` and answered by `POST /v1/iot/messages`:
 * `status` is the chain's (`started`, `paid`, `capped`, `ended`) or `rejected` with the code.
 */
export interface IotResult {
  /** Absent in the answer to a message that could not be read. */
  kind?: IotMessageKind;
  serviceDevice?: string;
  iotDevice?: string;
  sessionId?: string;
  seq?: number;
  status: string;
  code?: string;
  message?: string;
  tx?: string;
  height?: number;
  /** True when this result was stored earlier and is sent again for a replayed message. */
  replay?: true;
  [field: string]: unknown;
}
