import { readJsonFile as readJsonFileOfSize } from '../../cli/files.js';
import {
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { amountOf, memoOf, report, submitTx, txOptions } from '../../cli/payments.js';
import { CryptoInputError } from '../../crypto/index.js';
import { formatUnits } from '../../ledger/amount.js';
import { CofferError } from '../../sdk/errors.js';
import type { SigningKey } from '../../sdk/keys.js';
import { txs } from '../../sdk/tx.js';
import { prepareNonceCommitment, prepareProducerRegistration, producerIdOf } from './client.js';
import {
  producerEscrowAddress,
  type EquivocationEvidence,
  type EvidenceHalf,
  type Producer,
} from './schema.js';

/**
 * The producer registry (issue 4) from the command line: register a producer with a bond and its
 * encrypted identity (pending until validators approve it, issue 13), approve one as a validator's
 * operator, withdraw a pending one, commit its nonces, unjail one jailed for downtime, unbond it,
 * claim a bond a freeze kept back, look producers up, and report equivocation.
 *
 * The producer's accountable key derives (`deriveAccountableKey`) from the 32-byte secret of a
 * keystore key, as the node derives its own from `producer-key.json`: one secret, two keys, the
 * ed25519 one an account and the accountable one the producer id.
 */

/**
 * An info file or an evidence file is a few KiB at most (info is capped at 4 KiB of canonical
 * JSON, two signed headers with nonce proofs are about 3 KiB); a larger file is not one, and is
 * refused before it is read into memory.
 */
const jsonFileBytesMax = 64 * 1024;
/** Default heights in the first (and each next) nonce range: ~1 to 1.5 s of work for the CLI. */
const nonceHeightsDefault = 1_000;
/**
 * How far above the head the first range starts by default. The range must start above the height
 * at which the register tx executes: the lead covers computing the range and the block the tx
 * waits for, even on a chain cutting a block every 100 ms.
 */
const startLeadHeights = 100;
/** The dev chain's bond asset (data-dir.ts: USD, or the genesis's first asset). */
const devBondAsset = 'USD';

/** Reads and parses a small JSON file; every failure is `invalid_file` naming the file. */
function readJsonFile(file: string, what: string): unknown {
  return readJsonFileOfSize(file, what, jsonFileBytesMax);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The bond asset of the chain. A node that publishes the registry's parameters says; otherwise the
 * escrow of a producer with a bond holds it (an escrow holds nothing else unless someone sent
 * to it: an ambiguous escrow answers undefined). Undefined when nothing tells.
 */
async function knownBondAsset(ctx: CommandContext): Promise<string | undefined> {
  const { producers, params } = await ctx.client.listProducers();
  if (params) return params.bondAsset;
  const bonded = producers.find((p) => BigInt(p.bond) > 0n);
  if (!bonded) return undefined;
  const escrow = await ctx.client.getAccount(producerEscrowAddress(bonded.id));
  const exact = escrow.balances.filter((b) => b.balance === bonded.bond);
  return exact.length === 1 ? exact[0]!.asset : undefined;
}

/** Formats minor units of the bond asset, for human output. */
interface BondFormat {
  format(minor: string): string;
}

async function bondFormat(ctx: CommandContext): Promise<BondFormat> {
  let symbol = await knownBondAsset(ctx);
  let decimals: number | undefined;
  try {
    // Unknown: the dev chain's rule (USD when the chain has it) is the best guess for display.
    const asset = await ctx.client.getAsset(symbol ?? devBondAsset);
    symbol = asset.symbol;
    decimals = asset.decimals;
  } catch (error) {
    if (!(error instanceof CofferError) || error.status !== 404) throw error;
  }
  if (symbol === undefined || decimals === undefined) {
    return { format: (minor) => `${minor} (minor units of the bond asset)` };
  }
  const [shown, places] = [symbol, decimals];
  return { format: (minor) => `${formatUnits(BigInt(minor), places)} ${shown}` };
}

/** Refused before computing any nonce: the node would answer `producer_exists` and spend a nonce. */
async function assertNotRegistered(ctx: CommandContext, id: string): Promise<void> {
  try {
    const found = await ctx.client.getProducer(id);
    throw new CliError(
      'producer_exists',
      `producer ${found.id} is already registered (status ${found.status}); one key registers once`,
    );
  } catch (error) {
    if (error instanceof CofferError && error.code === 'producer_not_found') return;
    throw error;
  }
}

function lastNonceHeight(producer: Producer): number | undefined {
  const last = producer.nonceRanges[producer.nonceRanges.length - 1];
  return last && last.fromHeight + last.count - 1;
}

function describeProducer(producer: Producer, bond: BondFormat): string {
  const ranges = producer.nonceRanges;
  const first = ranges[0];
  const through = lastNonceHeight(producer);
  let text = fields([
    ['producer', producer.id],
    ['status', producer.status],
    ['public key', producer.publicKey],
    ['operator', producer.operator],
    ['bond', bond.format(producer.bond)],
    ['escrow', producerEscrowAddress(producer.id)],
    ['registered', `at height ${producer.registeredAtHeight}`],
    [
      'nonces',
      first && through !== undefined
        ? `heights ${first.fromHeight} to ${through} (${ranges.length} range${ranges.length === 1 ? '' : 's'})`
        : 'none committed',
    ],
    [
      'approvals',
      producer.approvals === undefined
        ? undefined
        : `${producer.approvals.length} (${producer.approvals.join(' ') || 'none yet'})`,
    ],
    [
      'last seen',
      producer.lastSeenHeight === undefined ? undefined : `at height ${producer.lastSeenHeight}`,
    ],
    [
      'jailed',
      producer.jail === undefined
        ? undefined
        : `for downtime at height ${producer.jail.jailedAtHeight} (no block since ${producer.jail.lastSeenHeight}); may be unjailed from height ${producer.jail.releaseHeight}`,
    ],
    [
      'unbonds',
      producer.unbondAtHeight === undefined ? undefined : `at height ${producer.unbondAtHeight}`,
    ],
    [
      'bond owed',
      producer.bondOwed === undefined
        ? undefined
        : `${bond.format(producer.bondOwed)} (the return was refused: claim it with producer claim-bond)`,
    ],
  ]);
  const { equivocation } = producer;
  if (equivocation) {
    text +=
      '\nequivocation\n' +
      indent(
        fields([
          ['height', equivocation.height],
          ['headers', equivocation.headerHashes.join(' ')],
          [
            'info',
            equivocation.infoRevealed
              ? JSON.stringify(equivocation.info)
              : 'not revealed: the hidden information does not open (slashed all the same)',
          ],
          ['slashed', bond.format(equivocation.slashed)],
          ['burned', bond.format(equivocation.burned)],
          ['reward', `${bond.format(equivocation.reward)} to ${equivocation.reporter}`],
          ['recorded', `at height ${equivocation.recordedAtHeight}`],
        ]),
      );
  }
  return text;
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}

function heightsOption(values: OptionValues): number {
  const text = stringOption(values, 'nonces');
  const count = text === undefined ? nonceHeightsDefault : parseWholeNumber(text, '--nonces');
  if (count < 1) throw usageError('--nonces must be at least 1');
  return count;
}

/** A `CryptoInputError` from preparing a tx (info too large, a range out of bounds) is the user's. */
function inputError(error: unknown, codes: Record<string, string>): unknown {
  if (!(error instanceof CryptoInputError)) return error;
  const code = codes[error.field] ?? 'invalid_input';
  return new CliError(code, error.message);
}

/** The evidence in FILE: `{a, b}`, each `{header, signature}` (other fields, such as a block's
 * `hash` and `txs`, are dropped, so two `GET /v1/blocks/{height}` answers will do). */
function readEvidence(file: string): EquivocationEvidence {
  const raw = readJsonFile(file, 'evidence file');
  const shape = 'evidence is {"a": {"header", "signature"}, "b": {"header", "signature"}}';
  if (!isObject(raw) || !('a' in raw) || !('b' in raw)) {
    throw new CliError('invalid_evidence', `${file}: ${shape}`);
  }
  const half = (value: unknown, name: string): EvidenceHalf => {
    if (!isObject(value) || !isObject(value.header) || !isObject(value.signature)) {
      throw new CliError(
        'invalid_evidence',
        `${file}: "${name}" must hold a header object and a signature object; ${shape}`,
      );
    }
    return {
      header: value.header as unknown as EvidenceHalf['header'],
      signature: value.signature as unknown as EvidenceHalf['signature'],
    };
  };
  return { a: half(raw.a, 'a'), b: half(raw.b, 'b') };
}

/** What `submitTx` answers. */
type TxResult = Awaited<ReturnType<typeof submitTx>>;

/**
 * A tx about one producer, signed by NAME (its operator, or a validator's for approve):
 * `ID --from NAME`, the tx built from `{producer: ID}`. `before` reads what must be read before
 * the tx changes it; `after` reports.
 */
function producerTxCommand<T = undefined>(spec: {
  name: string;
  summary: string;
  build: (payload: { producer: string }) => { type: string; payload: Record<string, unknown> };
  before?: (ctx: CommandContext, id: string) => Promise<T>;
  after(
    ctx: CommandContext,
    id: string,
    result: TxResult,
    done: { key: SigningKey; before: T | undefined },
  ): Promise<void> | void;
}): Command {
  return {
    name: spec.name,
    synopsis: 'ID --from NAME',
    summary: spec.summary,
    options: txOptions,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const before = await spec.before?.(ctx, id!);
      const result = await submitTx(ctx, key, spec.build({ producer: id! }), memoOf(values));
      await spec.after(ctx, id!, result, { key, before });
    },
  };
}

export const producerCommands: Command[] = [
  {
    name: 'producer register',
    synopsis:
      '--info FILE --bond AMOUNT [--asset SYMBOL] --from NAME [--producer-key NAME] ' +
      '[--nonces N] [--start-height H]',
    summary:
      "register a block producer: NAME pays the bond and operates it; the producer's key " +
      'derives from the secret of --producer-key (default: NAME); FILE is its identity (JSON, ' +
      'at most 4 KiB), published encrypted; commits N nonces (default 1000) from height H ' +
      `(default: ${startLeadHeights} above the head)`,
    options: {
      ...txOptions,
      info: { type: 'string' },
      bond: { type: 'string' },
      asset: { type: 'string' },
      'producer-key': { type: 'string' },
      nonces: { type: 'string' },
      'start-height': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const infoFile = requiredOption(values, 'info');
      const bondText = requiredOption(values, 'bond');
      const from = requiredOption(values, 'from');
      const producerKeyName = stringOption(values, 'producer-key') ?? from;
      const count = heightsOption(values);
      const startText = stringOption(values, 'start-height');
      const startHeight =
        startText === undefined ? undefined : parseWholeNumber(startText, '--start-height');
      const info = readJsonFile(infoFile, 'info file');
      // The registry takes the bond in its bond asset; an --asset that is not it would scale the
      // amount with the wrong decimals, so it is refused when the chain's asset is known.
      const known = await knownBondAsset(ctx);
      const given = stringOption(values, 'asset');
      if (given !== undefined && known !== undefined && given !== known) {
        throw new CliError('asset_mismatch', `this chain takes bonds in ${known}, not ${given}`);
      }
      const { minor, shown } = await amountOf(ctx, bondText, given ?? known ?? devBondAsset);
      ctx.keystore.get(producerKeyName);
      const key = await ctx.unlock(from);
      const seed =
        producerKeyName === from ? key.secretKey : (await ctx.unlock(producerKeyName)).secretKey;
      await assertNotRegistered(ctx, producerIdOf(seed));
      const { chainId, height } = await ctx.client.health();
      const fromHeight = startHeight ?? height + startLeadHeights;
      if (fromHeight <= height) {
        throw usageError(`--start-height must be above the head, ${height}`);
      }
      let prepared: ReturnType<typeof prepareProducerRegistration>;
      try {
        prepared = prepareProducerRegistration({
          seed,
          info,
          bond: minor,
          chainId,
          fromHeight,
          count,
        });
      } catch (error) {
        throw inputError(error, { info: 'invalid_info', count: 'invalid_nonce_range' });
      }
      const result = await submitTx(
        ctx,
        key,
        txs.registerProducer(prepared.payload),
        memoOf(values),
      );
      report(
        ctx,
        result,
        `registered producer ${prepared.producer}`,
        [
          ['producer', prepared.producer],
          ['operator', key.address],
          ['bond', shown],
          ['nonces', `heights ${fromHeight} to ${fromHeight + count - 1}`],
          [
            'status',
            'pending: active once more than two thirds of the validators run coffer producer approve',
          ],
        ],
        { producer: prepared.producer },
      );
    },
  },
  {
    name: 'producer commit-nonces',
    synopsis: 'ID --from NAME [--producer-key NAME] [--nonces N]',
    summary:
      "commit a producer's next N nonces (default 1000), after its last committed range (or, " +
      `when that has run out, from ${startLeadHeights} above the head); NAME is its operator, ` +
      '--producer-key the key it was registered with (default: NAME)',
    options: { ...txOptions, 'producer-key': { type: 'string' }, nonces: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const from = requiredOption(values, 'from');
      const producerKeyName = stringOption(values, 'producer-key') ?? from;
      const count = heightsOption(values);
      ctx.keystore.get(producerKeyName);
      const producer = await ctx.client.getProducer(id!);
      const through = lastNonceHeight(producer);
      const { height } = await ctx.client.health();
      // A range that ran out (the producer was pending or jailed meanwhile) cannot be continued:
      // the next starts a lead above the head instead (the chain accepts any later start then).
      const fromHeight =
        through !== undefined && through > height ? through + 1 : height + startLeadHeights;
      const key = await ctx.unlock(from);
      const seed =
        producerKeyName === from ? key.secretKey : (await ctx.unlock(producerKeyName)).secretKey;
      if (producerIdOf(seed) !== producer.id) {
        throw new CliError(
          'wrong_producer_key',
          `key ${producerKeyName} is not the key of producer ${producer.id}`,
        );
      }
      const { chainId } = await ctx.client.health();
      let prepared: ReturnType<typeof prepareNonceCommitment>;
      try {
        prepared = prepareNonceCommitment({ seed, chainId, fromHeight, count });
      } catch (error) {
        throw inputError(error, { count: 'invalid_nonce_range' });
      }
      const result = await submitTx(ctx, key, txs.commitNonces(prepared.payload), memoOf(values));
      report(ctx, result, `committed nonces of producer ${producer.id}`, [
        ['nonces', `heights ${fromHeight} to ${fromHeight + count - 1}`],
      ]);
    },
  },
  producerTxCommand({
    name: 'producer unbond',
    summary:
      'stop producing and ask for the bond back (an active producer, or one jailed for ' +
      "downtime): it returns to the operator NAME after the chain's unbonding period, unless " +
      'evidence jails the producer first',
    build: txs.unbondProducer,
    async after(ctx, id, result) {
      const at =
        result.outcome.status === 'ok'
          ? (await ctx.client.getProducer(id)).unbondAtHeight
          : undefined;
      report(
        ctx,
        result,
        `producer ${id} is unbonding`,
        at === undefined ? [] : [['bond returns', `at height ${at}`]],
        at === undefined ? {} : { unbondAtHeight: at },
      );
    },
  }),
  producerTxCommand({
    name: 'producer approve',
    summary:
      'approve a pending producer as a validator: NAME operates an active producer; the pending ' +
      'one becomes active once more than two thirds of the validators approved it',
    build: txs.approveProducer,
    async after(ctx, id, result) {
      const after = result.outcome.status === 'ok' ? await ctx.client.getProducer(id) : undefined;
      const { validators } = after ? await ctx.client.finality() : { validators: [] };
      const operators = new Set(validators.map((v) => v.operator)).size;
      report(
        ctx,
        result,
        after?.status === 'active'
          ? `producer ${id} is active`
          : `approved producer ${id}: ${after?.approvals?.length ?? 0} of the ${operators} validators so far; active at more than two thirds`,
        after ? [['status', after.status]] : [],
        after ? { producerStatus: after.status, approvals: after.approvals ?? [] } : {},
      );
    },
  }),
  producerTxCommand({
    name: 'producer withdraw',
    summary: 'take back a pending registration: the bond returns to the operator NAME at once',
    build: txs.withdrawProducer,
    after(ctx, id, result, { key }) {
      report(ctx, result, `producer ${id} withdrawn; its bond is back with ${key.address}`);
    },
  }),
  producerTxCommand({
    name: 'producer unjail',
    summary:
      'bring a producer jailed for downtime back into the active set, from its release height; ' +
      'commit nonces ahead first (commit-nonces), or it misses its turns and is jailed again',
    build: txs.unjailProducer,
    after(ctx, id, result) {
      report(ctx, result, `producer ${id} is active again`);
    },
  }),
  producerTxCommand({
    name: 'producer claim-bond',
    summary:
      'take a bond whose return was refused (the operator was frozen for the bond asset when ' +
      'its unbonding ended); NAME is the operator',
    build: txs.claimProducerBond,
    before: async (ctx, id) => (await ctx.client.getProducer(id)).bondOwed,
    async after(ctx, id, result, { before: owed }) {
      const shown: [string, string][] =
        owed === undefined ? [] : [['bond', (await bondFormat(ctx)).format(owed)]];
      report(
        ctx,
        result,
        `claimed the bond of producer ${id}`,
        shown,
        owed === undefined ? {} : { bond: owed },
      );
    },
  }),
  {
    name: 'producer show',
    synopsis: 'ID',
    summary:
      "a producer's key, operator, bond, status and nonces; once jailed, its revealed identity",
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const producer = await ctx.client.getProducer(id!);
      if (ctx.json) {
        ctx.print(json(producer));
        return;
      }
      ctx.print(describeProducer(producer, await bondFormat(ctx)));
    },
  },
  {
    name: 'producer list',
    synopsis: '',
    summary:
      'every registered producer: id, status (pending, active, jailed, ...), bond and how far ' +
      'its nonces are committed',
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const list = await ctx.client.listProducers();
      if (ctx.json) {
        ctx.print(json(list));
        return;
      }
      if (list.producers.length === 0) {
        ctx.print('no producers\n');
        return;
      }
      const bond = await bondFormat(ctx);
      ctx.print(
        table(
          ['ID', 'STATUS', 'BOND', 'REGISTERED', 'NONCES TO'],
          list.producers.map((p) => [
            p.id,
            p.status,
            bond.format(p.bond),
            String(p.registeredAtHeight),
            String(lastNonceHeight(p) ?? '-'),
          ]),
          [2, 3, 4],
        ),
      );
    },
  },
  {
    name: 'evidence submit',
    synopsis: 'FILE',
    summary:
      'report a producer that signed two headers at one height: FILE is {"a", "b"}, each ' +
      '{"header", "signature"}; the node jails it, slashes its bond and reveals its identity',
    positionals: { min: 1, max: 1 },
    async run(ctx, [file]) {
      const evidence = readEvidence(file!);
      const result = await ctx.client.submitEvidence(evidence);
      if (ctx.json) {
        ctx.print(json(result));
        return;
      }
      ctx.print(
        `producer ${result.producer} jailed for signing two headers at height ${evidence.a.header.height}\n` +
          fields([
            [
              'info',
              result.infoRevealed
                ? JSON.stringify(result.info)
                : 'not revealed: the hidden information does not open (slashed all the same)',
            ],
            ['tx', result.hash],
            ['status', result.status],
            ['height', result.height],
          ]),
      );
    },
  },
];
