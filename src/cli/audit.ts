import type { AuditReport } from '../node/audit.js';
import { requiredOption, type Command } from './context.js';
import { CliError } from './errors.js';
import { createProgress, fields, json, type Progress } from './output.js';

/**
 * `coffer audit --data-dir D`: replays the chain of a node's data directory from its genesis and
 * checks every block (src/node/audit.ts). It reads the directory, not a node's API.
 */
export const auditCommands: Command[] = [
  {
    name: 'audit',
    synopsis: '--data-dir D',
    summary:
      "replay D's chain from its genesis, checking every header, signature, nonce proof, root, " +
      'receipt and the state; the first divergence fails it',
    options: { 'data-dir': { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const dataDir = requiredOption(values, 'data-dir');
      // Loaded only here: the node's code (SQLite, every module) is most of the CLI's start-up.
      const { auditDataDir } = await import('../node/audit.js');
      let progress: Progress | undefined;
      let report: AuditReport;
      try {
        report = auditDataDir(dataDir, {
          onProgress(height, lastHeight) {
            progress ??= createProgress(ctx.io.stdout, {
              label: 'replaying blocks',
              total: lastHeight + 1,
              enabled: ctx.io.stdout.isTTY && !ctx.json,
            });
            progress.update(height + 1);
          },
        });
      } finally {
        progress?.finish();
      }
      // A replay always starts from the genesis: `from` is there for the reader of the JSON.
      const { lastHeight, blocksMatched, divergence } = report;
      if (ctx.json) {
        ctx.print(json({ ok: report.ok, from: 0, to: lastHeight, blocksMatched, divergence }));
      } else if (!divergence) {
        const blocks = `${blocksMatched} block${blocksMatched === 1 ? '' : 's'}`;
        ctx.print(
          `ok: ${blocks} from 0 to ${lastHeight} replayed; ` +
            'every header, signature, nonce proof, root and receipt matches\n',
        );
      } else {
        ctx.print(
          `divergence at ${where(divergence.height)}: ${divergence.check}\n` +
            fields([
              ['  what', divergence.message],
              ['  expected', divergence.expected],
              ['  found', divergence.found],
              ['  matched', `${blocksMatched} of the ${lastHeight + 1} blocks, 0 to ${lastHeight}`],
            ]),
        );
      }
      if (divergence) {
        throw new CliError(
          'audit_failed',
          `divergence at ${where(divergence.height)} (${divergence.check}): ${divergence.message}`,
        );
      }
    },
  },
];

function where(height: number | null): string {
  return height === null ? 'no height (no block wrote it)' : `height ${height}`;
}
