import fs from 'node:fs';
import path from 'node:path';
import type { AccountableSignature } from '../crypto/index.js';

/**
 * Signer safety (issue 4, item 5): the producer persists the last height it signed, with fsync,
 * before it releases a signature. Asked again for the same header at that height it answers the
 * byte-identical signature; asked for anything else at or below that height it refuses. A crash
 * between persisting and releasing only loses a signature nobody saw, never signs twice.
 *
 * One JSON file in the data directory, replaced atomically (write a temporary file, fsync it,
 * rename it over the old one, fsync the directory).
 */

export const signerStateFile = 'signer-state.json';

export interface SignerState {
  version: 1;
  chainId: string;
  /** The accountable public key this history belongs to, hex. */
  publicKey: string;
  /** -1 before the first signature. */
  lastHeight: number;
  /** Hash of the header signed at lastHeight. */
  lastHash?: string;
  /** Its signature, returned unchanged when the same header is asked for again. */
  lastSignature?: AccountableSignature;
}

export class SignerRefusedError extends Error {
  readonly code = 'signer_refused';
}

export class SignerStateError extends Error {
  readonly code = 'invalid_signer_state';
}

/** Writes `text` to `file` so that a crash leaves either the old file or the new one, whole. */
export function writeFileDurably(file: string, text: string): void {
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

export class SignerStore {
  private state: SignerState;

  private constructor(
    private readonly file: string,
    state: SignerState,
  ) {
    this.state = state;
  }

  /** Opens (or creates) the store of `publicKey` on `chainId` in `dataDir`. */
  static open(dataDir: string, chainId: string, publicKey: string): SignerStore {
    const file = path.join(dataDir, signerStateFile);
    if (!fs.existsSync(file)) {
      const state: SignerState = { version: 1, chainId, publicKey, lastHeight: -1 };
      writeFileDurably(file, JSON.stringify(state, null, 2) + '\n');
      return new SignerStore(file, state);
    }
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as SignerState;
    if (state.version !== 1 || !Number.isSafeInteger(state.lastHeight)) {
      throw new SignerStateError(`${file}: not a signer state file`);
    }
    if (state.chainId !== chainId || state.publicKey !== publicKey) {
      throw new SignerStateError(
        `${file}: the signing history belongs to key ${state.publicKey} on ${state.chainId}`,
      );
    }
    return new SignerStore(file, state);
  }

  get lastHeight(): number {
    return this.state.lastHeight;
  }

  /**
   * Signs `hash` at `height` with `sign` unless that would be unsafe. The same header at the last
   * signed height gets the stored signature back; anything at or below it is refused. The new
   * height is on disk before the signature is returned.
   */
  sign(height: number, hash: string, sign: () => AccountableSignature): AccountableSignature {
    const { lastHeight, lastHash, lastSignature } = this.state;
    if (height === lastHeight && hash === lastHash && lastSignature) return { ...lastSignature };
    if (height < lastHeight || (height === lastHeight && hash !== lastHash)) {
      throw new SignerRefusedError(
        `refusing to sign header ${hash} at height ${height}: height ${lastHeight} was signed already` +
          (height === lastHeight ? ` for header ${lastHash}` : ''),
      );
    }
    const signature = sign();
    const next: SignerState = {
      ...this.state,
      lastHeight: height,
      lastHash: hash,
      lastSignature: signature,
    };
    writeFileDurably(this.file, JSON.stringify(next, null, 2) + '\n');
    this.state = next;
    return { ...signature };
  }

  /**
   * Forgets a signature at `committedHeight + 1` that never left the process. The solo producer
   * releases a signature only by committing its block (one SQLite transaction), so a signed height
   * one above the committed head means the process died between signing and committing: nobody
   * holds that signature, and the next block at that height may be signed afresh. Anything higher
   * (an imported history, another machine's) is kept. The cluster, which releases signatures by
   * publishing them before it commits, must not call this.
   */
  discardUncommitted(committedHeight: number): boolean {
    if (this.state.lastHeight !== committedHeight + 1) return false;
    const next: SignerState = {
      version: 1,
      chainId: this.state.chainId,
      publicKey: this.state.publicKey,
      lastHeight: committedHeight,
    };
    writeFileDurably(this.file, JSON.stringify(next, null, 2) + '\n');
    this.state = next;
    return true;
  }

  /** The signing history in the interchange format (EIP-3076 in spirit), for a move of machines. */
  exportHistory(): SigningHistory {
    return exportSigningHistory(this.state);
  }

  /**
   * Merges an exported history: the last signed height becomes the higher of the two, so a key
   * moved from another machine never signs below (or again at) what it signed there.
   */
  importHistory(history: SigningHistory): void {
    const next = mergeSigningHistory(this.state, history);
    if (next === this.state) return;
    writeFileDurably(this.file, JSON.stringify(next, null, 2) + '\n');
    this.state = next;
  }
}

/** What a producer carries to another machine: its highest signed header per key. */
export interface SigningHistory {
  metadata: { interchangeFormatVersion: 'coffer-signing-1'; chainId: string };
  data: { publicKey: string; signedBlocks: { height: number; hash: string }[] }[];
}

export function exportSigningHistory(state: SignerState): SigningHistory {
  return {
    metadata: { interchangeFormatVersion: 'coffer-signing-1', chainId: state.chainId },
    data: [
      {
        publicKey: state.publicKey,
        signedBlocks:
          state.lastHeight >= 0 && state.lastHash !== undefined
            ? [{ height: state.lastHeight, hash: state.lastHash }]
            : [],
      },
    ],
  };
}

export function mergeSigningHistory(state: SignerState, history: SigningHistory): SignerState {
  if (history?.metadata?.interchangeFormatVersion !== 'coffer-signing-1') {
    throw new SignerStateError('signing history: unknown interchangeFormatVersion');
  }
  if (history.metadata.chainId !== state.chainId) {
    throw new SignerStateError(`signing history: for chain ${history.metadata.chainId}`);
  }
  let best: { height: number; hash: string } | undefined;
  for (const entry of history.data ?? []) {
    if (entry.publicKey !== state.publicKey) continue;
    for (const block of entry.signedBlocks ?? []) {
      if (!Number.isSafeInteger(block.height) || typeof block.hash !== 'string') {
        throw new SignerStateError('signing history: a signed block needs a height and a hash');
      }
      if (!best || block.height > best.height) best = block;
    }
  }
  if (!best || best.height <= state.lastHeight) return state;
  // The imported header may be re-signed (signatures are deterministic, so it comes out the same).
  const { lastSignature: _dropped, ...rest } = state;
  return { ...rest, lastHeight: best.height, lastHash: best.hash };
}
