import fs from 'node:fs';
import {
  verifyHeader,
  verifyHeaderChain,
  verifyTxInclusion,
  type SignedHeader,
  type TxWithProof,
} from '../sdk/index.js';
import {
  parseHex,
  parseWholeNumber,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from './context.js';
import { CliError, usageError } from './errors.js';
import { createProgress, json } from './output.js';

/** `GET /v1/blocks` answers at most this many headers a page. */
const blocksPerPage = 100;
/** Problems kept (a broken chain could report one per block); the rest are only counted. */
const problemsKeptMax = 1000;
/** Problems listed in human output. */
const problemsShownMax = 20;
/** A saved proof is a few KiB; refuse to read anything far larger. */
const proofFileBytesMax = 1024 * 1024;

/**
 * The producer every header must be signed by: `--producer` pins it (then nothing the node says
 * is trusted), otherwise it is block 0's producer as the node reports it (trust on first use).
 */
async function expectedProducer(
  ctx: CommandContext,
  values: OptionValues,
): Promise<{ producer: string; source: string }> {
  const pinned = stringOption(values, 'producer');
  if (pinned !== undefined) return { producer: ctx.resolveAddress(pinned), source: '--producer' };
  const genesis: Partial<SignedHeader> = await ctx.client.getBlock(0);
  const producer = genesis.header?.producer;
  if (typeof producer !== 'string') {
    throw new CliError('unexpected_answer', 'the node answered block 0 without a producer');
  }
  return { producer, source: 'block 0' };
}

function readProofFile(file: string): unknown {
  let text: string;
  try {
    if (fs.statSync(file).size > proofFileBytesMax)
      throw usageError(`${file} is larger than 1 MiB`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('verification_failed', `${file} is not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finish(
  ctx: CommandContext,
  result: Record<string, unknown> & { ok: boolean; problems: string[] },
  okLine: string,
  failTitle: string,
  problemsDropped = 0,
): void {
  const { problems } = result;
  if (ctx.json) ctx.print(json(result));
  else if (result.ok) ctx.print(okLine + '\n');
  else {
    const shown = problems.slice(0, problemsShownMax).map((p) => `  - ${p}\n`);
    const more = problems.length - shown.length + problemsDropped;
    ctx.print(`${failTitle}\n${shown.join('')}${more > 0 ? `  ... and ${more} more\n` : ''}`);
  }
  if (!result.ok) {
    const count = problems.length + problemsDropped;
    throw new CliError(
      'verification_failed',
      `${failTitle}: ${problems[0] ?? 'unknown problem'}${count > 1 ? ` (and ${count - 1} more)` : ''}`,
    );
  }
}

export const verifyCommands: Command[] = [
  {
    name: 'verify tx',
    synopsis: 'HASH [--proof-file FILE] [--producer ADDRESS]',
    summary:
      "check a tx's Merkle proof and its block's signature offline (FILE: a saved coffer tx show --json)",
    options: { 'proof-file': { type: 'string' }, producer: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [hashText], values) {
      const hash = parseHex(hashText!, 'HASH', 32);
      const proofFile = stringOption(values, 'proof-file');
      // A saved proof with a pinned producer is checked without asking the node anything.
      const data: unknown = proofFile ? readProofFile(proofFile) : await ctx.client.getTx(hash);
      const { producer, source } = await expectedProducer(ctx, values);
      const problems: string[] = [];
      if (isObject(data) && data.status === 'pending') {
        problems.push('the tx is still pending: it is in no block yet');
      } else {
        // The SDK checks the bundle against itself; that it is the bundle of HASH is ours to check.
        if (isObject(data) && data.hash !== hash) {
          problems.push(`the proof is for tx ${JSON.stringify(data.hash)}, not ${hash}`);
        }
        problems.push(...verifyTxInclusion(data as TxWithProof, producer).problems);
      }
      const header = isObject(data) && isObject(data.block) ? data.block.header : undefined;
      const height = isObject(header) && typeof header.height === 'number' ? header.height : null;
      const ok = problems.length === 0;
      finish(
        ctx,
        { ok, hash, height, producer, problems },
        `ok: tx ${hash} is in block ${height}, signed by ${producer} (the producer of ${source})`,
        `tx ${hash} does not verify`,
      );
    },
  },
  {
    name: 'verify chain',
    synopsis: '[--from H] [--producer ADDRESS]',
    summary: 'check every header from H (default 0) to the head: hashes, links, signatures',
    options: { from: { type: 'string' }, producer: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const fromText = stringOption(values, 'from');
      const from = fromText === undefined ? 0 : parseWholeNumber(fromText, '--from');
      // The head is fixed when the run starts: blocks committed meanwhile are not part of it.
      const head = (await ctx.client.health()).height;
      if (from > head) throw usageError(`--from ${from} is above the head, height ${head}`);
      const { producer, source } = await expectedProducer(ctx, values);
      const problems: string[] = [];
      let dropped = 0;
      const note = (found: string[]) => {
        const room = Math.max(0, problemsKeptMax - problems.length);
        problems.push(...found.slice(0, room));
        dropped += found.length - Math.min(room, found.length);
      };
      let previous: SignedHeader | undefined;
      if (from > 0) {
        // The run is anchored on the header just before it, itself checked.
        previous = await ctx.client.getBlock(from - 1);
        note(verifyHeader(previous, producer).problems);
      }
      const total = head - from + 1;
      const progress = createProgress(ctx.io.stdout, {
        label: 'verifying headers',
        total,
        enabled: ctx.io.stdout.isTTY && !ctx.json,
      });
      let done = 0;
      try {
        for (let start = from; start <= head; start += blocksPerPage) {
          const end = Math.min(start + blocksPerPage - 1, head);
          const { blocks } = await ctx.client.getBlocks(start, end);
          if (blocks.length === 0) {
            note([`the node returned no blocks from ${start} to ${end}`]);
            break;
          }
          if (start === from && blocks[0]!.header.height !== from) {
            note([`the first block returned is ${blocks[0]!.header.height}, not ${from}`]);
          }
          const base = done;
          const verdict = verifyHeaderChain(blocks, {
            ...(previous ? { previous } : {}),
            expectedProducer: producer,
            onProgress: (n) => progress.update(base + n),
          });
          note(verdict.problems);
          done += blocks.length;
          previous = blocks[blocks.length - 1];
        }
      } finally {
        progress.finish();
      }
      if (previous && previous.header.height !== head && problems.length === 0) {
        note([`the node returned blocks up to ${previous.header.height}, not ${head}`]);
      }
      finish(
        ctx,
        { ok: problems.length === 0, from, to: head, headers: done, producer, problems },
        `ok: ${done} headers from ${from} to ${head} link up and are signed by ${producer} ` +
          `(the producer of ${source})`,
        `the chain from ${from} to ${head} does not verify`,
        dropped,
      );
    },
  },
];
