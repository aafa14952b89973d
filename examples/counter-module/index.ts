import type { CofferModule } from '../../src/modules/manifest.js';
import { counterCommands } from './cli.js';
import { counterRoutes } from './routes.js';
import { counterChain } from './txs.js';

/**
 * The example module of docs/modules.md, whole: a counter anyone may add to. In src/modules it
 * would be listed in registry.ts (and its client in clients.ts); the test plugs it into a node
 * (`NodeOptions.modules`), a CLI (`createCli`) and a client (`counterClient`) through the very
 * interfaces the registry's modules use.
 */
export const counter: CofferModule = {
  chain: counterChain,
  routes: counterRoutes,
  tag: { name: 'counter', description: 'The example module: counters anyone may add to.' },
  apiErrors: { counter_not_found: 'No counter has this name yet: add to it first.' },
  httpStatuses: { counter_not_found: 404, counter_overflow: 422 },
  commands: counterCommands,
  cliNotes: 'counter add adds 1 to 1000 at a time; a counter holds at most 10000.',
};
