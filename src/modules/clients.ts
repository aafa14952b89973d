import type { ClientCore } from '../sdk/client.js';
import { cardsClient } from './cards/client.js';
import { conversionClient } from './conversion/client.js';
import { crowdfundClient } from './crowdfund/client.js';
import { iotClient } from './iot/client.js';
import { licensingClient } from './licensing/client.js';
import { printingClient } from './printing/client.js';
import { producersClient } from './producers/client.js';
import { scholarshipClient } from './scholarship/client.js';
import { timecreditsClient } from './timecredits/client.js';
import { tokensClient } from './tokens/client.js';

/*
 * The modules' SDK parts, one line each: what `createClient` adds to the core client. This list
 * is apart from registry.ts because the SDK runs in browsers and must load no node code; a module
 * is one folder, one line in registry.ts and one here.
 */

export * from './producers/client.js';
export * from './timecredits/client.js';
export * from './crowdfund/client.js';
export * from './tokens/client.js';
export * from './cards/client.js';
export * from './conversion/client.js';
export * from './iot/client.js';
export * from './licensing/client.js';
export * from './scholarship/client.js';
export * from './printing/client.js';

/** The modules' namespaces of a client. */
export function moduleClients(core: ClientCore) {
  return {
    ...producersClient(core),
    ...timecreditsClient(core),
    ...crowdfundClient(core),
    ...tokensClient(core),
    ...cardsClient(core),
    ...conversionClient(core),
    ...iotClient(core),
    ...licensingClient(core),
    ...scholarshipClient(core),
    ...printingClient(core),
  };
}
