// The benchmarks' report: one line per figure, printed as it is measured (or as a table at the end
// on a terminal), and the same figures as JSON in the file BENCH_JSON names, so the figures can be
// pasted into docs/performance.md without copying them off a terminal.
import fs from 'node:fs';

export interface Report {
  /** Records a figure: `text` for people, `data` (numbers, objects) for the JSON file. */
  line: (key: string, text: string, data?: unknown) => void;
  /** Prints the table (on a terminal) and writes BENCH_JSON. */
  finish: () => void;
}

export function createReport(bench: string, jsonFile = process.env.BENCH_JSON): Report {
  const rows: [string, string][] = [];
  const figures: { key: string; text: string; data?: unknown }[] = [];
  return {
    line(key, text, data) {
      rows.push([key, text]);
      figures.push(data === undefined ? { key, text } : { key, text, data });
      if (!process.stdout.isTTY) console.log(`${key}: ${text}`);
    },
    finish() {
      if (process.stdout.isTTY) {
        const width = Math.max(...rows.map(([k]) => k.length));
        console.log();
        for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
      }
      if (jsonFile) {
        const json = {
          bench,
          date: new Date().toISOString(),
          node: process.version,
          env: Object.fromEntries(
            Object.entries(process.env).filter(([name]) => name.startsWith('BENCH_')),
          ),
          figures,
        };
        fs.writeFileSync(jsonFile, JSON.stringify(json, null, 2) + '\n');
        console.log(`report written to ${jsonFile}`);
      }
    },
  };
}
