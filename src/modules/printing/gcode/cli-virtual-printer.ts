import path from 'node:path';
import { parseWholeNumber, stringOption, type Command } from '../../../cli/context.js';
import { usageError } from '../../../cli/errors.js';

/*
 * `coffer virtual-printer` (issue 23): a virtual Marlin printer on a pseudo-terminal in the
 * foreground, for demos and trying the print agent without a printer (virtual-printer.ts). It
 * prints the path to give the agent (`coffer print-agent print TOKEN --port PATH`), and on
 * Ctrl-C what it received.
 */

/** `--bed X,Y,Z` in millimetres (whole numbers) -> µm. */
export function parseBed(text: string): { x: number; y: number; z: number } {
  const parts = text.split(',');
  if (parts.length !== 3 || parts.some((p) => !/^\d{2,4}$/.test(p.trim()))) {
    throw usageError(
      '--bed takes three whole millimetre sizes X,Y,Z from 10 to 2000 (220,220,250)',
    );
  }
  const [x, y, z] = parts.map((p) => Number(p.trim()) * 1000) as [number, number, number];
  if ([x, y, z].some((v) => v < 10_000 || v > 2_000_000))
    throw usageError('--bed: each size is 10 to 2000 mm');
  return { x, y, z };
}

export const virtualPrinterCommands: Command[] = [
  {
    name: 'virtual-printer',
    synopsis: '[--link PATH] [--noise-every N] [--noise-seed N] [--bed X,Y,Z]',
    summary:
      'run a virtual Marlin printer on a pseudo-terminal (needs socat) until stopped; prints the port path',
    options: {
      link: { type: 'string' },
      'noise-every': { type: 'string' },
      'noise-seed': { type: 'string' },
      bed: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const bed = parseBed(stringOption(values, 'bed') ?? '220,220,250');
      const everyText = stringOption(values, 'noise-every');
      const seedText = stringOption(values, 'noise-seed');
      const every =
        everyText === undefined ? undefined : parseWholeNumber(everyText, '--noise-every');
      if (every !== undefined && every < 1) throw usageError('--noise-every must be at least 1');
      const seed = seedText === undefined ? undefined : parseWholeNumber(seedText, '--noise-seed');
      const link = stringOption(values, 'link');
      const { startVirtualPrinter } = await import('./virtual-printer.js');
      const printer = await startVirtualPrinter({
        bed,
        ...(link === undefined ? {} : { link: path.resolve(link) }),
        ...(every === undefined
          ? {}
          : { noise: { every, ...(seed === undefined ? {} : { seed }) } }),
      });
      if (ctx.json) ctx.print(`${JSON.stringify({ path: printer.path })}\n`);
      else
        ctx.print(
          `virtual printer on ${printer.path} (bed ${bed.x / 1000} x ${bed.y / 1000} x ${bed.z / 1000} mm${every === undefined ? '' : `, noise 1 line in ${every}`}); Ctrl-C stops it\n`,
        );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const stats = printer.stats();
      await printer.close();
      if (ctx.json) ctx.print(`${JSON.stringify(stats)}\n`);
      else
        ctx.print(
          `received ${stats.framesReceived} frames: ${stats.commands} commands, ${stats.resendsRequested} resends asked (${stats.noiseInjected} lines corrupted), ${stats.offBedMoves} moves off the bed\n`,
        );
    },
  },
];
