import fs from 'node:fs';
import path from 'node:path';
import {
  blockSigningMessage,
  type BlockHeader,
  type BlockSignature,
  type BlockSigner,
  type CommittedNonceRange,
} from '../chain/index.js';
import {
  addressFromPublicKey,
  concatBytes,
  deriveAccountableKey,
  fromHex,
  heightBytes,
  merkleRoot,
  nonceCommitmentDomains,
  nonceFor,
  nonceProof,
  signAtHeight,
  toHex,
  utf8,
  type AccountableKey,
  type NonceCommitment,
} from '../crypto/index.js';
import { SignerStore, writeFileDurably } from './signer-store.js';

/** Where computed public nonces are cached, so a restart does not recompute them. */
export const nonceCacheDir = 'nonces';

/** Heights computed per turn of the event loop when a range is built in the background. */
const backgroundChunkHeights = 25;

export class SignerError extends Error {
  readonly code = 'signer_unavailable';
}

const leafDomain = utf8(nonceCommitmentDomains.leaf);

/** The commitment of precomputed public nonces (the tree is the one nonce-commitment.ts builds). */
function commitmentOf(fromHeight: number, nonces: Uint8Array[]): NonceCommitment {
  const leaves = nonces.map((R, index) =>
    concatBytes(leafDomain, heightBytes(fromHeight + index), R),
  );
  const commitment = { fromHeight, count: nonces.length, root: toHex(merkleRoot(leaves)), nonces };
  // nonceProof rebuilds the tree and throws unless the root is the root of these nonces.
  nonceProof(commitment, fromHeight);
  return commitment;
}

/**
 * A producer's signer (solo, or a cluster validator): its accountable key (derived from the
 * producer key's secret), the nonce ranges it has computed, and the safety store. It signs a height only with a nonce the
 * chain has committed (`activate` tells it which), and only once.
 */
export class ProducerSigner implements BlockSigner {
  readonly key: AccountableKey;
  readonly producer: string;
  readonly publicKey: string;
  private readonly computed = new Map<number, NonceCommitment>();
  private onChain: CommittedNonceRange[] = [];

  constructor(
    readonly chainId: string,
    secretSeed: Uint8Array,
    private readonly dataDir: string,
    private readonly safety: SignerStore,
  ) {
    this.key = deriveAccountableKey(secretSeed);
    this.publicKey = toHex(this.key.publicKey);
    this.producer = addressFromPublicKey(this.key.publicKey);
  }

  static open(chainId: string, secretSeed: Uint8Array, dataDir: string): ProducerSigner {
    const key = deriveAccountableKey(secretSeed);
    const store = SignerStore.open(dataDir, chainId, toHex(key.publicKey));
    return new ProducerSigner(chainId, secretSeed, dataDir, store);
  }

  get store(): SignerStore {
    return this.safety;
  }

  private cacheFile(fromHeight: number, count: number): string {
    return path.join(this.dataDir, nonceCacheDir, `${fromHeight}-${count}.json`);
  }

  private loadCached(fromHeight: number, count: number): NonceCommitment | undefined {
    const file = this.cacheFile(fromHeight, count);
    if (!fs.existsSync(file)) return undefined;
    try {
      const { nonces } = JSON.parse(fs.readFileSync(file, 'utf8')) as { nonces: string[] };
      if (nonces.length !== count) return undefined;
      return commitmentOf(
        fromHeight,
        nonces.map((R) => fromHex(R, 'R', 32)),
      );
    } catch {
      return undefined; // a damaged cache is recomputed
    }
  }

