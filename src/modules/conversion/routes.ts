import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { jsonSchema } from '../../protocol/schema.js';
import { engineConfiguration, enginesPageDefault, enginesPageMax, listEngines } from './queries.js';
import { engineConfigurationSchema, enginePageSchema } from './schema.js';

const limitPattern = /^[1-9][0-9]{0,2}$/;

/**
 * The registry's reads (issue 19), from committed state: one engine's whole configuration (what
 * an engine loads, what a user checks a quote against), and the engines a page at a time.
 */
export function conversionRoutes(host: ModuleHost): void {
  const { app, store } = host;

  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/v1/conversion/engines',
    {
      schema: {
        summary:
          'Conversion engines in address order, a page at a time (`limit` 1 to 100, default 50; `next` continues as `after`)',
        tags: ['conversion'],
        querystring: jsonSchema(
          z.strictObject({ after: z.string().optional(), limit: z.string().optional() }),
          'input',
        ),
        response: { 200: jsonSchema(enginePageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { after, limit } = request.query;
      if (after !== undefined && !isAddress(after)) {
        return sendError(reply, 'invalid_address', 'after');
      }
      if (limit !== undefined && !limitPattern.test(limit)) {
        return sendError(reply, 'invalid_request', 'limit');
      }
      const count = limit === undefined ? enginesPageDefault : Number(limit);
      if (count > enginesPageMax) return sendError(reply, 'invalid_request', 'limit');
      return listEngines(store, { ...(after === undefined ? {} : { after }), limit: count });
    },
  );

  app.get<{ Params: { address: string } }>(
    '/v1/conversion/engines/:address',
    {
      schema: {
        summary:
          "A conversion engine's whole configuration: its settings, ecosystems, assets and pairs (at most 16, 256 and 128)",
        tags: ['conversion'],
        params: stringParams('address'),
        response: { 200: jsonSchema(engineConfigurationSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      return engineConfiguration(store, address) ?? sendError(reply, 'engine_not_found', 'address');
    },
  );
}
