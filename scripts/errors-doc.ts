// Writes docs/errors.md from the one registry of codes (src/node/errors.ts, with the modules'
// codes from src/modules/registry.ts).
// Run: node --import tsx scripts/errors-doc.ts  (test/docs.test.ts checks it is current)
import fs from 'node:fs';
import path from 'node:path';
import { ledgerModule, ModuleRegistry } from '../src/chain/index.js';
import { cofferModules } from '../src/modules/registry.js';
import { allErrorCodes } from '../src/node/errors.js';

export function errorsDocument(): string {
  // Registers every module's codes (src/modules/registry.ts does it as it loads).
  new ModuleRegistry([ledgerModule, ...cofferModules.map((m) => m.chain)]);
  const rows = allErrorCodes().map(
    (e) => `| \`${e.code}\` | ${e.status} | ${e.message.replaceAll('|', '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Every rejection and API error answers `{"error":{"code","message","field"?}}` with the status',
    'below. A committed tx that failed answers 422 (with `?wait=commit`) and carries the code as',
    'its receipt status. Generated from `src/node/errors.ts` by `node --import tsx scripts/errors-doc.ts`.',
    '',
    '| code | HTTP | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '## Operational faults',
    '',
    'Errors of the node itself carry a stable `code` too: `invalid_config` (a bad flag or',
    'environment variable), `invalid_data_dir` (a data directory that belongs to another chain or',
    'has a broken key file), `invalid_genesis`, `chain_not_initialized`, `unsupported_protocol` (a data',
    'directory written by an older protocol version, docs/protocol.md), `cluster_unreachable` (no',
    'NATS server of `--cluster` answered at start-up; the message names the URLs), `invalid_block` (a block',
    'that breaks the rules: the node stops producing and `/health` says why), `signer_refused`',
    '(the producer was asked to sign a second header at a height it already signed),',
    '`invalid_signer_state` (a damaged signer safety file), `signer_unavailable` (no committed',
    'nonce is ready for the next height yet).',
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  fs.writeFileSync(path.join(import.meta.dirname, '..', 'docs', 'errors.md'), errorsDocument());
}
