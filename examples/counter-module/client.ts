import type { ClientCore } from '../../src/sdk/client.js';
import type { Counter } from './schema.js';

export * from './schema.js';

/** Its SDK namespace: `{ counters: { get } }` on a client built with it. */
export function counterClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    counters: {
      get: (name: string) => request<Counter>('GET', `/v1/counters/${segment(name)}`),
    },
  };
}
