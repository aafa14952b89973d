import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BlockSigner, Genesis, SignedBlock } from '../chain/index.js';
import {
  producersModule,
  resolveParams,
  type GenesisProducer,
  type ProducerParams,
  type ProducersGenesis,
} from '../modules/producers/index.js';
import { ConfigError } from './config.js';
import {
  dataFiles,
  DataDirError,
  defaultGenesisNonceHeights,
  devGenesis,
  devProducerParams,
  ensureGenesisBlock,
  genesisProducerEntry,
  newStoredKey,
  writeSecretFile,
  type StoredKey,
} from './data-dir.js';
import { ProducerSigner } from './producer-signer.js';

/**
 * `coffer cluster init` (issue 7): one genesis for N validators, each an active block producer
 * (genesis producers need no approval; every later one does, by more than two thirds of them) with
 * its own key and a complete data directory that `initDataDir` and `CofferNode.open` resume
 * as they are. The cluster directory holds the shared genesis and the dev account's key:
 *
 *   D/genesis.json, D/dev-account.json, D/<name>/{producer-key,genesis,validator}.json, chain.db,
 *   the signer's safety file and the nonce cache of its genesis range.
 */

export interface ClusterValidator {
  name: string;
  dataDir: string;
  /** The producer key's address: the account that registered the producer and put up its bond. */
  operator: string;
  /** The accountable id: the address of the accountable public key, what headers name. */
  producer: string;
}

export interface ClusterInitResult {
  dir: string;
  chainId: string;
  genesis: Genesis;
  validators: ClusterValidator[];
  devAccount: StoredKey;
}

/** In each validator's data directory: `{ name, chainId, producer, operator }`. */
export const validatorFile = 'validator.json';

/** Validators per cluster: every one signs (or votes on) every block, so keep the set small. */
export const clusterValidatorsMax = 16;

const validatorNamePattern = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** As genesis.ts checks it; checked here first so a bad id fails before any key is made. */
const chainIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkOptions(options: {
  validators: number;
  chainId: string;
  names?: string[];
  genesisNonceHeights: number;
}): string[] {
  const count = options.validators;
  if (!Number.isSafeInteger(count) || count < 1 || count > clusterValidatorsMax) {
    throw new ConfigError(`validators: a whole number from 1 to ${clusterValidatorsMax}`);
  }
  if (!chainIdPattern.test(options.chainId)) {
    throw new ConfigError('chainId: 1 to 63 characters of a-z, 0-9 and -, starting a-z or 0-9');
  }
  const nonceRangeHeightsMax = devProducerParams('USD').nonceRangeHeightsMax;
  const heights = options.genesisNonceHeights;
  if (!Number.isSafeInteger(heights) || heights < 1 || heights > nonceRangeHeightsMax) {
    throw new ConfigError(`genesisNonceHeights: a whole number from 1 to ${nonceRangeHeightsMax}`);
  }
  const names = options.names ?? Array.from({ length: count }, (_, index) => `v${index + 1}`);
  if (names.length !== count) {
    throw new ConfigError(`names: ${names.length} names for ${count} validators`);
  }
  for (const [index, name] of names.entries()) {
    if (!validatorNamePattern.test(name)) {
      throw new ConfigError(
        `names[${index}]: ${JSON.stringify(name)} is not 1 to 32 characters of a-z, 0-9 and -, starting a-z or 0-9`,
      );
    }
    if (names.indexOf(name) !== index) {
      throw new ConfigError(`names[${index}]: ${name} is named twice`);
    }
  }
  return names;
}

/** Refuses a `dir` that is there and is not an empty directory. */
function checkTarget(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new DataDirError(`${dir} is not a directory`);
  if (fs.readdirSync(dir).length > 0) {
    throw new DataDirError(`${dir} is not empty: a cluster is made in a new or empty directory`);
  }
}

/**
 * Signs block 0 only, with the signature its producer gave it: the other validators commit the
 * very block the first one signed, and their own safety stores record no height they never signed.
 */
function signedBlockZero(block: SignedBlock): BlockSigner {
  return {
    producer: block.header.producer,
    sign: (header, hash) => {
      assert.equal(header.height, 0, 'only block 0 is replayed');
      assert.equal(hash, block.hash, 'every validator computes the same block 0 from one genesis');
      return block.signature;
    },
  };
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { flag: 'wx' });
}

