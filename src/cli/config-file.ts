import path from 'node:path';
import type { z } from 'zod';
import { readSmallFile } from './files.js';

/*
 * The steps a server's JSON config file goes through (the print server, its authority, the
 * content gateway), each module keeping its own schema and error class: the schema's first issue
 * as `path: message`, the file's text as JSON, and the file named in front of what its contents
 * got wrong.
 */

/** A module's config error: `invalid_config`, carrying the sentence it is built from. */
export type ConfigErrorClass = new (message: string) => Error;

/** Parses `value` with `schema`; its first issue is thrown as `path: message` (`(top)`: the root). */
export function parseConfigValue<S extends z.ZodType>(
  schema: S,
  value: unknown,
  ErrorClass: ConfigErrorClass,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ErrorClass(`${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** A small config file's JSON (at most `bytesMax` bytes): its problem, or `FILE is not JSON: ...`. */
export function readJsonConfigFile(
  file: string,
  bytesMax: number,
  ErrorClass: ConfigErrorClass,
): unknown {
  const read = readSmallFile(file, { bytesMax });
  if ('problem' in read) throw new ErrorClass(read.problem);
  try {
    return JSON.parse(read.text) as unknown;
  } catch (error) {
    throw new ErrorClass(`${file} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Parses a config file's `value` with paths relative to the file's folder; what the contents get
 * wrong is thrown again with the file in front (`FILE: path: message`).
 */
export function parseConfigFile<T>(
  file: string,
  value: unknown,
  parse: (value: unknown, base: string) => T,
  ErrorClass: ConfigErrorClass,
): T {
  try {
    return parse(value, path.dirname(path.resolve(file)));
  } catch (error) {
    if (error instanceof ErrorClass) throw new ErrorClass(`${file}: ${error.message}`);
    throw error;
  }
}
