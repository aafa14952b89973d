import { auditCommands } from './audit.js';
import { parseCommandLine } from './command-line.js';
import { createContext, defaultNodeUrl, toCliError, type Command } from './context.js';
import { readCliEnv } from './env.js';
import { CliError, exitCodes, oneLine, usageError } from './errors.js';
import { inspectCommands } from './inspect.js';
import { keysCommands } from './keys.js';
import { paymentCommands } from './payments.js';
import { txSignCommands } from './tx-sign.js';
import type { CliIo } from './terminal.js';
import { verifyCommands } from './verify.js';
import type { CofferModule } from '../modules/manifest.js';
import { cofferModules } from '../modules/registry.js';
import { waitCommands } from './wait.js';
import { webhookCommands } from './webhooks.js';

/** The core commands; the modules' come between verify and audit, in the registry's order. */
function commandsOf(modules: readonly CofferModule[]): Command[] {
  return [
    ...keysCommands,
    ...paymentCommands,
    ...inspectCommands,
    ...txSignCommands,
    ...verifyCommands,
    ...modules.flatMap((module) => module.commands ?? []),
    ...auditCommands,
    ...waitCommands,
    ...webhookCommands,
  ];
}

const commonOptions = {
  node: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function synopsis(command: Command): string {
  return `coffer ${command.name}${command.synopsis ? ' ' + command.synopsis : ''}`;
}

function listing(list: Command[]): string {
  return list.map((c) => `  ${synopsis(c).slice('coffer '.length)}\n      ${c.summary}`).join('\n');
}

function usageOf(commands: Command[], modules: readonly CofferModule[]): string {
  return `Usage: coffer <command> [options]

Commands:
  init  [--data-dir D] [--chain-id ID]
      create a dev chain in D (default ./.coffer)
  start [--data-dir D] [--host H] [--port P] [--dev-clock]
      run a node (creates the dev chain on first run); init and start take no --node or --json,
      and also read COFFER_DATA_DIR, COFFER_HOST, COFFER_PORT, COFFER_CHAIN_ID; --dev-clock
      (development only) lets POST /v1/dev/clock move block time forward
  start --data-dir D/NAME --cluster nats://H:P[,...] --validator NAME [--producer-timeout-ms MS]
      run validator NAME of a cluster (its data dir from cluster init), ordered by the NATS
      JetStream servers given; also COFFER_CLUSTER and COFFER_VALIDATOR
  cluster init --validators N --dir D [--chain-id ID]
      create a genesis for N validators (1 to 16) and a data directory for each in D (default
      ./cluster; chain id default coffer-cluster) and print how to start each; no --node or --json
  signing-history export [--data-dir D]
      print the producer's signing history (JSON) to carry it to another machine; node stopped
  signing-history import FILE [--data-dir D]
      merge a signing history before this node signs anything; node stopped
${listing(commands)}
${modules.flatMap((module) => (module.cliNotes ? [module.cliNotes] : [])).join('\n')}

Every command but init and start takes:
  --node URL   the node's API (default ${defaultNodeUrl}); not audit, which reads --data-dir
  --json       print one line of JSON instead of text
Commands that send a tx also take --memo TEXT (at most 256 bytes), wait for the commit, and
with --json print {"hash","status","height"} (height null if the tx reached no block), with
the fields a command adds (listed after the commands above).
A key NAME is accepted wherever an ADDRESS is. AMOUNTs are in the asset's units (74.50 USD).

Environment:
  COFFER_HOME           the keystore's home (default ~/.coffer); keys are in COFFER_HOME/keys
  COFFER_PASSPHRASE     the keystore passphrase; unset, it is asked for on a terminal
  COFFER_ADMIN_TOKEN    the node operator's token for coffer webhooks (or --admin-token-file)
  COFFER_WEBHOOK_SECRET the secret for coffer webhooks add without --secret-file or --secret
                        (--secret is seen in the process list and kept in shell history)

coffer --help (or coffer help) prints this and exits 0, and coffer COMMAND --help a command's
usage. coffer alone names no command: it prints this on stderr and exits 2, as a group named
alone does (coffer timebank lists its commands).

Exit status: 0 done, 1 failed or refused, 2 bad command line (an unknown command or option, a
missing or extra argument, an option without its value, a negative amount). The reason is one
line on stderr: coffer: CODE: what is wrong.`;
}

function commandHelp(command: Command): string {
  const node = command.usesNode === false ? '' : ' [--node URL]';
  return `Usage: ${synopsis(command)}${node} [--json]\n\n${command.summary}\n`;
}

/** Finds the command named by the first one to three words; answers it and the remaining args. */
function findCommand(
  commands: Command[],
  argv: string[],
): { command: Command; rest: string[] } | undefined {
  const [first, second, third] = argv;
  const three = commands.find((c) => c.name === `${first} ${second} ${third}`);
  if (three) return { command: three, rest: argv.slice(3) };
  const two = commands.find((c) => c.name === `${first} ${second}`);
  if (two) return { command: two, rest: argv.slice(2) };
  const one = commands.find((c) => c.name === first);
  if (one) return { command: one, rest: argv.slice(1) };
  return undefined;
}

function nodeUrlOf(text: string | undefined): string {
  if (text === undefined) return defaultNodeUrl;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--node ${text} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--node ${text} is not an http or https URL`);
  }
  return text;
}

/** Help asked for: printed on stdout, exit 0. */
const helpWords = new Set(['help', '--help', '-h']);

/**
 * A command line that names no command (`coffer`, `coffer timebank`) is a bad command line: the
 * list of commands goes to stderr, and it exits 2, so a script whose command word came out empty
 * does not pass for done. `coffer --help` (or `coffer timebank --help`) prints it and exits 0.
 */
function noCommand(listingText: string, problem: string): CliError {
  return new CliError('usage', `${problem}; see the commands above`, exitCodes.usage, listingText);
}

async function run(commands: Command[], usage: string, argv: string[], io: CliIo): Promise<void> {
  const [first] = argv;
  if (first === undefined) throw noCommand(usage, 'no command given');
  if (helpWords.has(first)) {
    io.stdout.write(usage + '\n');
    return;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0 && (argv.length === 1 || helpWords.has(argv[1]!))) {
      const text = `Usage:\n${listing(group)}\n`;
      if (argv.length === 1) throw noCommand(text, `coffer ${first} needs a command`);
      io.stdout.write(text);
      return;
    }
    // A group inside a group (`timebank alliance`): the same, one word deeper.
    const subgroup = commands.filter((c) => c.name.startsWith(`${first} ${argv[1]} `));
    if (subgroup.length > 0 && (argv[2] === undefined || argv[2].startsWith('-'))) {
      const text = `Usage:\n${listing(subgroup)}\n`;
      if (argv[2] === undefined || !helpWords.has(argv[2])) {
        throw noCommand(text, `coffer ${first} ${argv[1]} needs a command`);
      }
      io.stdout.write(text);
      return;
    }
    const what =
      subgroup.length > 0
        ? `${first} ${argv[1]} ${argv[2]}`
        : group.length > 0
          ? `${first} ${argv[1]}`
          : first;
    throw usageError(`unknown command ${what}; see coffer --help`);
  }
  const { command, rest } = found;
  const parsed = parseCommandLine(rest, {
    command: `coffer ${command.name}`,
    synopsis: command.synopsis,
    options: { ...commonOptions, ...command.options },
    positionals: command.positionals,
  });
  if (parsed.help) {
    io.stdout.write(commandHelp(command));
    return;
  }
  const { values, positionals } = parsed;
  if (command.usesNode === false && values.node !== undefined) {
    throw usageError(`coffer ${command.name} talks to no node: it takes no --node`);
  }
  const nodeUrl = nodeUrlOf(values.node as string | undefined);
  const ctx = createContext({ io, env: readCliEnv(), nodeUrl, json: values.json === true });
  try {
    await command.run(ctx, positionals, values);
  } catch (error) {
    throw toCliError(error) ?? error;
  }
}

function report(io: CliIo, error: unknown): number {
  if (error instanceof CliError) {
    const { before } = error;
    if (before !== undefined) io.stderr.write(before.endsWith('\n') ? before : before + '\n');
    io.stderr.write(`coffer: ${error.code}: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    // System errors (EACCES writing the keystore) and the SDK's input errors carry a code.
    const { code } = error as Error & { code: string };
    io.stderr.write(`coffer: ${code}: ${oneLine(error.message)}\n`);
    return exitCodes.failure;
  }
  // A bug: still one line, with where it happened.
  const where = error instanceof Error ? (error.stack?.split('\n')[1]?.trim() ?? '') : '';
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`coffer: internal_error: ${oneLine(message)}${where ? ` (${where})` : ''}\n`);
  return exitCodes.failure;
}

/**
 * The `coffer` command line over the core commands and `modules`' (the registry's by default):
 * `run` answers the exit status after writing to `io`. src/cli/main.ts runs it on the process.
 */
export function createCli(modules: readonly CofferModule[] = cofferModules) {
  const commands = commandsOf(modules);
  const usage = usageOf(commands, modules);
  return {
    commands,
    usage,
    run: (argv: string[], io: CliIo): Promise<number> =>
      run(commands, usage, argv, io).then(
        () => 0,
        (error: unknown) => report(io, error),
      ),
  };
}