/**
 * Creates a cluster in `dir` (new, or empty). Everything is made in a temporary sibling directory
 * that is renamed to `dir` at the end, so an init killed midway leaves only a `.<dir>.init-*`
 * sibling, never a partial cluster under `dir` that later looks complete.
 */
export function initCluster(options: {
  dir: string;
  validators: number;
  chainId: string;
  now: number;
  names?: string[];
  /** Heights in each validator's genesis nonce range (each costs ~2 ms to compute at init). */
  genesisNonceHeights?: number;
  /** Registry parameters to set other than the dev chain's (tests: a short downtime window). */
  producerParams?: Partial<ProducerParams>;
}): ClusterInitResult {
  const { dir, chainId } = options;
  const genesisNonceHeights = options.genesisNonceHeights ?? defaultGenesisNonceHeights;
  const names = checkOptions({ ...options, genesisNonceHeights });
  checkTarget(dir);
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const temporary = fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.init-`));
  try {
    fs.chmodSync(temporary, 0o700);
    // Every parameter written out, the validator-set ones included (active set size, downtime
    // window and jail), so the genesis file says what the chain runs with.
    const params = resolveParams({ ...devProducerParams('USD'), ...options.producerParams });
    const members = names.map((name) => {
      const dataDir = path.join(temporary, name);
      fs.mkdirSync(dataDir, { mode: 0o700 });
      const key = newStoredKey();
      writeSecretFile(path.join(dataDir, dataFiles.producerKey), key);
      const signer = ProducerSigner.open(chainId, key.secretKey, dataDir);
      const entry: GenesisProducer = genesisProducerEntry({
        signer,
        operator: key.address,
        name: `coffer validator ${name}`,
        bond: params.bondMin,
        genesisNonceHeights,
      });
      return { name, dataDir, key, signer, entry };
    });
    const first = members[0]!;
    const devAccount = newStoredKey();
    const base = devGenesis(chainId, first.signer.producer, devAccount.address, options.now);
    const registry: ProducersGenesis = { params, producers: members.map((m) => m.entry) };
    const genesis: Genesis = {
      ...base,
      // Each operator holds exactly its bond, which genesis moves into escrow: a slashed
      // validator loses real money.
      balances: [
        ...base.balances,
        ...members.map((m) => ({ address: m.key.address, asset: 'USD', amount: params.bondMin })),
      ],
      modules: { [producersModule.name]: registry },
    };
    const genesisText = JSON.stringify(genesis, null, 2) + '\n';

    const block = ensureGenesisBlock(first.dataDir, genesis, first.signer);
    assert.ok(block, 'a new data directory has no block 0 yet');
    for (const member of members.slice(1)) {
      ensureGenesisBlock(member.dataDir, genesis, signedBlockZero(block));
    }
    for (const member of members) {
      writeJson(path.join(member.dataDir, validatorFile), {
        name: member.name,
        chainId,
        producer: member.signer.producer,
        operator: member.key.address,
      });
      // Written last in each data directory: its presence marks a complete one.
      fs.writeFileSync(path.join(member.dataDir, dataFiles.genesis), genesisText, { flag: 'wx' });
    }
    writeSecretFile(path.join(temporary, dataFiles.devAccount), devAccount);
    fs.writeFileSync(path.join(temporary, dataFiles.genesis), genesisText, { flag: 'wx' });
    // Checked again: another init may have filled `dir` meanwhile. rename(2) replaces an empty
    // directory and fails on a non-empty one, so the last step cannot clobber a cluster either.
    checkTarget(dir);
    fs.renameSync(temporary, dir);
    return {
      dir,
      chainId,
      genesis,
      validators: members.map((m) => ({
        name: m.name,
        dataDir: path.join(dir, m.name),
        operator: m.key.address,
        producer: m.signer.producer,
      })),
      devAccount,
    };
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** A data directory's validator.json, or undefined when it has none (a solo node's). */
export function readValidatorFile(
  dataDir: string,
): { name: string; chainId: string; producer: string; operator: string } | undefined {
  const file = path.join(dataDir, validatorFile);
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DataDirError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new DataDirError(`${file}: not a JSON object`);
  }
  const { name, chainId, producer, operator } = parsed as Record<string, unknown>;
  for (const [field, value] of Object.entries({ name, chainId, producer, operator })) {
    if (typeof value !== 'string') throw new DataDirError(`${file}: no ${field}`);
  }
  return {
    name: name as string,
    chainId: chainId as string,
    producer: producer as string,
    operator: operator as string,
  };
}
