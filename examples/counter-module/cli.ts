import { parseWholeNumber, requiredOption, type Command } from '../../src/cli/context.js';
import { usageError } from '../../src/cli/errors.js';
import { fields, json } from '../../src/cli/output.js';
import { memoOf, report, submitTx, txOptions } from '../../src/cli/payments.js';
import { createCoreClient } from '../../src/sdk/client.js';
import { counterClient } from './client.js';
import { counterNamePattern, counterTxs } from './schema.js';

function nameOf(text: string): string {
  if (!counterNamePattern.test(text)) {
    throw usageError(`NAME must be 1 to 16 lowercase letters, got "${text}"`);
  }
  return text;
}

/** Its `coffer` subcommands, registered through the manifest. */
export const counterCommands: Command[] = [
  {
    name: 'counter add',
    synopsis: 'NAME [--by N] --from KEY',
    summary: 'add N (default 1) to the counter NAME',
    options: { ...txOptions, by: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [name], values) {
      const by = values.by === undefined ? 1 : parseWholeNumber(values.by as string, '--by');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const tx = counterTxs.add({ name: nameOf(name!), by });
      report(ctx, await submitTx(ctx, key, tx, memoOf(values)), `added ${by} to ${name}`);
    },
  },
  {
    name: 'counter show',
    synopsis: 'NAME',
    summary: "a counter's value, who added last and when",
    positionals: { min: 1, max: 1 },
    async run(ctx, [name]) {
      const { counters } = counterClient(createCoreClient(ctx.nodeUrl));
      const counter = await counters.get(nameOf(name!));
      ctx.print(
        ctx.json
          ? json(counter)
          : fields([
              ['counter', counter.name],
              ['value', counter.value],
              ['last added by', counter.lastBy],
              ['at height', counter.updatedAtHeight],
            ]),
      );
    },
  },
];
