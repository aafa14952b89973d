import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { jsonSchema } from '../../protocol/schema.js';
import {
  billResult,
  caRecord,
  deviceView,
  iotPageDefault,
  iotPageMax,
  listCas,
  listDevices,
  listSessions,
  sessionDetail,
  type SessionFilter,
} from './queries.js';
import {
  billResultSchema,
  billSeqMax,
  caPageSchema,
  caSchema,
  devicePageSchema,
  deviceViewSchema,
  isDeviceId,
  isFingerprint,
  isSessionId,
  sessionDetailSchema,
  sessionPageSchema,
  sessionStatuses,
  type SessionStatus,
} from './schema.js';

const limitPattern = /^[1-9][0-9]{0,2}$/;
const seqPattern = /^[1-9][0-9]{0,5}$/;
const sessionCursorPattern = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9._-]{1,64}$/;

const tags = ['iot'];

/**
 * The iot module's reads (issue 20), from committed state: CAs, devices (with their link or
 * tariff), an owner's devices, sessions by service device, iot device, payer and status, one
 * session with its bills' results, one bill's result. Lists are pages (`limit` 1 to 100, default
 * 50; `next` continues as `after`).
 */
export function iotRoutes(host: ModuleHost): void {
  const { app, store, chain } = host;
  /** The height of the next block: a session whose hold expires below it reads as expired. */
  const nextHeight = () => (chain.latest()?.header.height ?? 0) + 1;

  function pageLimit(limit: string | undefined): number | undefined {
    if (limit === undefined) return iotPageDefault;
    if (!limitPattern.test(limit)) return undefined;
    const count = Number(limit);
    return count > iotPageMax ? undefined : count;
  }

  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/v1/iot/cas',
    {
      schema: {
        summary: 'Registered CAs (active and revoked) in id order, a page at a time',
        tags,
        querystring: jsonSchema(
          z.strictObject({ after: z.string().optional(), limit: z.string().optional() }),
          'input',
        ),
        response: { 200: jsonSchema(caPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { after, limit } = request.query;
      if (after !== undefined && !isFingerprint(after)) {
        return sendError(reply, 'invalid_ca', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listCas(store, { ...(after === undefined ? {} : { after }), limit: count });
    },
  );

  app.get<{ Params: { ca: string } }>(
    '/v1/iot/cas/:ca',
    {
      schema: {
        summary: 'A registered CA: its operator, certificate, subject, validity and status',
        tags,
        params: stringParams('ca'),
        response: { 200: jsonSchema(caSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { ca } = request.params;
      if (!isFingerprint(ca)) return sendError(reply, 'invalid_ca', 'ca');
      return caRecord(store, ca) ?? sendError(reply, 'ca_not_found', 'ca');
    },
  );

  app.get<{ Querystring: { owner?: string; after?: string; limit?: string } }>(
    '/v1/iot/devices',
    {
      schema: {
        summary: "An account's devices in deviceId order, a page at a time",
        tags,
        querystring: jsonSchema(
          z.strictObject({
            owner: z.string(),
            after: z.string().optional(),
            limit: z.string().optional(),
          }),
          'input',
        ),
        response: { 200: jsonSchema(devicePageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { owner, after, limit } = request.query;
      if (owner === undefined || !isAddress(owner)) {
        return sendError(reply, 'invalid_address', 'owner');
      }
      if (after !== undefined && !isDeviceId(after)) {
        return sendError(reply, 'invalid_device_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listDevices(store, owner, { ...(after === undefined ? {} : { after }), limit: count });
    },
  );

  app.get<{ Params: { deviceId: string } }>(
    '/v1/iot/devices/:deviceId',
    {
      schema: {
        summary:
          "A device's certificate record, its CA's status, and its link (iot device) or tariff (service device)",
        tags,
        params: stringParams('deviceId'),
        response: { 200: jsonSchema(deviceViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { deviceId } = request.params;
      if (!isDeviceId(deviceId)) return sendError(reply, 'invalid_device_id', 'deviceId');
      return deviceView(store, deviceId) ?? sendError(reply, 'iot_device_not_found', 'deviceId');
    },
  );

  app.get<{
    Querystring: {
      serviceDevice?: string;
      iotDevice?: string;
      payer?: string;
      status?: string;
      after?: string;
      limit?: string;
    };
  }>(
    '/v1/iot/sessions',
    {
      schema: {
        summary:
          'Sessions by service device, iot device, payer and status, in serviceDevice/sessionId order (a page reads at most 500 entries: it may hold fewer than limit with next set)',
        tags,
        querystring: jsonSchema(
          z.strictObject({
            serviceDevice: z.string().optional(),
            iotDevice: z.string().optional(),
            payer: z.string().optional(),
            status: z.string().optional(),
            after: z.string().optional(),
            limit: z.string().optional(),
          }),
          'input',
        ),
        response: { 200: jsonSchema(sessionPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { serviceDevice, iotDevice, payer, status, after, limit } = request.query;
      if (serviceDevice !== undefined && !isDeviceId(serviceDevice)) {
        return sendError(reply, 'invalid_device_id', 'serviceDevice');
      }
      if (iotDevice !== undefined && !isDeviceId(iotDevice)) {
        return sendError(reply, 'invalid_device_id', 'iotDevice');
      }
      if (payer !== undefined && !isAddress(payer))
        return sendError(reply, 'invalid_address', 'payer');
      if (status !== undefined && !(sessionStatuses as readonly string[]).includes(status)) {
        return sendError(reply, 'invalid_request', 'status');
      }
      if (after !== undefined && !sessionCursorPattern.test(after)) {
        return sendError(reply, 'invalid_request', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      const filter: SessionFilter = {
        ...(serviceDevice === undefined ? {} : { serviceDevice }),
        ...(iotDevice === undefined ? {} : { iotDevice }),
        ...(payer === undefined ? {} : { payer }),
        ...(status === undefined ? {} : { status: status as SessionStatus }),
      };
      return listSessions(
        store,
        filter,
        { ...(after === undefined ? {} : { after }), limit: count },
        nextHeight(),
      );
    },
  );

  app.get<{ Params: { serviceDevice: string; sessionId: string } }>(
    '/v1/iot/sessions/:serviceDevice/:sessionId',
    {
      schema: {
        summary:
          'A session (status, hold, what is left of it, meter) with the results of its first 100 bills',
        tags,
        params: stringParams('serviceDevice', 'sessionId'),
        response: { 200: jsonSchema(sessionDetailSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { serviceDevice, sessionId } = request.params;
      if (!isDeviceId(serviceDevice)) {
        return sendError(reply, 'invalid_device_id', 'serviceDevice');
      }
      if (!isSessionId(sessionId)) return sendError(reply, 'invalid_session_id', 'sessionId');
      return (
        sessionDetail(store, serviceDevice, sessionId, nextHeight()) ??
        sendError(reply, 'session_not_found', 'sessionId')
      );
    },
  );

  app.get<{ Params: { serviceDevice: string; sessionId: string; seq: string } }>(
    '/v1/iot/sessions/:serviceDevice/:sessionId/bills/:seq',
    {
      schema: {
        summary:
          "A bill's result: the bill tx that paid it, amount, captured, unpaid, status, what was left of the hold",
        tags,
        params: stringParams('serviceDevice', 'sessionId', 'seq'),
        response: { 200: jsonSchema(billResultSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { serviceDevice, sessionId, seq } = request.params;
      if (!isDeviceId(serviceDevice)) {
        return sendError(reply, 'invalid_device_id', 'serviceDevice');
      }
      if (!isSessionId(sessionId)) return sendError(reply, 'invalid_session_id', 'sessionId');
      if (!seqPattern.test(seq) || Number(seq) > billSeqMax) {
        return sendError(reply, 'invalid_seq', 'seq');
      }
      return (
        billResult(store, serviceDevice, sessionId, Number(seq)) ??
        sendError(reply, 'bill_not_found', 'seq')
      );
    },
  );
}
