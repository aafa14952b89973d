import fs from 'node:fs';
import path from 'node:path';
import {
  Chain,
  GenesisError,
  type BlockSigner,
  type Genesis,
  type SignedBlock,
} from '../chain/index.js';
import {
  addressFromPublicKey,
  encryptHiddenInfo,
  fromHex,
  generateKeyPair,
  keyPairFromSecret,
  toHex,
} from '../crypto/index.js';
import {
  producersModule,
  type GenesisProducer,
  type ProducerParams,
  type ProducersGenesis,
} from '../modules/producers/index.js';
import { SqliteBlockStore } from '../state/index.js';
import { nodeModuleRegistry } from './chain-rules.js';
import { nonceCacheDir, ProducerSigner } from './producer-signer.js';
import { signerStateFile } from './signer-store.js';

export interface StoredKey {
  address: string;
  secretKey: Uint8Array;
}

/**
 * The genesis nonce range is short so that a new data directory is ready in well under a second;
 * the node commits full ranges (config `nonceRangeHeights`) in the background from then on.
 */
export const defaultGenesisNonceHeights = 300;

export const dataFiles = {
  database: 'chain.db',
  genesis: 'genesis.json',
  producerKey: 'producer-key.json',
  devAccount: 'dev-account.json',
} as const;

export class DataDirError extends Error {
  readonly code = 'invalid_data_dir';
}

/** Writes a key file (owner-only, never over an existing file): `{ address, secretKey }`. */
export function writeSecretFile(file: string, key: StoredKey): void {
  const text =
    JSON.stringify({ address: key.address, secretKey: toHex(key.secretKey) }, null, 2) + '\n';
  fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
}

/**
 * Creates the empty database `file` owner-only (0600, whatever the umask) when it is not there,
 * before SQLite opens it: SQLite makes the -wal and -shm files with the database file's mode, and
 * the database holds the webhook secrets, so none of the three is readable by others even in a
 * data directory the operator made world-readable. An existing file is left as it is.
 */
export function createOwnerOnlyDatabase(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A warning (or undefined) when the data directory's database may be read by group or others: a
 * data directory made before it was created owner-only; it holds the webhook secrets.
 */
export function databaseModeWarning(dir: string): string | undefined {
  const file = path.join(dir, dataFiles.database);
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `${file} is readable or writable by group or others (mode ${mode.toString(8).padStart(4, '0')}): it holds the webhook secrets; chmod 600 it (and its -wal and -shm files)`;
}

export function readKeyFile(file: string): StoredKey {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    address?: unknown;
    secretKey?: unknown;
  };
  if (typeof parsed.secretKey !== 'string') throw new DataDirError(`${file}: no secretKey`);
  const pair = keyPairFromSecret(fromHex(parsed.secretKey, 'secretKey', 32));
  const address = addressFromPublicKey(pair.publicKey);
  if (parsed.address !== undefined && parsed.address !== address) {
    throw new DataDirError(`${file}: the address does not match the secret key`);
  }
  return { address, secretKey: pair.secretKey };
}

/** A fresh key pair, as it is stored. */
export function newStoredKey(): StoredKey {
  const pair = generateKeyPair();
  return { address: addressFromPublicKey(pair.publicKey), secretKey: pair.secretKey };
}

export interface InitResult {
  created: boolean;
  chainId: string;
  /**
   * The genesis document, only when this call created the chain: on resume it is not read back,
   * because a genesis with a million balances is a large file that the running node never needs.
   */
  genesis?: Genesis;
  producer: StoredKey;
  devAccount?: StoredKey;
}

/** The dev chain's genesis: a USD asset (2 decimals) issued by a dev account holding 1,000,000.00. */
export function devGenesis(
  chainId: string,
  producer: string,
  devAccount: string,
  time: number,
): Genesis {
  return {
    chainId,
    time,
    producer,
    assets: [{ symbol: 'USD', decimals: 2, issuer: devAccount }],
    balances: [{ address: devAccount, asset: 'USD', amount: '100000000' }],
  };
}

/**
 * The dev chain's registry parameters. The bond asset is the genesis's USD (or its first asset);
 * evidence is accepted for 50,000 blocks and bonds return 100,000 blocks after `producer.unbond`,
 * so a producer cannot leave before its equivocation can be punished.
 */
