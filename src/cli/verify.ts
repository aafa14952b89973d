import fs from 'node:fs';
import type { Genesis } from '../chain/index.js';
import { genesisWrites } from '../chain/index.js';
import { toHex } from '../crypto/index.js';
import { nodeModuleRegistry } from '../node/chain-rules.js';
import {
  followChain,
  verifyTxInclusion,
  type LightClientState,
  type SignedHeader,
  type TxWithProof,
} from '../sdk/index.js';
import { genesisParentRoot, nextStateRoot } from '../state/index.js';
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

/** Problems kept (a broken chain could report one per block); the rest are only counted. */
const problemsKeptMax = 1000;
/** Problems listed in human output. */
const problemsShownMax = 20;
/** A saved proof is a few KiB; refuse to read anything far larger. */
const proofFileBytesMax = 1024 * 1024;
/** A saved light-client state holds every committed range: generous, but bounded. */
const trustFileBytesMax = 64 * 1024 * 1024;

export function readJsonFile(file: string, bytesMax: number, what: string): unknown {
  let text: string;
  try {
    if (fs.statSync(file).size > bytesMax) {
      throw usageError(`${file} is larger than ${bytesMax / (1024 * 1024)} MiB`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('verification_failed', `${file} is not JSON (${what})`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Block 0's state root recomputed from the genesis document the node serves, with this Coffer's
 * modules: the genesis producers' first nonce ranges are then the chain's, not the node's word.
 */
function checkGenesis(genesis: unknown, block0: SignedHeader): string | undefined {
  let root: string;
  try {
    const writes = genesisWrites(genesis as Genesis, nodeModuleRegistry().modules);
    root = toHex(nextStateRoot(genesisParentRoot, writes));
  } catch (error) {
    return `it cannot be applied (${(error as Error).message})`;
  }
  return root === block0.header.stateRoot
    ? undefined
    : `it gives state root ${root}, block 0 carries ${block0.header.stateRoot}`;
}

/** A light-client state saved by `--save-trust`, checked for shape (its content was verified). */
export function readTrustFile(file: string): LightClientState {
  const state = readJsonFile(file, trustFileBytesMax, 'a saved light-client state');
  if (
    !isObject(state) ||
    typeof state.chainId !== 'string' ||
    typeof state.genesisHash !== 'string' ||
    !isObject(state.head) ||
    !isObject(state.trust) ||
    !isObject(state.trust.producers)
  ) {
    throw usageError(`${file} is not a state saved by coffer verify chain --save-trust`);
  }
  return state as unknown as LightClientState;
}

function saveTrustFile(file: string, state: LightClientState): void {
  // Written whole then renamed, so an interrupted run never leaves half a trust file.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(state) + '\n', { mode: 0o644 });
  fs.renameSync(temporary, file);
}

/**
 * Follows the chain to `toHeight` from the trust file (when given) or from block 0, building the
 * producer registry from the chain itself. The label says which anchor the result rests on.
 */
export async function follow(
  ctx: CommandContext,
  values: OptionValues,
  toHeight: number,
  onBlock?: (block: SignedHeader) => void,
) {
  const trustFile = stringOption(values, 'trust');
  const pinned = stringOption(values, 'genesis');
  const from = trustFile === undefined ? undefined : readTrustFile(trustFile);
  const genesisHash = pinned === undefined ? undefined : parseHex(pinned, '--genesis', 32);
  if (from && genesisHash !== undefined && from.genesisHash !== genesisHash) {
    throw usageError(`${trustFile} is of the chain whose block 0 is ${from.genesisHash}`);
  }
  const startHeight = from ? from.head.header.height + 1 : 0;
  const progress = createProgress(ctx.io.stdout, {
    label: 'following headers',
    total: Math.max(1, toHeight - startHeight + 1),
    enabled: ctx.io.stdout.isTTY && !ctx.json,
  });
  let done = 0;
  try {
    const result = await followChain(ctx.client, {
      toHeight,
      ...(from ? { from } : {}),
      ...(genesisHash === undefined ? {} : { genesisHash }),
      checkGenesis,
      onBlock: (block) => {
        onBlock?.(block);
        progress.update(++done);
      },
    });
    const anchor = from
      ? `the state in ${trustFile} (at height ${from.head.header.height})`
      : genesisHash !== undefined
        ? `block 0 pinned by --genesis`
        : `block 0 as the node answered it (pin it with --genesis HASH)`;
    return { result, anchor, from };
  } finally {
    progress.finish();
  }
}

export function finish(
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

export const trustOptions = {
  trust: { type: 'string' },
  genesis: { type: 'string' },
} as const;

/** One committed tx to check, as `GET /v1/txs/{hash}` answers it, with a name for the messages. */
export interface CommittedTxToCheck {
  label: string;
  data: unknown;
}

/**
 * Checks committed txs the way `verify tx` checks one: follows the chain (from `--trust` or
 * block 0) up to the highest of their blocks, so each block's producer signed with a nonce
 * committed on the chain and each block is the followed chain's block at its height; then each
 * tx's hash, signature, Merkle proof and receipt proof (`verifyTxInclusion`). Answers the
 * problems (each prefixed by its label), the failed checks, each tx's outcome (its receipt's
 * status, undefined when it did not verify) and the anchor the result rests on.
 */
export async function verifyCommittedTxs(
  ctx: CommandContext,
  values: OptionValues,
  bundles: readonly CommittedTxToCheck[],
): Promise<{
  problems: string[];
  checks: string[];
  outcomes: (string | undefined)[];
  anchor: string;
}> {
  const problems: string[] = [];
  const checks: string[] = [];
  const heights = bundles.map(({ label, data }) => {
    const header = isObject(data) && isObject(data.block) ? data.block.header : undefined;
    const height = isObject(header) ? header.height : undefined;
    if (typeof height === 'number' && Number.isSafeInteger(height) && height >= 0) return height;
    problems.push(`${label}: the proof has no block header with a height`);
    checks.push('malformed');
    return undefined;
  });
  const known = heights.filter((h): h is number => h !== undefined);
  if (known.length === 0)
    return { problems, checks, outcomes: bundles.map(() => undefined), anchor: '' };
  const top = Math.max(...known);
  const trustFile = stringOption(values, 'trust');
  const saved = trustFile === undefined ? undefined : readTrustFile(trustFile);
  let trustState: LightClientState | undefined = saved;
  let anchor: string;
  const followed = new Map<number, string>();
  if (saved === undefined || saved.head.header.height < top) {
    const wanted = new Set(known);
    const result = await follow(ctx, values, top, (block) => {
      if (wanted.has(block.header.height)) followed.set(block.header.height, block.hash);
    });
    anchor = result.anchor;
    problems.push(...result.result.problems);
    checks.push(...result.result.failures.map((f) => f.check));
    trustState = result.result.state;
  } else {
    anchor = `the state in ${trustFile} (its nonce ranges; the blocks are past it, so not linked)`;
  }
  const outcomes = bundles.map(({ label, data }, i) => {
    const height = heights[i];
    if (height === undefined || !trustState) return undefined;
    const chainHash = followed.get(height);
    if (chainHash !== undefined && isObject(data) && isObject(data.block)) {
      if (data.block.hash !== chainHash) {
        problems.push(`${label}: its block is not the chain's block ${height} (${chainHash})`);
        checks.push('chain_link');
      }
    }
    const verdict = verifyTxInclusion(data as TxWithProof, trustState.trust);
    problems.push(...verdict.problems.map((p) => `${label}: ${p}`));
    checks.push(...verdict.failures.map((f) => f.check));
    return verdict.ok ? verdict.outcome : undefined;
  });
  return { problems, checks, outcomes, anchor };
}

export const verifyCommands: Command[] = [
  {
    name: 'verify tx',
    synopsis: 'HASH [--proof-file FILE] [--trust FILE] [--genesis HASH] [--no-receipt]',
    summary:
      "check a tx's Merkle proof, its receipt and its block's signature and committed nonce (FILE: a saved coffer tx show --json; --trust: a state saved by verify chain --save-trust)",
    options: {
      'proof-file': { type: 'string' },
      'no-receipt': { type: 'boolean' },
      ...trustOptions,
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [hashText], values) {
      const hash = parseHex(hashText!, 'HASH', 32);
      const proofFile = stringOption(values, 'proof-file');
      const checkReceipt = values['no-receipt'] !== true;
      // A saved proof with a trust file is checked without asking the node anything.
      const data: unknown = proofFile
        ? readJsonFile(proofFile, proofFileBytesMax, 'a saved proof')
        : await ctx.client.getTx(hash);
      const problems: string[] = [];
      const checks: string[] = [];
      const header = isObject(data) && isObject(data.block) ? data.block.header : undefined;
      const height = isObject(header) && typeof header.height === 'number' ? header.height : null;
      let outcome: string | undefined;
      let anchor = '';
      if (isObject(data) && data.status === 'pending') {
        problems.push('the tx is still pending: it is in no block yet');
      } else if (height === null) {
        problems.push('the proof has no block header with a height');
      } else {
        // The SDK checks the bundle against itself; that it is the bundle of HASH is ours to check.
        if (isObject(data) && data.hash !== hash) {
          problems.push(`the proof is for tx ${JSON.stringify(data.hash)}, not ${hash}`);
        }
        const trustFile = stringOption(values, 'trust');
        const saved = trustFile === undefined ? undefined : readTrustFile(trustFile);
        let trustState: LightClientState | undefined = saved;
        let followedHash: string | undefined;
        if (saved === undefined || saved.head.header.height < height) {
          // Follow the chain up to the tx's block: its producer's nonce must be committed on the
          // chain, and the block must be the followed chain's block at that height.
          const followed = await follow(ctx, values, height, (block) => {
            if (block.header.height === height) followedHash = block.hash;
          });
          anchor = followed.anchor;
          problems.push(...followed.result.problems);
          checks.push(...followed.result.failures.map((f) => f.check));
          trustState = followed.result.state;
          if (followedHash !== undefined && isObject(data) && isObject(data.block)) {
            if (data.block.hash !== followedHash) {
              problems.push(`the tx's block is not the chain's block ${height} (${followedHash})`);
              checks.push('chain_link');
            }
          }
        } else {
          anchor = `the state in ${trustFile} (its nonce ranges; the block is past it, so not linked)`;
        }
        if (trustState) {
          const verdict = verifyTxInclusion(data as TxWithProof, trustState.trust, {
            receipt: checkReceipt,
          });
          problems.push(...verdict.problems);
          checks.push(...verdict.failures.map((f) => f.check));
          outcome = verdict.outcome;
        }
      }
      const ok = problems.length === 0;
      const outcomeText = !checkReceipt
        ? 'its outcome was not checked (--no-receipt)'
        : `outcome ${outcome ?? '?'}`;
      finish(
        ctx,
        {
          ok,
          hash,
          height,
          producer: isObject(header) ? (header.producer ?? null) : null,
          outcome: ok ? (outcome ?? null) : null,
          receiptChecked: checkReceipt,
          anchor,
          failed: [...new Set(checks)],
          problems,
        },
        `ok: tx ${hash} is in block ${height}, ${outcomeText}; signed by ${String(
          isObject(header) ? header.producer : '?',
        )} with a committed nonce (anchored at ${anchor})`,
        `tx ${hash} does not verify`,
      );
    },
  },
  {
    name: 'verify chain',
    synopsis: '[--from H] [--trust FILE] [--save-trust FILE] [--genesis HASH]',
    summary:
      'follow every header to the head: hashes, links, signatures and nonces committed on the chain itself (--save-trust keeps the result for later runs)',
    options: { from: { type: 'string' }, 'save-trust': { type: 'string' }, ...trustOptions },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const fromText = stringOption(values, 'from');
      const from = fromText === undefined ? 0 : parseWholeNumber(fromText, '--from');
      // The head is fixed when the run starts: blocks committed meanwhile are not part of it.
      const head = (await ctx.client.health()).height;
      if (from > head) throw usageError(`--from ${from} is above the head, height ${head}`);
      // Every header from the anchor on is followed (the registry is built on the way); problems
      // below --from are reported as well, since the ones above rest on them.
      const followed = await follow(ctx, values, head);
      const { result, anchor } = followed;
      const problems = result.problems.slice(0, problemsKeptMax);
      const dropped = result.problems.length - problems.length;
      const saveTo = stringOption(values, 'save-trust');
      if (saveTo !== undefined && result.ok && result.state) saveTrustFile(saveTo, result.state);
      const startHeight = followed.from ? followed.from.head.header.height + 1 : 0;
      const producers = result.state ? Object.keys(result.state.trust.producers).length : 0;
      finish(
        ctx,
        {
          ok: result.ok,
          from,
          to: head,
          headers: result.headers,
          producers,
          anchor,
          failed: [...new Set(result.failures.map((f) => f.check))],
          problems,
        },
        `ok: ${result.headers} headers from ${Math.min(startHeight, head)} to ${head} link up, ` +
          `each signed with a nonce its producer committed on the chain (${producers} producers; ` +
          `checked from ${from}; anchored at ${anchor})` +
          (saveTo !== undefined ? `; saved to ${saveTo}` : ''),
        `the chain from ${from} to ${head} does not verify`,
        dropped,
      );
    },
  },
];
