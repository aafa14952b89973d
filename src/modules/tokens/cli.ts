import fs from 'node:fs';
import {
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json } from '../../cli/output.js';
import { report, submitTx } from '../../cli/payments.js';
import {
  isCardNumber,
  lifecycleTx,
  signDetokenise,
  signPanUpdate,
  signProvisionRequest,
  signRewrap,
  tokenChannels,
  tokenInitiators,
  tokenServiceTxs,
  type TokenInitiator,
  type TokenView,
} from './client.js';
import {
  newVaultKeyDocument,
  parseVaultKeys,
  readVaultKeyJson,
  vaultKeksMax,
  writeVaultKeyFile,
} from './vault.js';

/*
 * `coffer tokens ...`: the service's configuration and participants (a validator operator), a
 * requestor's provision, the lifecycle events a participant sends, the issuer's PAN update,
 * detokenisation and reads. A PAN is read from a file (`--pan-file`), never from the command
 * line, where shell history and the process list would keep it.
 */

/** A PAN file holds one PAN and a newline: anything bigger is not one. */
const panFileBytesMax = 64;

function readPanFile(file: string): string {
  let text: string;
  try {
    if (fs.statSync(file).size > panFileBytesMax) throw new Error('too large for a PAN');
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new CliError(
      'invalid_file',
      `cannot read --pan-file ${file}: ${(error as Error).message}`,
    );
  }
  // The message never holds the file's content.
  if (!isCardNumber(text)) throw new CliError('invalid_pan', `--pan-file ${file}: not a PAN`);
  return text;
}

async function chainIdOf(ctx: CommandContext): Promise<string> {
  return (await ctx.client.health()).chainId;
}

function describeToken(token: TokenView): string {
  return fields([
    ['token', token.token],
    ['status', token.status],
    ['sequence', token.seq],
    ['requestor', token.requestor],
    ['issuer', token.issuer],
    ['wallet', token.wallet],
    ['card', `${token.bin}…${token.last4}, expires ${token.expiry}`],
    ['channels', token.domain.channels.join(', ')],
    ['merchants', token.domain.merchantIds.join(', ') || 'any'],
    ['assurance', token.assuranceLevel],
    ['detokenised', token.detokenisations],
  ]);
}

function initiatorOf(values: OptionValues): TokenInitiator {
  const as = requiredOption(values, 'as');
  if (!(tokenInitiators as readonly string[]).includes(as)) {
    throw usageError(`--as must be one of ${tokenInitiators.join(', ')}`);
  }
  return as as TokenInitiator;
}

const fromOption = { from: { type: 'string' } } as const;

function lifecycleCommand(action: 'suspend' | 'resume' | 'delete', summary: string): Command {
  return {
    name: `tokens ${action}`,
    synopsis: 'TOKEN --from NAME --as issuer|requestor|wallet [--reason CODE]',
    summary,
    options: { ...fromOption, as: { type: 'string' }, reason: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [token], values) {
      const initiator = initiatorOf(values);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const current = await ctx.client.tokens.get(token!);
      const tx = lifecycleTx(`token.${action}`, {
        token: token!,
        seq: current.seq + 1,
        initiator,
        reason: stringOption(values, 'reason') ?? 'customer_request',
      });
      const result = await submitTx(ctx, key, tx, undefined);
      report(ctx, result, `token ${token} ${action}: event ${current.seq + 1}`);
    },
  };
}

/** Writes a vault key document readable by its owner only (temp file, fsync, rename). */
function writeVaultFile(file: string, document: unknown, flag: 'wx' | 'w'): void {
  try {
    writeVaultKeyFile(file, document, flag === 'wx');
  } catch (error) {
    throw new CliError('invalid_file', `cannot write ${file}: ${(error as Error).message}`);
  }
}

