import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

/**
 * The one argument parser of every `coffer` command. It runs `node:util` parseArgs without its
 * own checks (strict: false) and checks the tokens itself, so that no parser text ("To specify a
 * positional argument starting with a '-', place it at the end of the command after '--'") reaches
 * a user: each problem is said in our words, names the command and the option or argument, and is
 * a `usage` error (exit 2) followed by the command's synopsis. `--help` (or `-h`) anywhere before
 * `--` asks for help whatever else is on the line.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** A repeatable string option: its value is the list of every occurrence. */
  multiple?: boolean;
  short?: string;
}

export interface CommandLineSpec {
  /** The command as typed: `coffer send`, `coffer start`. */
  command: string;
  /** The command's synopsis after `command`: `AMOUNT SYMBOL --to ADDRESS --from NAME`. */
  synopsis: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedCommandLine =
  { help: true } | { help: false; values: OptionValues; positionals: string[] };

/** A negative number, which the parser would otherwise take for a short option (`-5`, `-.5`). */
const negativeNumber = /^-\.?[0-9]/;
/** Names that are amounts of money in our synopses. */
const amountNames = new Set(['AMOUNT', 'GROSS', 'REVENUE', 'X']);
/** Option values that are numbers: a negative one is refused as such, not as an option. */
const numericPlaceholders = new Set([...amountNames, 'HOURS', 'N', 'H', 'MS', 'P', 'BP', 'HEIGHT']);

export function parseCommandLine(args: string[], spec: CommandLineSpec): ParsedCommandLine {
  const options: Record<string, OptionSpec> = {
    help: { type: 'boolean', short: 'h' },
    ...spec.options,
  };
  const { tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) {
    return { help: true };
  }
  function fail(problem: string): never {
    throw usageError(`${spec.command}: ${problem}; usage: ${usageLine(spec)}`);
  }
  const names = positionalNames(spec.synopsis);
  const values: OptionValues = {};
  const positionals: string[] = [];
  let afterTerminator = false;
  let reportedIndex = -1;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      afterTerminator = true;
      continue;
    }
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    // A grouped short option (`-5.5`) comes as one token per letter, all with its index.
    if (token.index === reportedIndex) continue;
    reportedIndex = token.index;
    const raw = args[token.index]!;
    if (negativeNumber.test(raw)) {
      fail(negativeArgument(names[positionals.length] ?? names.at(-1) ?? 'an argument', raw));
    }
    // parseArgs gives a declared short option (-h) its long name; an undeclared one keeps its own.
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (option === undefined) {
      const typed = token.rawName;
      const guess = closestOption(typed.replace(/^-+/, ''), Object.keys(spec.options));
      fail(
        `there is no option ${typed}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`,
      );
    }
    const { name } = token;
    const flag = `--${name}`;
    if (option.type === 'boolean') {
      if (token.value !== undefined) fail(`${flag} takes no value, got ${flag}=${token.value}`);
      values[name] = true;
      continue;
    }
    const value = token.value;
    const placeholder = placeholderOf(spec.synopsis, flag);
    if (value === undefined) fail(`${flag} needs a value: ${flag} ${placeholder}`);
    if (!token.inlineValue && value.startsWith('-')) {
      if (negativeNumber.test(value) && numericPlaceholders.has(placeholder)) {
        fail(negativeArgument(`${flag} ${placeholder}`, value));
      }
      fail(
        `${flag} needs a value, and ${value} looks like an option (a value starting with "-" ` +
          `is written ${flag}=${value})`,
      );
    }
    if (option.multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(value);
      values[name] = list;
    } else {
      if (values[name] !== undefined) fail(`${flag} is given twice; give it once`);
      values[name] = value;
    }
  }
  const { min, max } = spec.positionals;
  if (positionals.length < min || positionals.length > max) {
    fail(argumentCountProblem(spec, names, positionals, afterTerminator));
  }
  return { help: false, values, positionals };
}

/** The command and its synopsis, as printed after a problem. */
export function usageLine(spec: Pick<CommandLineSpec, 'command' | 'synopsis'>): string {
  return spec.synopsis === '' ? spec.command : `${spec.command} ${spec.synopsis}`;
}

/** The names of the positional arguments, from the synopsis: `AMOUNT SYMBOL --to ...`. */
export function positionalNames(synopsis: string): string[] {
  const names: string[] = [];
  for (const word of synopsis.split(/\s+/)) {
    const bare = word
      .replace(/^[[(]+/, '')
      .replace(/[\])]+$/, '')
      .replace(/\.\.\.$/, '');
    if (!/^[A-Z]/.test(bare)) break;
    names.push(bare);
  }
  return names;
}

function negativeArgument(name: string, raw: string): string {
  const what = name.split(' ').at(-1)!;
  if (amountNames.has(what)) return `${name} is ${raw}, and amounts are positive`;
  if (what === 'HOURS') return `${name} is ${raw}, and hours are positive`;
  return `${name} is ${raw}, and it cannot be negative`;
}

/** `ADDRESS` for `--to` in `AMOUNT SYMBOL --to ADDRESS --from NAME`; `VALUE` when not written. */
function placeholderOf(synopsis: string, flag: string): string {
  const escaped = flag.replace(/[-]/g, '\\-');
  const match = new RegExp(`(?:^|[\\s[(|])${escaped} ([^\\s\\])|]+)`).exec(synopsis);
  return match?.[1] && !match[1].startsWith('-') ? match[1] : 'VALUE';
}

function argumentCountProblem(
  spec: CommandLineSpec,
  names: string[],
  positionals: string[],
  afterTerminator: boolean,
): string {
  const { min, max } = spec.positionals;
  const got = positionals.length;
  const shown = positionals.map((p) => JSON.stringify(p)).join(' ');
  if (max === 0) return `wrong number of arguments: it takes none, got ${shown}`;
  const wanted = names.length > 0 ? ` (${names.slice(0, Math.max(min, 1)).join(' ')})` : '';
  const count =
    min === max
      ? `${min} argument${min === 1 ? '' : 's'}${wanted}`
      : `${min} to ${max} arguments${wanted}`;
  const terminator = afterTerminator ? '; everything after -- counts as an argument' : '';
  return got === 0
    ? `wrong number of arguments: it takes ${count}, got none`
    : `wrong number of arguments: it takes ${count}, got ${got}: ${shown}${terminator}`;
}

/** The option a typo most likely meant: one edit or swap away, or the only one it begins. */
function closestOption(typed: string, known: string[]): string | undefined {
  if (typed.length < 2) return undefined;
  const near = known.filter((name) => editDistance(typed, name) <= Math.min(2, name.length - 1));
  if (near.length === 1) return near[0];
  const prefixed = known.filter((name) => name.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Damerau-Levenshtein distance (optimal string alignment): `prot` is one swap from `port`. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
