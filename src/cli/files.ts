import fs from 'node:fs';
import { CliError } from './errors.js';

/** What `readSmallFile` answers: the file's text, or why it was not read (a sentence). */
export type SmallFile = { text: string } | { problem: string };

/**
 * Reads a small file as UTF-8 text, refusing what a config or a saved answer never is: a missing
 * file, anything but a regular file, more than `bytesMax` bytes, and (with `secret`) a file that
 * group or others may read. Callers wrap the problem into their own error, naming `file` in it.
 */
export function readSmallFile(
  file: string,
  options: { bytesMax: number; secret?: boolean },
): SmallFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    return { problem: `cannot read ${file}: ${(error as Error).message}` };
  }
  if (!stat.isFile()) return { problem: `${file} is not a regular file` };
  if (stat.size > options.bytesMax) {
    return { problem: `${file} is ${stat.size} bytes; at most ${options.bytesMax} are accepted` };
  }
  if (options.secret === true && (stat.mode & 0o077) !== 0) {
    return { problem: `${file} may be read by others: chmod 600 it` };
  }
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (error) {
    return { problem: `cannot read ${file}: ${(error as Error).message}` };
  }
}

/**
 * Reads and parses a small JSON file for a command; every failure is `invalid_file`, naming
 * `what` and the file.
 */
export function readJsonFile(file: string, what: string, bytesMax: number): unknown {
  const read = readSmallFile(file, { bytesMax });
  if ('problem' in read) throw new CliError('invalid_file', `${what}: ${read.problem}`);
  try {
    return JSON.parse(read.text) as unknown;
  } catch (error) {
    throw new CliError('invalid_file', `${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}