export function devProducerParams(bondAsset: string): ProducerParams {
  return {
    bondAsset,
    bondMin: '100000',
    unbondingPeriodHeights: 100_000,
    evidenceWindowHeights: 50_000,
    slashBurnBasisPoints: 5_000,
    nonceRangeHeightsMax: 10_000,
    nonceRangesAheadMax: 2,
  };
}

/**
 * The registry parameters for a genesis without a `producers` section: the dev parameters, with
 * bonds in the genesis's USD (or its first asset).
 */
export function genesisProducerParams(genesis: Genesis): ProducerParams {
  const bondAsset =
    genesis.assets.find((a) => a.symbol === 'USD')?.symbol ?? genesis.assets[0]?.symbol;
  if (bondAsset === undefined) {
    throw new GenesisError('genesis.assets: the producer registry needs an asset for bonds');
  }
  return devProducerParams(bondAsset);
}

/**
 * A producer's genesis registry entry: its accountable key, its hidden information (`name` and
 * operator, encrypted to its own key) and its first nonce range, [0, genesisNonceHeights). The
 * range is computed now and cached in the signer's data directory, where the node finds it.
 */
export function genesisProducerEntry(options: {
  signer: ProducerSigner;
  operator: string;
  name: string;
  /** Minor units of the bond asset, moved from the operator into escrow at genesis. */
  bond: string;
  genesisNonceHeights: number;
}): GenesisProducer {
  const { signer, operator } = options;
  const hidden = encryptHiddenInfo(signer.key.secretScalar, { name: options.name, operator });
  const nonces = signer.commitment(0, options.genesisNonceHeights);
  return {
    operator,
    publicKey: signer.publicKey,
    hiddenInfo: hidden.hiddenInfo,
    commitment: hidden.commitment,
    bond: options.bond,
    nonces: { fromHeight: 0, count: nonces.count, root: nonces.root },
  };
}

/**
 * Adds the node's producer to the genesis registry: its accountable key (derived from the producer
 * key's secret), its hidden information and its first nonce range, [0, genesisNonceHeights).
 */
function withGenesisProducer(
  genesis: Genesis,
  producer: StoredKey,
  signer: ProducerSigner,
  genesisNonceHeights: number,
): Genesis {
  const given = genesis.modules?.[producersModule.name] as ProducersGenesis | undefined;
  const params = given?.params ?? genesisProducerParams(genesis);
  const entry = genesisProducerEntry({
    signer,
    operator: producer.address,
    name: 'coffer solo producer',
    bond: '0',
    genesisNonceHeights,
  });
  const section: ProducersGenesis = { params, producers: [...(given?.producers ?? []), entry] };
  return {
    ...genesis,
    producer: signer.producer,
    modules: { ...genesis.modules, [producersModule.name]: section },
  };
}

/**
 * Creates a data directory with a dev chain (genesis, producer key, funded dev account) unless one
 * is there already, in which case it is left as it is and its files are read back.
 */
export function initDataDir(options: {
  dataDir: string;
  chainId: string;
  now: number;
  genesis?: Genesis;
  /** Heights in the genesis nonce range (each costs ~2 ms to compute at init). */
  genesisNonceHeights?: number;
}): InitResult {
  const dir = options.dataDir;
  const file = (name: string) => path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(file(dataFiles.genesis))) {
    const producer = readKeyFile(file(dataFiles.producerKey));
    const devAccount = fs.existsSync(file(dataFiles.devAccount))
      ? readKeyFile(file(dataFiles.devAccount))
      : undefined;
    const chainId = committedChainId(dir);
    return { created: false, chainId, producer, ...(devAccount ? { devAccount } : {}) };
  }
  // No genesis.json: any other file here is left over from an init that was killed midway, before
  // any node ever served this chain, so it is safe (and necessary) to start again from scratch.
  for (const leftover of [
    dataFiles.producerKey,
    dataFiles.devAccount,
    dataFiles.database,
    `${dataFiles.database}-wal`,
    `${dataFiles.database}-shm`,
    signerStateFile,
    nonceCacheDir,
  ]) {
    fs.rmSync(file(leftover), { force: true, recursive: true });
  }
  const producer = newStoredKey();
  let devAccount: StoredKey | undefined;
  let genesis = options.genesis;
  if (!genesis) {
    devAccount = newStoredKey();
    genesis = devGenesis(options.chainId, producer.address, devAccount.address, options.now);
  }
  const signer = ProducerSigner.open(genesis.chainId, producer.secretKey, dir);
  genesis = withGenesisProducer(
    genesis,
    producer,
    signer,
    options.genesisNonceHeights ?? defaultGenesisNonceHeights,
  );
  writeSecretFile(file(dataFiles.producerKey), producer);
  if (devAccount) writeSecretFile(file(dataFiles.devAccount), devAccount);
  ensureGenesisBlock(dir, genesis, signer);
  // The genesis file is written last: its presence marks a complete data directory.
  fs.writeFileSync(file(dataFiles.genesis), JSON.stringify(genesis, null, 2) + '\n');
  return {
    created: true,
    chainId: genesis.chainId,
    genesis,
    producer,
    ...(devAccount ? { devAccount } : {}),
  };
}