const vaultKeyCommands: Command[] = [
  {
    name: 'tokens vault-key new',
    synopsis: 'FILE [--id ID]',
    summary:
      'write a new vault key file (fingerprint key and a key-encryption key) for COFFER_VAULT_KEY_FILE; every node of a consortium uses the same',
    options: { id: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    run(ctx, [file], values) {
      const document = newVaultKeyDocument(stringOption(values, 'id') ?? 'k1');
      parseVaultKeys(document);
      writeVaultFile(file!, document, 'wx');
      ctx.print(ctx.json ? json({ file, current: document.current }) : `vault key file ${file}\n`);
      return Promise.resolve();
    },
  },
  {
    name: 'tokens vault-key rotate',
    synopsis: 'FILE --id ID',
    summary:
      'add a key-encryption key ID to a vault key file and make it current: new envelopes are wrapped with it (the older keys stay to open existing ones)',
    options: { id: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    run(ctx, [file], values) {
      const id = requiredOption(values, 'id');
      let document: ReturnType<typeof newVaultKeyDocument>;
      try {
        // Refuses a file others may read, and never quotes the file (a parser's message would).
        document = readVaultKeyJson(file!) as typeof document;
        parseVaultKeys(document, file);
      } catch (error) {
        throw new CliError('invalid_file', `${file}: ${(error as Error).message}`);
      }
      if (document.keks.length >= vaultKeksMax) {
        throw new CliError('invalid_file', `${file} holds ${vaultKeksMax} keys already`);
      }
      const fresh = newVaultKeyDocument(id).keks[0]!;
      const next = { ...document, keks: [...document.keks, fresh], current: id };
      try {
        parseVaultKeys(next, file);
      } catch (error) {
        throw usageError((error as Error).message);
      }
      writeVaultFile(file!, next, 'w');
      ctx.print(
        ctx.json ? json({ file, current: id }) : `vault key file ${file}: current key ${id}\n`,
      );
      return Promise.resolve();
    },
  },
];

export const tokensCommands: Command[] = [
  ...vaultKeyCommands,
  {
    name: 'tokens configure',
    synopsis: 'BIN... --from NAME',
    summary: 'set the token BINs (6 digits each) tokens are issued in (a validator operator)',
    options: fromOption,
    positionals: { min: 1, max: 20 },
    async run(ctx, bins, values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      report(
        ctx,
        await submitTx(ctx, key, tokenServiceTxs.configure(bins), undefined),
        'token BINs set',
      );
    },
  },
  {
    name: 'tokens register',
    synopsis: 'ADDRESS --name TEXT --role ROLE... [--bin BIN...] [--merchant M...] --from NAME',
    summary:
      'register a participant (issuer with its BINs, requestor, acquirer with its merchant ids, wallet): a validator operator',
    options: {
      ...fromOption,
      name: { type: 'string' },
      role: { type: 'string', multiple: true },
      bin: { type: 'string', multiple: true },
      merchant: { type: 'string', multiple: true },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [address], values) {
      const roles = (values.role as string[] | undefined) ?? [];
      const bins = values.bin as string[] | undefined;
      const merchantIds = values.merchant as string[] | undefined;
      if (roles.length === 0)
        throw usageError('--role is required (issuer, requestor, acquirer, wallet)');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const tx = tokenServiceTxs.registerParticipant({
        address: ctx.resolveAddress(address!, 'ADDRESS'),
        name: requiredOption(values, 'name'),
        roles: roles as ('issuer' | 'requestor' | 'acquirer' | 'wallet')[],
        ...(bins === undefined ? {} : { bins }),
        ...(merchantIds === undefined ? {} : { merchantIds }),
      });
      report(ctx, await submitTx(ctx, key, tx, undefined), `participant ${address} registered`);
    },
  },
  {
    name: 'tokens provision',
    synopsis:
      '--from NAME --pan-file FILE --expiry YYYY-MM --request-id ID [--channel C...] [--merchant M...] [--assurance LEVEL] [--wallet ADDRESS]',
    summary: "ask for a token for the PAN in FILE, signed by the requestor's key NAME",
    options: {
      ...fromOption,
      'pan-file': { type: 'string' },
      expiry: { type: 'string' },
      'request-id': { type: 'string' },
      channel: { type: 'string', multiple: true },
      merchant: { type: 'string', multiple: true },
      assurance: { type: 'string' },
      wallet: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const pan = readPanFile(requiredOption(values, 'pan-file'));
      const wallet = stringOption(values, 'wallet');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const body = signProvisionRequest(key, await chainIdOf(ctx), {
        requestId: requiredOption(values, 'request-id'),
        pan,
        expiry: requiredOption(values, 'expiry'),
        domain: {
          channels: (values.channel as string[] | undefined) ?? [...tokenChannels],
          merchantIds: (values.merchant as string[] | undefined) ?? [],
        } as never,
        assuranceLevel: stringOption(values, 'assurance') ?? 'unverified',
        ...(wallet === undefined ? {} : { wallet: ctx.resolveAddress(wallet, '--wallet') }),
      });
      const result = await ctx.client.tokens.provision(body);
      if (ctx.json) ctx.print(json(result));
      else ctx.print(`token provisioned (tx ${result.txHash})\n${describeToken(result.token!)}`);
    },
  },
  lifecycleCommand('suspend', 'suspend an active token (issuer, requestor or wallet)'),
  lifecycleCommand('resume', 'resume a suspended token'),
  lifecycleCommand('delete', 'delete a token for good'),
  {
    name: 'tokens update-pan',
    synopsis: 'TOKEN --from NAME --expiry YYYY-MM [--pan-file FILE] [--reason CODE]',
    summary: "a new expiry or a re-issued card's PAN behind the token (its issuer's key NAME)",
    options: {
      ...fromOption,
      expiry: { type: 'string' },
      'pan-file': { type: 'string' },
      reason: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [token], values) {
      const file = stringOption(values, 'pan-file');
      const pan = file === undefined ? undefined : readPanFile(file);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const current = await ctx.client.tokens.get(token!);
      const body = signPanUpdate(key, await chainIdOf(ctx), token!, {
        seq: current.seq + 1,
        reason: stringOption(values, 'reason') ?? (pan ? 'card_reissued' : 'expiry_update'),
        expiry: requiredOption(values, 'expiry'),
        ...(pan === undefined ? {} : { pan }),
      });
      const result = await ctx.client.tokens.updatePan(token!, body);
      if (ctx.json) ctx.print(json(result));
      else
        ctx.print(`token ${token} updated (tx ${result.txHash})\n${describeToken(result.token!)}`);
    },
  },
  {
    name: 'tokens detokenise',
    synopsis: 'TOKEN --from NAME --channel C [--merchant M] [--purpose P]',
    summary: "print the PAN behind an active token (the issuer's or an acquirer's key); recorded",
    options: {
      ...fromOption,
      channel: { type: 'string' },
      merchant: { type: 'string' },
      purpose: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [token], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const current = await ctx.client.tokens.get(token!);
      const merchantId = stringOption(values, 'merchant');
      const body = signDetokenise(key, await chainIdOf(ctx), token!, {
        n: current.detokenisations + 1,
        purpose: stringOption(values, 'purpose') ?? 'authorization',
        channel: requiredOption(values, 'channel'),
        ...(merchantId === undefined ? {} : { merchantId }),
      });
      const result = await ctx.client.tokens.detokenise(token!, body);
      if (ctx.json) ctx.print(json(result));
      else
        ctx.print(
          fields([
            ['token', result.token],
            ['pan', result.pan],
            ['expiry', result.expiry],
            ['tx', result.txHash],
          ]),
        );
    },
  },
  {
    name: 'tokens rewrap',
    synopsis: '--kek-id ID --from NAME [--limit N]',
    summary:
      "after a key rotation, re-wrap every token's data key under the node's current key-encryption key ID (a validator operator)",
    options: { ...fromOption, 'kek-id': { type: 'string' }, limit: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const kekId = requiredOption(values, 'kek-id');
      const limit = Number(stringOption(values, 'limit') ?? '100');
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw usageError('--limit must be a whole number from 1 to 100');
      }
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const chainId = await chainIdOf(ctx);
      let after: string | undefined;
      let total = 0;
      // One page a call; each page is one token.rewrap tx, final before the next.
      do {
        const page = await ctx.client.tokens.rewrap(
          signRewrap(key, chainId, { kekId, limit, ...(after === undefined ? {} : { after }) }),
        );
        total += page.rewrapped;
        after = page.next;
      } while (after !== undefined);
      ctx.print(
        ctx.json
          ? json({ kekId, rewrapped: total })
          : `${total} data keys re-wrapped under ${kekId}\n`,
      );
    },
  },
  {
    name: 'tokens show',
    synopsis: 'TOKEN',
    summary: "a token's status, sequence number, parties and domain (never its PAN)",
    positionals: { min: 1, max: 1 },
    async run(ctx, [token]) {
      const record = await ctx.client.tokens.get(token!);
      ctx.print(ctx.json ? json(record) : describeToken(record));
    },
  },
  {
    name: 'tokens participant',
    synopsis: 'ADDRESS',
    summary: "a participant's roles and BINs",
    positionals: { min: 1, max: 1 },
    async run(ctx, [address]) {
      const record = await ctx.client.tokens.participant(ctx.resolveAddress(address!, 'ADDRESS'));
      ctx.print(
        ctx.json
          ? json(record)
          : fields([
              ['participant', record.address],
              ['name', record.name],
              ['roles', record.roles.join(', ')],
              ['bins', record.bins.join(', ') || undefined],
            ]),
      );
    },
  },
];
