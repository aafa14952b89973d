import { generateKey } from '../sdk/index.js';
import { stringOption, type Command, type CommandContext } from './context.js';
import { CliError } from './errors.js';
import { assertKeyName, type KeystoreEntry } from './keystore.js';
import { fields, json, table } from './output.js';
import { obtainPassphrase, promptHidden, readStdin } from './terminal.js';

function assertNewName(ctx: CommandContext, name: string): void {
  assertKeyName(name);
  // Checked before any prompt, so nobody types a passphrase twice for nothing.
  if (ctx.keystore.find(name))
    throw new CliError('key_exists', `a key named ${name} already exists`);
}

async function store(ctx: CommandContext, name: string, secretKeyHex: string): Promise<void> {
  const passphrase = await obtainPassphrase(ctx.io, ctx.env.passphrase, {
    keyName: name,
    confirm: true,
  });
  const entry = await ctx.keystore.add(name, secretKeyHex, passphrase);
  printEntry(ctx, entry, `stored key ${name}`);
}

function printEntry(ctx: CommandContext, entry: KeystoreEntry, title?: string): void {
  if (ctx.json) {
    ctx.print(json({ name: entry.name, address: entry.address }));
    return;
  }
  ctx.print(
    (title ? title + '\n' : '') +
      fields([
        ['name', entry.name],
        ['address', entry.address],
        ['file', entry.file],
      ]),
  );
}

export const keysCommands: Command[] = [
  {
    name: 'keys new',
    synopsis: 'NAME',
    summary: 'create a key and store it encrypted under NAME',
    positionals: { min: 1, max: 1 },
    async run(ctx, [name]) {
      assertNewName(ctx, name!);
      await store(ctx, name!, generateKey().secretKey);
    },
  },
  {
    name: 'keys list',
    synopsis: '',
    summary: 'list the stored keys and their addresses',
    positionals: { min: 0, max: 0 },
    run(ctx) {
      const keys = ctx.keystore.list();
      if (ctx.json) {
        ctx.print(json({ keys: keys.map(({ name, address }) => ({ name, address })) }));
      } else if (keys.length === 0) {
        ctx.print(`no keys in ${ctx.keystore.dir}; create one with coffer keys new NAME\n`);
      } else {
        ctx.print(
          table(
            ['NAME', 'ADDRESS'],
            keys.map((k) => [k.name, k.address]),
          ),
        );
      }
      return Promise.resolve();
    },
  },
  {
    name: 'keys show',
    synopsis: 'NAME',
    summary: "show a key's address (no passphrase needed)",
    positionals: { min: 1, max: 1 },
    run(ctx, [name]) {
      printEntry(ctx, ctx.keystore.get(name!));
      return Promise.resolve();
    },
  },
  {
    name: 'keys import',
    synopsis: 'NAME [--secret HEX]',
    summary: 'store an existing secret key (hex from --secret, a prompt, or stdin)',
    options: { secret: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [name], values) {
      assertNewName(ctx, name!);
      let secret = stringOption(values, 'secret');
      if (secret !== undefined) {
        ctx.warn('a secret key on the command line is visible to other users and in history');
      } else if (ctx.io.stdin.isTTY) {
        secret = await promptHidden(ctx.io, 'secret key (64 hex digits): ');
      } else {
        secret = await readStdin(ctx.io);
      }
      secret = secret.trim();
      if (!/^[0-9a-fA-F]{64}$/.test(secret)) {
        throw new CliError('invalid_secret_key', 'a secret key is 64 hex digits');
      }
      await store(ctx, name!, secret.toLowerCase());
    },
  },
  {
    name: 'keys export',
    synopsis: 'NAME',
    summary: 'print the secret key in hex (after unlocking it)',
    positionals: { min: 1, max: 1 },
    async run(ctx, [name]) {
      const key = await ctx.unlock(name!);
      ctx.warn(`this is the secret key of ${name!}: whoever sees it controls ${key.address}`);
      ctx.print(
        ctx.json
          ? json({ name, address: key.address, secretKey: key.secretKey })
          : key.secretKey + '\n',
      );
    },
  },
];
