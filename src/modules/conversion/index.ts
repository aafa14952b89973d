import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { bridgeCommands } from './cli-bridge.js';
import { conversionCommands } from './cli.js';
import { conversionHttpStatuses } from './rejections.js';
import { conversionRoutes } from './routes.js';
import { conversionModuleName } from './state.js';
import { conversionRejections, conversionTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export { engineConfiguration, listEngines } from './queries.js';
export { conversionRejections, type ConversionRejection } from './txs.js';

/**
 * The conversion engines' registry (issue 19): each engine's operator publishes, as txs, the
 * configuration every node and every user reads alike (the engine's settings, its ecosystems,
 * their assets, its pairs). The engine itself (engine/, evm/, provider/, pricing/) runs off
 * chain and reads it.
 */
export const conversionModule: ChainModule = {
  name: conversionModuleName,
  txs: conversionTxs,
  rejections: conversionRejections,
};

/** The conversion module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const conversion: CofferModule = {
  chain: conversionModule,
  routes: conversionRoutes,
  tag: {
    name: 'conversion',
    description:
      "Conversion engines' registry: each engine's settings, ecosystems, assets and pairs, as its operator published them.",
  },
  httpStatuses: conversionHttpStatuses,
  commands: [...conversionCommands, ...bridgeCommands],
  cliNotes:
    "conversion engine-set, ecosystem-set, asset-set, pair-set and the removals act on the --from key's\n" +
    'own engine (its id is that address); amounts are minor units; a pair side is ECOSYSTEM:ASSET.',
};
