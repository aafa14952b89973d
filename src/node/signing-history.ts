import fs from 'node:fs';
import path from 'node:path';
import { deriveAccountableKey, toHex } from '../crypto/index.js';
import { committedChainId, DataDirError, dataFiles, lockDataDir, readKeyFile } from './data-dir.js';
import { SignerStore, type SigningHistory } from './signer-store.js';

/**
 * A producer moving machines carries its signing history: export it from the old data directory,
 * import it into the new one before the node there signs anything, so the key never signs at a
 * height it signed before. Both run with the node stopped.
 */
function openSignerStore(dataDir: string): SignerStore {
  if (!fs.existsSync(path.join(dataDir, dataFiles.database))) {
    throw new DataDirError(`${dataDir}: no chain here (run coffer init)`);
  }
  const chainId = committedChainId(dataDir);
  const producer = readKeyFile(path.join(dataDir, dataFiles.producerKey));
  const publicKey = toHex(deriveAccountableKey(producer.secretKey).publicKey);
  return SignerStore.open(dataDir, chainId, publicKey);
}

export function exportSigningHistoryOf(dataDir: string): SigningHistory {
  return openSignerStore(dataDir).exportHistory();
}

/**
 * Returns the last signed height after the merge. Holds the data directory's lock meanwhile: an
 * import under a running node would be overwritten by it, or let it sign what it just signed.
 */
export function importSigningHistoryInto(dataDir: string, history: SigningHistory): number {
  if (!fs.existsSync(path.join(dataDir, dataFiles.database))) {
    throw new DataDirError(`${dataDir}: no chain here (run coffer init)`);
  }
  const lock = lockDataDir(dataDir, 'coffer signing-history import', new Date());
  try {
    const store = openSignerStore(dataDir);
    store.importHistory(history);
    return store.lastHeight;
  } finally {
    lock.release();
  }
}
