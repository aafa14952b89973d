import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BlockHeader, Genesis } from '../chain/index.js';
import { validatorQuorum } from '../consensus/index.js';
import {
  activeValidatorSet,
  getProducer,
  listProducers,
  producerParamDefaults,
  producerParams,
  type ProducersGenesis,
} from '../modules/producers/index.js';
import { SqliteBlockStore } from '../state/index.js';
import {
  initCluster,
  readValidatorFile,
  validatorFile,
  type ClusterInitResult,
} from './cluster-init.js';
import { parseNodeConfig } from './config.js';
import { dataFiles, devProducerParams, initDataDir, readKeyFile } from './data-dir.js';
import { CofferNode } from './node.js';
import { signerStateFile } from './signer-store.js';

// Short genesis nonce ranges keep the suite fast (each height costs ~2 ms per validator).
const genesisNonceHeights = 20;
const chainId = 'coffer-test-cluster';
const bondMin = devProducerParams('USD').bondMin;

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cluster-'));
  dirs.push(dir);
  return dir;
}

function blockZero(dataDir: string): { hash: string; stateRoot: string; producer: string } {
  const store = new SqliteBlockStore(path.join(dataDir, dataFiles.database));
  try {
    assert.equal(store.lastHeight(), 0);
    const block = store.getBlock(0)!;
    const header = JSON.parse(block.header) as BlockHeader;
    return { hash: block.hash, stateRoot: header.stateRoot, producer: header.producer };
  } finally {
    store.close();
  }
}

describe('initCluster', () => {
  let root: string;
  let cluster: ClusterInitResult;
  before(() => {
    root = tempDir();
    cluster = initCluster({
      dir: path.join(root, 'c'),
      validators: 3,
      chainId,
      now: 1_000,
      genesisNonceHeights,
    });
  });
  after(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lays out the cluster: a data directory per validator, the shared genesis and dev account', () => {
    assert.deepEqual(
      cluster.validators.map((v) => v.name),
      ['v1', 'v2', 'v3'],
    );
    assert.deepEqual(fs.readdirSync(root), ['c'], 'no temporary sibling is left behind');
    const dir = path.join(root, 'c');
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      dataFiles.devAccount,
      dataFiles.genesis,
      'v1',
      'v2',
      'v3',
    ]);
    const dev = readKeyFile(path.join(dir, dataFiles.devAccount));
    assert.equal(dev.address, cluster.devAccount.address);
    assert.equal(fs.statSync(path.join(dir, dataFiles.devAccount)).mode & 0o777, 0o600);
    const shared = fs.readFileSync(path.join(dir, dataFiles.genesis), 'utf8');
    assert.deepEqual(JSON.parse(shared), cluster.genesis);
    for (const validator of cluster.validators) {
      assert.equal(validator.dataDir, path.join(dir, validator.name));
      const own = fs.readFileSync(path.join(validator.dataDir, dataFiles.genesis), 'utf8');
      assert.equal(own, shared, `${validator.name}: the same genesis.json`);
    }
  });

  it('funds the dev account and each operator with exactly its bond', () => {
    const { genesis } = cluster;
    assert.equal(genesis.chainId, chainId);
    assert.deepEqual(genesis.assets, [
      { symbol: 'USD', decimals: 2, issuer: cluster.devAccount.address },
    ]);
    assert.deepEqual(genesis.balances, [
      { address: cluster.devAccount.address, asset: 'USD', amount: '100000000' },
      ...cluster.validators.map((v) => ({ address: v.operator, asset: 'USD', amount: bondMin })),
    ]);
    assert.equal(genesis.producer, cluster.validators[0]!.producer);
  });

  it('commits the same block 0, signed by the first validator, in every data directory', () => {
    const blocks = cluster.validators.map((v) => blockZero(v.dataDir));
    assert.equal(new Set(blocks.map((b) => b.hash)).size, 1, 'one block hash');
    assert.equal(new Set(blocks.map((b) => b.stateRoot)).size, 1, 'one state root');
    assert.equal(blocks[0]!.producer, cluster.validators[0]!.producer);
  });

  it('records height 0 only in the first validator signer safety store', () => {
    const lastHeights = cluster.validators.map(
      (v) =>
        (
          JSON.parse(fs.readFileSync(path.join(v.dataDir, signerStateFile), 'utf8')) as {
            lastHeight: number;
          }
        ).lastHeight,
    );
    assert.deepEqual(lastHeights, [0, -1, -1]);
  });

  it('registers all validators as active producers with their bond and nonce range', () => {
    for (const validator of cluster.validators) {
      const store = new SqliteBlockStore(path.join(validator.dataDir, dataFiles.database));
      try {
        assert.equal(listProducers(store).length, 3);
        for (const other of cluster.validators) {
          const record = getProducer(store, other.producer);
          assert.ok(record, `${validator.name} knows ${other.name}`);
          assert.equal(record.status, 'active');
          assert.equal(record.operator, other.operator);
          assert.equal(record.bond, bondMin);
          assert.equal(record.nonceRanges.length, 1);
          assert.equal(record.nonceRanges[0]!.fromHeight, 0);
          assert.equal(record.nonceRanges[0]!.count, genesisNonceHeights);
        }
      } finally {
        store.close();
      }
      const cache = path.join(validator.dataDir, 'nonces', `0-${genesisNonceHeights}.json`);
      assert.ok(fs.existsSync(cache), `${validator.name}: its genesis nonces are cached`);
    }
  });

  it('makes the validators the active set, and writes the validator-set parameters out', () => {
    const genesis = JSON.parse(
      fs.readFileSync(path.join(cluster.dir, dataFiles.genesis), 'utf8'),
    ) as Genesis;
    const section = genesis.modules?.producers as ProducersGenesis;
    assert.deepEqual(
      {
        activeProducersMax: section.params.activeProducersMax,
        downtimeWindowHeights: section.params.downtimeWindowHeights,
        downtimeJailHeights: section.params.downtimeJailHeights,
      },
      producerParamDefaults,
    );
    const store = new SqliteBlockStore(
      path.join(cluster.validators[0]!.dataDir, dataFiles.database),
    );
    try {
      const set = activeValidatorSet(store);
      assert.deepEqual(set.producers, cluster.validators.map((v) => v.producer).sort());
      assert.deepEqual([...set.operators].sort(), cluster.validators.map((v) => v.operator).sort());
      assert.equal(validatorQuorum(set.operators), 3);
    } finally {
      store.close();
    }
  });

  it('takes other registry parameters (a shorter downtime window)', () => {
    const other = initCluster({
      dir: path.join(tempDir(), 'c'),
      validators: 1,
      chainId,
      now: 1_000,
      genesisNonceHeights: 4,
      producerParams: { downtimeWindowHeights: 50, downtimeJailHeights: 7 },
    });
    const store = new SqliteBlockStore(path.join(other.validators[0]!.dataDir, dataFiles.database));
    try {
      const params = producerParams(store)!;
      assert.equal(params.downtimeWindowHeights, 50);
      assert.equal(params.downtimeJailHeights, 7);
      assert.equal(params.activeProducersMax, producerParamDefaults.activeProducersMax);
    } finally {
      store.close();
    }
  });

  it('writes validator.json to match the data directory producer key', () => {
    for (const validator of cluster.validators) {
      const key = readKeyFile(path.join(validator.dataDir, dataFiles.producerKey));
      assert.equal(
        fs.statSync(path.join(validator.dataDir, dataFiles.producerKey)).mode & 0o777,
        0o600,
      );
      assert.equal(key.address, validator.operator);
      assert.deepEqual(readValidatorFile(validator.dataDir), {
        name: validator.name,
        chainId,
        producer: validator.producer,
        operator: key.address,
      });
    }
    assert.equal(new Set(cluster.validators.map((v) => v.operator)).size, 3, 'a key each');
  });

  it('leaves data directories that initDataDir resumes with the validator key', () => {
    for (const validator of cluster.validators) {
      const resumed = initDataDir({ dataDir: validator.dataDir, chainId: 'other', now: 9_000 });
      assert.equal(resumed.created, false);
      assert.equal(resumed.chainId, chainId);
      assert.equal(resumed.producer.address, validator.operator);
    }
  });

  it('leaves data directories that CofferNode.open opens at height 0', async () => {
    // As the validator it is (alone it is refused); opening connects to nothing yet.
    const node = await CofferNode.open(
      parseNodeConfig({
        dataDir: cluster.validators[1]!.dataDir,
        port: 0,
        logLevel: 'silent',
        cluster: 'nats://127.0.0.1:4222',
        validator: cluster.validators[1]!.name,
      }),
    );
    try {
      assert.equal(node.init.created, false);
      assert.equal(node.chain.chainId, chainId);
      assert.equal(node.chain.height(), 0);
    } finally {
      await node.close();
    }
  });
});

