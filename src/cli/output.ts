/** Human output: aligned label/value lines and tables. `--json` output is one JSON line. */

export function json(value: unknown): string {
  return JSON.stringify(value) + '\n';
}

/** `label  value` lines with the values aligned; undefined values are left out. */
export function fields(rows: [string, string | number | undefined][]): string {
  const shown = rows.filter((row): row is [string, string | number] => row[1] !== undefined);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/**
 * A table with a header row; columns listed in `right` (numbers, amounts) are right-aligned so
 * their decimal points line up.
 */
export function table(header: string[], rows: string[][], right: number[] = []): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const barWidth = 30;

/**
 * A progress bar that redraws one line in place. It draws only on a terminal (the caller decides:
 * stdout a TTY and no `--json`); elsewhere every method does nothing, so a pipe never receives
 * carriage returns.
 */
export interface Progress {
  update(done: number): void;
  /** Erases the bar so the result prints on a clean line. */
  finish(): void;
}

export function createProgress(
  stream: NodeJS.WritableStream,
  options: { label: string; total: number; enabled: boolean },
): Progress {
  if (!options.enabled || options.total <= 0) return { update: () => {}, finish: () => {} };
  let lastPercent = -1;
  let drawn = false;
  return {
    update(done) {
      const fraction = Math.min(1, done / options.total);
      const percent = Math.floor(fraction * 100);
      // Redraw only when the bar visibly changes: at most 101 writes however long the run.
      if (percent === lastPercent) return;
      lastPercent = percent;
      const filled = Math.round(fraction * barWidth);
      stream.write(
        `\r${options.label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ` +
          `${percent}% ${done}/${options.total}`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\u001b[2K');
      drawn = false;
    },
  };
}
