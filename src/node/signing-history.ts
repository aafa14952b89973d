import fs from 'node:fs';
import path from 'node:path';
import { deriveAccountableKey, toHex } from '../crypto/index.js';
import { SqliteBlockStore } from '../state/index.js';
import { DataDirError, dataFiles, readKeyFile } from './data-dir.js';
import { SignerStore, type SigningHistory } from './signer-store.js';

/**
 * A producer moving machines carries its signing history: export it from the old data directory,
 * import it into the new one before the node there signs anything, so the key never signs at a
 * height it signed before. Both run with the node stopped.
 */
function openSignerStore(dataDir: string): SignerStore {
  const database = path.join(dataDir, dataFiles.database);
  if (!fs.existsSync(database))
    throw new DataDirError(`${dataDir}: no chain here (run coffer init)`);
  const store = new SqliteBlockStore(database);
  let chainId: string | undefined;
  try {
    chainId = store.getMeta('chainId');
  } finally {
    store.close();
  }
  if (chainId === undefined) throw new DataDirError(`${dataDir}: the database holds no chain`);
  const producer = readKeyFile(path.join(dataDir, dataFiles.producerKey));
  const publicKey = toHex(deriveAccountableKey(producer.secretKey).publicKey);
  return SignerStore.open(dataDir, chainId, publicKey);
}

export function exportSigningHistoryOf(dataDir: string): SigningHistory {
  return openSignerStore(dataDir).exportHistory();
}

/** Returns the last signed height after the merge. */
export function importSigningHistoryInto(dataDir: string, history: SigningHistory): number {
  const store = openSignerStore(dataDir);
  store.importHistory(history);
  return store.lastHeight;
}