/** The chain id stored in a data directory's database (opened and closed again). */
export function committedChainId(dir: string): string {
  const store = new SqliteBlockStore(path.join(dir, dataFiles.database));
  try {
    const chainId = store.getMeta('chainId');
    if (chainId === undefined || store.lastHeight() < 0) {
      throw new DataDirError(`${dir}: genesis.json is there but the database holds no chain`);
    }
    return chainId;
  } finally {
    store.close();
  }
}

/**
 * Writes block 0 of `genesis` into the data directory's database, signed by `signer`, unless the
 * database holds a chain already (which must be this one). Answers block 0 when it wrote it. A
 * ProducerSigner is first told its genesis nonce range, so it can sign height 0.
 */
export function ensureGenesisBlock(
  dir: string,
  genesis: Genesis,
  signer: BlockSigner,
): SignedBlock | undefined {
  createOwnerOnlyDatabase(path.join(dir, dataFiles.database));
  const store = new SqliteBlockStore(path.join(dir, dataFiles.database));
  try {
    if (store.lastHeight() === -1) {
      if (signer instanceof ProducerSigner) {
        const section = genesis.modules?.[producersModule.name] as ProducersGenesis | undefined;
        const own = (section?.producers ?? []).filter((p) => p.publicKey === signer.publicKey);
        signer.activate(own.map((p) => p.nonces));
      }
      // Every module's genesis section, as `coffer verify` and the audit recompute block 0.
      return Chain.initialize(store, genesis, signer, nodeModuleRegistry().modules);
    }
    if (store.getMeta('chainId') !== genesis.chainId) {
      throw new DataDirError(
        `${dir}: the database belongs to chain ${store.getMeta('chainId')}, not ${genesis.chainId}`,
      );
    }
    return undefined;
  } finally {
    store.close();
  }
}

/** The file a running node holds in its data directory (docs/architecture.md, "Data directory"). */
export const lockFileName = 'coffer.lock';

/** Who holds a data directory: written into the lock file, shown to whoever is refused. */
interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

/** Whether a process with this pid is alive (EPERM: alive, owned by someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && Number.isSafeInteger(parsed.pid) && parsed.pid > 0
      ? { pid: parsed.pid, command: String(parsed.command), since: String(parsed.since) }
      : undefined;
  } catch {
    return undefined; // unreadable or half written: its writer died before it finished
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the data directory for this process alone: two nodes on one directory would both write
 * its SQLite store and signer state, and a node that signs from a copy of the signer state can
 * sign twice at a height. The lock is a file created exclusively (O_EXCL) holding the pid; a lock
 * whose process is gone (a node killed with SIGKILL) is taken over. Refuses, naming the holder,
 * while it lives, including another node of this same process.
 */
export function lockDataDir(
  dir: string,
  command: string,
  now: Date,
  /** The option that names the directory, for the hint when refused. */
  dirOption = '--data-dir',
): DataDirLock {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, lockFileName);
  const holder: LockHolder = { pid: process.pid, command, since: now.toISOString() };
  // Two tries: the second after removing a stale lock (another starter may win that race).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(holder) + '\n', { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        file,
        release: () => {
          if (released) return;
          released = true;
          // Only our own lock: never remove one a later holder took over.
          if (readLockHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readLockHolder(file);
    if (current && processAlive(current.pid)) {
      const who = current.pid === process.pid ? 'this process' : `pid ${current.pid}`;
      throw new DataDirError(
        `${dir} is in use by ${who} (${current.command}, since ${current.since}): stop it ` +
          `first, or choose another ${dirOption}`,
      );
    }
    fs.rmSync(file, { force: true }); // its process is gone: a stale lock
  }
  throw new DataDirError(`${dir}: another process took the lock while this one started`);
}
