import { setTimeout as sleep } from 'node:timers/promises';
import { parseWholeNumber, stringOption, type Command } from './context.js';
import { CliError, usageError } from './errors.js';
import { json } from './output.js';

/** Blocks come at least every idle interval (5 s by default): polling 4 times a second is plenty. */
const pollIntervalMs = 250;
/** Long enough for 20 idle blocks at the default 5 s (100 s), with room to spare. */
const timeoutMsDefault = 300_000;
/** A day: a wait longer than that is a script that forgot what it waits for. */
const timeoutMsMax = 86_400_000;

/** `H` (a height) or `+N` (N blocks after the current height) as given on the command line. */
type HeightTarget = { kind: 'absolute'; height: number } | { kind: 'relative'; blocks: number };

function parseTarget(text: string): HeightTarget {
  if (text.startsWith('+')) {
    return { kind: 'relative', blocks: parseWholeNumber(text.slice(1), 'HEIGHT (+N)') };
  }
  return { kind: 'absolute', height: parseWholeNumber(text, 'HEIGHT') };
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return timeoutMsDefault;
  const timeoutMs = parseWholeNumber(text, '--timeout-ms');
  if (timeoutMs < 1 || timeoutMs > timeoutMsMax) {
    throw usageError(`--timeout-ms is 1 to ${timeoutMsMax} (a day), got ${text}`);
  }
  return timeoutMs;
}

export const waitCommands: Command[] = [
  {
    name: 'wait height',
    synopsis: 'HEIGHT|+N [--timeout-ms MS]',
    summary:
      'wait until the node has committed block HEIGHT (or N blocks after its current height); ' +
      `exits 1 with wait_timeout after --timeout-ms (default ${timeoutMsDefault})`,
    options: { 'timeout-ms': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [text], values) {
      // Both checked before the node is asked anything: a bad command line is exit 2 either way.
      const target = parseTarget(text!);
      const timeoutMs = parseTimeout(stringOption(values, 'timeout-ms'));
      const started = performance.now();
      const first = (await ctx.client.latestBlock()).height;
      const height = target.kind === 'absolute' ? target.height : first + target.blocks;
      let current = first;
      for (;;) {
        if (current >= height) {
          ctx.print(ctx.json ? json({ height: current, target: height }) : `height ${current}\n`);
          return;
        }
        const elapsedMs = performance.now() - started;
        if (elapsedMs >= timeoutMs) {
          throw new CliError(
            'wait_timeout',
            `the node is at height ${current} after ${timeoutMs} ms, not yet at ${height}; ` +
              'give a longer --timeout-ms, or check that it produces blocks',
          );
        }
        await sleep(Math.min(pollIntervalMs, timeoutMs - elapsedMs));
        current = (await ctx.client.latestBlock()).height;
      }
    },
  },
];