  private remember(commitment: NonceCommitment): NonceCommitment {
    this.computed.set(commitment.fromHeight, commitment);
    const file = this.cacheFile(commitment.fromHeight, commitment.count);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const text = JSON.stringify({ root: commitment.root, nonces: commitment.nonces.map(toHex) });
      writeFileDurably(file, text);
    }
    return commitment;
  }

  /** The commitment of a range, from memory, the cache, or computed now (~2 ms per height). */
  commitment(fromHeight: number, count: number): NonceCommitment {
    const known = this.computed.get(fromHeight);
    if (known && known.count === count) return known;
    const cached = this.loadCached(fromHeight, count);
    if (cached) return this.remember(cached);
    const nonces = this.loadPartial(fromHeight, count);
    for (let height = fromHeight + nonces.length; height < fromHeight + count; height++) {
      nonces.push(nonceFor(this.key.nonceSecret, this.chainId, height).R);
    }
    return this.finish(fromHeight, nonces);
  }

  /**
   * Like `commitment`, a few heights per turn of the event loop so blocks keep coming. Progress is
   * appended to a partial file, so a node killed midway resumes where it was rather than starting
   * over (under repeated restarts it would otherwise never finish).
   */
  async commitmentInBackground(fromHeight: number, count: number): Promise<NonceCommitment> {
    const known = this.computed.get(fromHeight);
    if (known && known.count === count) return known;
    const cached = this.loadCached(fromHeight, count);
    if (cached) return this.remember(cached);
    const partial = this.partialFile(fromHeight, count);
    const nonces = this.loadPartial(fromHeight, count);
    fs.mkdirSync(path.dirname(partial), { recursive: true, mode: 0o700 });
    // Keep the whole lines only, so appends never continue a torn one.
    fs.writeFileSync(partial, nonces.map((R) => toHex(R) + '\n').join(''));
    while (nonces.length < count) {
      const chunk: Uint8Array[] = [];
      const end = Math.min(count, nonces.length + backgroundChunkHeights);
      for (let index = nonces.length; index < end; index++) {
        chunk.push(nonceFor(this.key.nonceSecret, this.chainId, fromHeight + index).R);
      }
      nonces.push(...chunk);
      // One write per chunk; a torn last line is dropped when read back.
      fs.appendFileSync(partial, chunk.map((R) => toHex(R) + '\n').join(''));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const known2 = this.computed.get(fromHeight);
    if (known2 && known2.count === count) return known2;
    return this.finish(fromHeight, nonces);
  }

  private partialFile(fromHeight: number, count: number): string {
    return `${this.cacheFile(fromHeight, count)}.partial`;
  }

  /** Nonces computed before a restart, whole lines only. */
  private loadPartial(fromHeight: number, count: number): Uint8Array[] {
    const file = this.partialFile(fromHeight, count);
    if (!fs.existsSync(file)) return [];
    const nonces: Uint8Array[] = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!/^[0-9a-f]{64}$/.test(line) || nonces.length >= count) break;
      nonces.push(fromHex(line, 'R', 32));
    }
    return nonces;
  }

  private finish(fromHeight: number, nonces: Uint8Array[]): NonceCommitment {
    const commitment = this.remember(commitmentOf(fromHeight, nonces));
    fs.rmSync(this.partialFile(fromHeight, nonces.length), { force: true });
    return commitment;
  }

  /** The ranges the chain has committed for this producer (from its registry record). */
  activate(ranges: readonly CommittedNonceRange[]): void {
    this.onChain = [...ranges];
  }

  /** The committed range covering `height`, with its nonces, if this signer has both. */
  private rangeFor(height: number): NonceCommitment | undefined {
    const range = this.onChain.find(
      (r) => height >= r.fromHeight && height < r.fromHeight + r.count,
    );
    if (!range) return undefined;
    const commitment = this.computed.get(range.fromHeight);
    return commitment && commitment.root === range.root && commitment.count === range.count
      ? commitment
      : undefined;
  }

  /** Where the committed ranges end (the first height without a committed nonce), if any. */
  committedEnd(): number | undefined {
    const last = this.onChain[this.onChain.length - 1];
    return last ? last.fromHeight + last.count : undefined;
  }

  /**
   * Heights from `height` on that this signer can sign with committed nonces, or 0 when it holds
   * none for `height` itself (ranges after one that has not run out are contiguous with it).
   */
  heightsLeft(height: number): number {
    const end = this.committedEnd();
    return end === undefined || !this.rangeFor(height) ? 0 : end - height;
  }

  /**
   * Whether a nonce committed on chain is at hand for `height`, and the height is above the last
   * one signed (a cluster producer that signed a block it could not publish, then restarted, must
   * leave that height to the others).
   */
  canSign(height: number): boolean {
    return height > this.safety.lastHeight && this.rangeFor(height) !== undefined;
  }

  sign(header: BlockHeader, hash: string): BlockSignature {
    const commitment = this.rangeFor(header.height);
    if (!commitment) {
      throw new SignerError(`no committed nonce at hand for height ${header.height}`);
    }
    const signature = this.safety.sign(header.height, hash, () =>
      signAtHeight(this.key, this.chainId, header.height, blockSigningMessage(hash)),
    );
    return { ...signature, nonceProof: nonceProof(commitment, header.height) };
  }
}
