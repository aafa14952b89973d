import type { ModuleHost } from '../../src/node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../src/node/routes.js';
import { jsonSchema } from '../../src/protocol/schema.js';
import { counterNamePattern, counterSchema, type Counter } from './schema.js';
import { counterKey } from './txs.js';

/** Its HTTP routes, registered by the node through the host it hands every module. */
export function counterRoutes(host: ModuleHost): void {
  const { app, store } = host;
  app.get<{ Params: { name: string } }>(
    '/v1/counters/:name',
    {
      schema: {
        summary: 'A counter: its value, who added last and when',
        tags: ['counter'],
        params: stringParams('name'),
        // The answer serialises through the record's schema: nothing unlisted leaves the node.
        response: { 200: jsonSchema(counterSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (!counterNamePattern.test(name)) return sendError(reply, 'invalid_counter_name', 'name');
      const text = store.get(counterKey(name));
      if (text === undefined) return sendError(reply, 'counter_not_found', 'name');
      return JSON.parse(text) as Counter;
    },
  );
}
