import { addressFromPublicKey, fromHex } from '../crypto/index.js';
import type { CofferClient } from './client.js';
import {
  verifyHeaderChain,
  verifyTxInclusion,
  type CommittedNonceRange,
  type ProducerTrust,
  type SignedHeader,
  type TxWithProof,
  type Verdict,
  type VerifyFailure,
} from './verify.js';

/**
 * A light client's verified view of a chain: the last header it followed from block 0 and the
 * producer registry it built on the way (docs/protocol.md, "Light clients"). Nothing in it is the
 * node's word: block 0 is the anchor (pinned, or trusted on first use), the genesis producers'
 * ranges come from the genesis document, and every later range from a register or commitNonces tx
 * proven to be in a followed block with an `ok` receipt. Saved as JSON, it resumes a later run.
 */
export interface LightClientState {
  chainId: string;
  genesisHash: string;
  /** The last header followed, linked from block 0. */
  head: SignedHeader;
  trust: ProducerTrust;
}

export interface FollowOptions {
  /** The height to follow to (at most the node's head). */
  toHeight: number;
  /** A state saved by an earlier run to resume from; otherwise the run starts at block 0. */
  from?: LightClientState;
  /** Block 0's hash, pinned; otherwise block 0 is trusted on first use. */
  genesisHash?: string;
  /**
   * Checks the genesis document against block 0 (its state root) and says what is wrong, if
   * anything. The SDK cannot run genesis; the CLI can. Without it, the document is taken with
   * block 0.
   */
  checkGenesis?: (genesis: unknown, block0: SignedHeader) => string | undefined;
  /** Called after each header is followed. */
  onBlock?: (block: SignedHeader) => void;
}

export interface FollowResult extends Verdict {
  /** The state after the run (undefined when even block 0 could not be had). */
  state: LightClientState | undefined;
  /** Headers followed in this run. */
  headers: number;
}

/** `GET /v1/blocks` answers at most this many headers a page. */
const headersPerPage = 100;
/** Tx types that commit nonce ranges, and where their payload keeps the range. */
const commitTypes = new Set(['producer.register', 'producer.commitNonces']);

