import { CliError } from './errors.js';

/** The process's streams, passed in so that nothing below `main` reaches for `process`. */
export interface CliIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** A passphrase or a secret key is short; refuse to buffer more from a pipe than this. */
const stdinBytesMax = 64 * 1024;

/**
 * Reads a line from the terminal without echoing it. Only called when stdin is a TTY. The prompt
 * goes to stderr so that stdout stays clean for `--json` and pipes.
 */
export function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value: string[] = [];
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const character of chunk.toString()) {
        if (character === '\r' || character === '\n') {
          finish();
          resolve(value.join(''));
          return;
        }
        // Ctrl-C and Ctrl-D: raw mode turns them into characters, so they are handled here.
        if (character === '\u0003' || (character === '\u0004' && value.length === 0)) {
          finish();
          reject(new CliError('cancelled', 'cancelled at the prompt'));
          return;
        }
        if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else if (character >= ' ') value.push(character);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * The passphrase: `COFFER_PASSPHRASE` if set, else typed at a prompt (twice when `confirm`, for a
 * new key), and only on a terminal; a script without the variable fails rather than hangs.
 */
export async function obtainPassphrase(
  io: CliIo,
  fromEnv: string | undefined,
  options: { keyName: string; confirm: boolean },
): Promise<string> {
  if (fromEnv !== undefined) return fromEnv;
  if (!io.stdin.isTTY) {
    throw new CliError(
      'passphrase_required',
      `key ${options.keyName} needs its passphrase: set COFFER_PASSPHRASE or run in a terminal`,
    );
  }
  const passphrase = await promptHidden(io, `passphrase for key ${options.keyName}: `);
  if (options.confirm) {
    if (passphrase.length === 0) {
      throw new CliError('empty_passphrase', 'a key cannot be stored under an empty passphrase');
    }
    const again = await promptHidden(io, 'the same passphrase again: ');
    if (again !== passphrase) {
      throw new CliError('passphrase_mismatch', 'the two passphrases differ; nothing was stored');
    }
  }
  return passphrase;
}

/** Reads all of a piped stdin (at most 64 KiB). */
export async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of io.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += buffer.length;
    if (bytes > stdinBytesMax) throw new CliError('usage', 'stdin holds more than 64 KiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