describe('initCluster refuses', () => {
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const options = { chainId, now: 1_000, genesisNonceHeights: 4 };

  it('a directory that is not empty, and leaves it as it was', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    assert.throws(() => initCluster({ ...options, dir, validators: 1 }), {
      code: 'invalid_data_dir',
      message: /not empty/,
    });
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
  });

  it('0 or 17 validators', () => {
    const dir = path.join(tempDir(), 'c');
    for (const validators of [0, 17, 1.5]) {
      assert.throws(() => initCluster({ ...options, dir, validators }), {
        code: 'invalid_config',
        message: /validators: a whole number from 1 to 16/,
      });
    }
    assert.equal(fs.existsSync(dir), false);
  });

  it('duplicate, malformed or missing names', () => {
    const dir = path.join(tempDir(), 'c');
    const cases: [string[], RegExp][] = [
      [['a', 'b', 'a'], /names\[2\]: a is named twice/],
      [['a', 'B', 'c'], /names\[1\]: "B" is not/],
      [['a', '', 'c'], /names\[1\]: "" is not/],
      [['a', 'b'], /names: 2 names for 3 validators/],
    ];
    for (const [names, message] of cases) {
      assert.throws(() => initCluster({ ...options, dir, validators: 3, names }), {
        code: 'invalid_config',
        message,
      });
    }
    assert.equal(fs.existsSync(dir), false);
  });

  it('a bad chain id', () => {
    const dir = path.join(tempDir(), 'c');
    assert.throws(() => initCluster({ ...options, dir, validators: 1, chainId: 'Bad_Id' }), {
      code: 'invalid_config',
      message: /chainId/,
    });
  });
});

describe('initCluster into an empty directory', () => {
  after(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fills it, with the names given', () => {
    const dir = tempDir();
    const result = initCluster({
      dir,
      validators: 2,
      chainId,
      now: 1_000,
      names: ['alpha', 'beta-2'],
      genesisNonceHeights: 4,
    });
    assert.deepEqual(
      result.validators.map((v) => v.name),
      ['alpha', 'beta-2'],
    );
    assert.deepEqual(readValidatorFile(path.join(dir, 'beta-2'))?.name, 'beta-2');
    assert.equal(readValidatorFile(dir), undefined, 'the cluster dir itself is no data dir');
    assert.ok(fs.existsSync(path.join(dir, 'alpha', validatorFile)));
  });
});
