import { registerModuleErrors } from '../node/errors.js';
import type { CofferModule } from './manifest.js';
import { cards } from './cards/index.js';
import { conversion } from './conversion/index.js';
import { crowdfund } from './crowdfund/index.js';
import { iot } from './iot/index.js';
import { licensing } from './licensing/index.js';
import { printing } from './printing/index.js';
import { producers } from './producers/index.js';
import { scholarship } from './scholarship/index.js';
import { timecredits } from './timecredits/index.js';
import { tokens } from './tokens/index.js';

/**
 * The modules of a Coffer node, in the order their tx types, routes and commands are registered.
 * Adding a module is one folder under src/modules and one line here (and its client in
 * clients.ts). The core ledger is not a module of this list: it is part of the chain.
 */
export const cofferModules: readonly CofferModule[] = [
  producers,
  timecredits,
  crowdfund,
  tokens,
  cards,
  conversion,
  iot,
  licensing,
  scholarship,
  printing,
];

for (const module of cofferModules) registerModuleErrors(module);
