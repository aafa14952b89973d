// The SDK exports no address check of its own yet; the CLI uses the one the node uses.
import { publicKeyFromAddress } from '../crypto/index.js';
import {
  CofferError,
  CryptoInputError,
  createClient,
  type CofferClient,
  type SigningKey,
} from '../sdk/index.js';
import type { OptionSpec, OptionValues } from './command-line.js';
import type { CliEnv } from './env.js';
import { CliError, usageError } from './errors.js';
import { createKeystore, isKeyName, type Keystore } from './keystore.js';
import { obtainPassphrase, type CliIo } from './terminal.js';

export const defaultNodeUrl = 'http://127.0.0.1:7420';

export type { OptionValues } from './command-line.js';

/** What every command runs with: built once in `main` from the command line and environment. */
export interface CommandContext {
  io: CliIo;
  env: CliEnv;
  nodeUrl: string;
  json: boolean;
  keystore: Keystore;
  client: CofferClient;
  /** Writes to stdout. */
  print(text: string): void;
  /** Writes a warning line to stderr. */
  warn(text: string): void;
  /**
   * A key name becomes its address; anything else must be a well-formed address. Checked here,
   * before anything is signed or sent: a typo is refused as `unknown_key` or `invalid_address`,
   * naming `what` (the option or argument: `--to`, `ACCOUNT`).
   */
  resolveAddress(nameOrAddress: string, what: string): string;
  /** Asks for the passphrase (see `obtainPassphrase`) and decrypts the key. */
  unlock(name: string): Promise<SigningKey>;
}

export interface Command {
  /** One or two words: `balance`, `keys new`. */
  name: string;
  /** The rest of the synopsis, for help: `NAME [--secret HEX]`. */
  synopsis: string;
  summary: string;
  /** parseArgs options; `multiple` makes a string option repeatable (its value is a list). */
  options?: Record<string, OptionSpec>;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  /** False for a command that reads local files and no node (`audit`): `--node` is refused. */
  usesNode?: boolean;
  run(ctx: CommandContext, positionals: string[], values: OptionValues): Promise<void>;
}

export function createContext(deps: {
  io: CliIo;
  env: CliEnv;
  nodeUrl: string;
  json: boolean;
}): CommandContext {
  const { io, env } = deps;
  const keystore = createKeystore({ home: env.home });
  return {
    ...deps,
    keystore,
    client: createClient(deps.nodeUrl),
    print: (text) => io.stdout.write(text),
    warn: (text) => io.stderr.write(`coffer: warning: ${text}\n`),
    resolveAddress(nameOrAddress, what) {
      // No key name starts with `cof1`, so the two never collide.
      if (isKeyName(nameOrAddress)) {
        const entry = keystore.find(nameOrAddress);
        if (entry) return entry.address;
        throw new CliError(
          'unknown_key',
          `${what} ${nameOrAddress}: no key named ${nameOrAddress} in ${keystore.dir} (see ` +
            'coffer keys list); an address starts with cof1',
        );
      }
      return checkAddress(nameOrAddress, what);
    },
    async unlock(name) {
      keystore.get(name);
      const passphrase = await obtainPassphrase(io, env.passphrase, {
        keyName: name,
        confirm: false,
      });
      return keystore.unlock(name, passphrase);
    },
  };
}

/** Addresses are bech32m: "cof1" and 58 more characters, the last 6 a checksum. */
const addressLength = 62;

/**
 * `text` if it is an address (a checksum that matches, as the node requires); otherwise an
 * `invalid_address` that says what is wrong with it, naming `what`.
 */
export function checkAddress(text: string, what: string): string {
  const refuse = (why: string): never => {
    throw new CliError('invalid_address', `${what} ${text} is not an address: ${why}`);
  };
  if (!text.toLowerCase().startsWith('cof1')) {
    refuse(
      'an address starts with cof1, and a key name is 1 to 32 characters of a-z, 0-9, _ and -',
    );
  }
  if (text !== text.toLowerCase()) refuse('addresses are written in lowercase');
  if (text.length !== addressLength) {
    refuse(`an address has ${addressLength} characters, this one ${text.length}`);
  }
  try {
    publicKeyFromAddress(text, what);
  } catch (error) {
    if (!(error instanceof CryptoInputError)) throw error;
    refuse('its checksum does not match, so a character in it is wrong or missing');
  }
  return text;
}

/**
 * An optional ACCOUNT argument: the one given (a key name or an address), or else the keystore's
 * only key; with several keys and none given, a usage error asks for it.
 */
export function accountOrOnlyKey(ctx: CommandContext, given: string | undefined): string {
  if (given !== undefined) return ctx.resolveAddress(given, 'ACCOUNT');
  const keys = ctx.keystore.list();
  if (keys.length !== 1) {
    throw usageError(
      `name the ACCOUNT (the keystore holds ${keys.length} keys; without ACCOUNT it must hold one)`,
    );
  }
  return keys[0]!.address;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredOption(values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw usageError(`--${name} is required`);
  return value;
}

/** A whole number option or argument, e.g. a height. */
export function parseWholeNumber(text: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${what} must be a whole number, got "${text}"`);
  }
  return Number(text);
}

/** The most a page of any list route holds. */
const pageLimitMax = 100;

/** `--limit N` of a listing command: 1 to 100, or undefined for the node's default. */
export function pageLimitOption(values: OptionValues): number | undefined {
  const text = stringOption(values, 'limit');
  if (text === undefined) return undefined;
  const limit = parseWholeNumber(text, '--limit');
  if (limit < 1 || limit > pageLimitMax) {
    throw usageError(`--limit must be from 1 to ${pageLimitMax}`);
  }
  return limit;
}

/** Lowercase hex of exactly `bytes` bytes (or 1 to `bytes` when `variable`). */
export function parseHex(text: string, what: string, bytes: number, variable = false): string {
  const ok = variable
    ? text.length >= 2 && text.length <= bytes * 2 && /^([0-9a-f]{2})+$/.test(text)
    : text.length === bytes * 2 && /^[0-9a-f]*$/.test(text);
  if (!ok) {
    throw new CliError(
      'invalid_hex',
      variable
        ? `${what} must be 1 to ${bytes} bytes of lowercase hex`
        : `${what} must be ${bytes * 2} lowercase hex digits`,
    );
  }
  return text;
}

/**
 * Turns whatever a command threw into the one-line error main prints: the node's answers and the
 * SDK's own errors (`network_error`, `invalid_response`) keep their code.
 */
export function toCliError(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof CofferError) {
    const hint =
      error.code === 'network_error' && error.status === 0
        ? '; start a node with coffer start, or pass --node URL'
        : '';
    return new CliError(error.code, error.message + hint);
  }
  return undefined;
}