interface Commitment extends CommittedNonceRange {
  producer: string;
  tx: string;
  committedAtHeight: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first ranges of the genesis producers, from `genesis.modules.producers.producers`. */
function genesisTrust(genesis: unknown): ProducerTrust | string {
  const section =
    isRecord(genesis) && isRecord(genesis.modules) ? genesis.modules.producers : undefined;
  const list = isRecord(section) ? section.producers : undefined;
  if (!Array.isArray(list)) return 'the genesis document lists no producers';
  const producers: Record<string, CommittedNonceRange[]> = {};
  for (const [index, producer] of (list as unknown[]).entries()) {
    if (!isRecord(producer) || !isRecord(producer.nonces)) {
      return `genesis producer ${index} has no nonce range`;
    }
    let id: string;
    try {
      id = addressFromPublicKey(fromHex(String(producer.publicKey), 'publicKey', 32));
    } catch {
      return `genesis producer ${index} has no valid public key`;
    }
    const { fromHeight, count, root } = producer.nonces;
    if (typeof fromHeight !== 'number' || typeof count !== 'number' || typeof root !== 'string') {
      return `genesis producer ${index} has a malformed nonce range`;
    }
    producers[id] = [{ fromHeight, count, root }];
  }
  return { producers };
}

/** Every committed range the node lists between `after` (exclusive) and `upTo`, by height. */
async function listCommitments(
  client: CofferClient,
  after: number,
  upTo: number,
): Promise<Map<number, Commitment[]>> {
  const byHeight = new Map<number, Commitment[]>();
  const { producers } = await client.listProducers();
  for (const { id } of producers) {
    let from = 0;
    for (;;) {
      const page = await client.getNonceRanges(id, from);
      for (const range of page.ranges) {
        if (range.tx === null) continue; // genesis: from the genesis document
        if (range.committedAtHeight <= after || range.committedAtHeight > upTo) continue;
        const list = byHeight.get(range.committedAtHeight) ?? [];
        list.push({ ...range, producer: id, tx: range.tx });
        byHeight.set(range.committedAtHeight, list);
      }
      const last = page.ranges[page.ranges.length - 1];
      if (!page.more || last === undefined) break;
      from = last.fromHeight + last.count;
    }
  }
  return byHeight;
}

/** Why the bundle does not prove `commitment` in `block`, or undefined when it does. */
function commitmentProblem(
  bundle: unknown,
  commitment: Commitment,
  block: SignedHeader,
  trust: ProducerTrust,
): string | undefined {
  const label = `the nonce range ${commitment.fromHeight}+${commitment.count} of ${commitment.producer}`;
  if (!isRecord(bundle) || !isRecord(bundle.block) || bundle.block.hash !== block.hash) {
    return `${label}: its tx ${commitment.tx} is not in the followed block ${block.header.height}`;
  }
  const verdict = verifyTxInclusion(bundle as unknown as TxWithProof, trust);
  if (!verdict.ok) return `${label}: its tx does not verify (${verdict.problems[0] ?? ''})`;
  if (verdict.outcome !== 'ok') return `${label}: its tx failed (${String(verdict.outcome)})`;
  const tx = bundle.tx as { type?: unknown; payload?: unknown };
  if (typeof tx.type !== 'string' || !commitTypes.has(tx.type) || !isRecord(tx.payload)) {
    return `${label}: its tx ${commitment.tx} commits no nonces`;
  }
  const payload = tx.payload;
  let range: unknown;
  if (tx.type === 'producer.register') {
    let id: string | undefined;
    try {
      id = addressFromPublicKey(fromHex(String(payload.publicKey), 'publicKey', 32));
    } catch {
      id = undefined;
    }
    if (id !== commitment.producer) return `${label}: its tx registers another producer`;
    range = payload.nonces;
  } else {
    if (payload.producer !== commitment.producer) return `${label}: its tx is for another producer`;
    range = payload;
  }
  if (
    !isRecord(range) ||
    range.fromHeight !== commitment.fromHeight ||
    range.count !== commitment.count ||
    range.root !== commitment.root
  ) {
    return `${label}: its tx commits another range`;
  }
  return undefined;
}

function addRange(trust: ProducerTrust, producer: string, range: CommittedNonceRange): void {
  const ranges = Object.hasOwn(trust.producers, producer) ? [...trust.producers[producer]!] : [];
  ranges.push({ fromHeight: range.fromHeight, count: range.count, root: range.root });
  ranges.sort((a, b) => a.fromHeight - b.fromHeight);
  trust.producers[producer] = ranges;
}

/**
 * Follows a chain from block 0 (or a saved state) to `toHeight`: every header linked, signed
 * and with a nonce committed on the chain before it, the producer registry built from the
 * commitment txs in the followed blocks. Fails closed: a range the node does not list leaves the
 * headers it covers unverified.
 */
export async function followChain(
  client: CofferClient,
  options: FollowOptions,
): Promise<FollowResult> {
  const failures: VerifyFailure[] = [];
  const fail = (check: VerifyFailure['check'], message: string) =>
    failures.push({ check, message });
  const result = (state: LightClientState | undefined, headers: number): FollowResult => ({
    ok: failures.length === 0,
    problems: failures.map((f) => f.message),
    failures,
    state,
    headers,
  });

  let state: LightClientState;
  let headers = 0;
  if (options.from) {
    state = structuredClone(options.from);
  } else {
    const block0 = await client.getBlock(0);
    if (options.genesisHash !== undefined && block0.hash !== options.genesisHash) {
      fail('genesis', `block 0 is ${block0.hash}, not the pinned ${options.genesisHash}`);
      return result(undefined, 0);
    }
    const genesis = await client.getGenesis();
    // What block 0's header holds of the genesis document must be the document's own.
    for (const field of ['chainId', 'time', 'producer'] as const) {
      if (!isRecord(genesis) || genesis[field] !== block0.header[field]) {
        fail('genesis', `the genesis document's ${field} is not block 0's`);
      }
    }
    const genesisProblem = options.checkGenesis?.(genesis, block0);
    if (genesisProblem !== undefined) fail('genesis', `the genesis document: ${genesisProblem}`);
    const trust = genesisTrust(genesis);
    if (typeof trust === 'string') {
      fail('genesis', trust);
      return result(undefined, 0);
    }
    failures.push(...verifyHeaderChain([block0], { trust }).failures);
    state = { chainId: block0.header.chainId, genesisHash: block0.hash, head: block0, trust };
    headers = 1;
    options.onBlock?.(block0);
  }
  if (options.toHeight <= state.head.header.height) return result(state, headers);

  const commitments = await listCommitments(client, state.head.header.height, options.toHeight);
  for (let start = state.head.header.height + 1; start <= options.toHeight;) {
    const end = Math.min(start + headersPerPage - 1, options.toHeight);
    const { blocks } = await client.getBlocks(start, end);
    if (blocks.length === 0 || blocks[0]!.header.height !== start) {
      fail('chain_height', `the node returned no block ${start}`);
      break;
    }
    for (const block of blocks) {
      failures.push(
        ...verifyHeaderChain([block], { trust: state.trust, previous: state.head }).failures,
      );
      for (const commitment of commitments.get(block.header.height) ?? []) {
        const bundle = await client.getTx(commitment.tx);
        const problem = commitmentProblem(bundle, commitment, block, state.trust);
        if (problem === undefined) addRange(state.trust, commitment.producer, commitment);
        else fail('commitment', problem);
      }
      state.head = block;
      headers += 1;
      options.onBlock?.(block);
    }
    start = state.head.header.height + 1;
  }
  return result(state, headers);
}
