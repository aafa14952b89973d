import type { ChainModule } from '../chain/index.js';
import type { Command } from '../cli/context.js';
import type { ModuleHost } from '../node/module-host.js';

/**
 * Everything of one module, as its folder's `index.ts` exports it and `registry.ts` lists it:
 * the chain's part (tx types, rejections, begin-block and genesis steps), the API's (routes, the
 * codes they answer and their HTTP statuses, the OpenAPI tag) and the CLI's (commands). The SDK's
 * part (`client.ts`) is listed in `clients.ts`, which must load no node code.
 */
export interface CofferModule {
  readonly chain: ChainModule;
  /** Registers the module's HTTP routes; called once, after the core routes. */
  readonly routes?: (host: ModuleHost) => void;
  /** The OpenAPI tag of the module's routes. */
  readonly tag?: { name: string; description: string };
  /** Codes the module's routes answer that are not tx rejections, with their messages. */
  readonly apiErrors?: Readonly<Record<string, string>>;
  /** The HTTP status of the module's codes (tx rejections and API errors); 400 if not listed. */
  readonly httpStatuses?: Readonly<Record<string, number>>;
  /** Its `coffer` subcommands. */
  readonly commands?: readonly Command[];
  /** Lines for `coffer --help` after the command list (what its commands print with --json). */
  readonly cliNotes?: string;
}
