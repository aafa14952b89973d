// The harness for a module's tests against a real chain: deterministic accounts, one SQLite file
// per chain in a temp directory, txs signed and decoded as admission decodes them, and blocks
// produced at times the test chooses. One `ModuleTestHarness` per test file; one
// `ModuleTestChain` per test.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Chain,
  decodeTx,
  isRejection,
  signTx,
  type BlockValidator,
  type CommittedBlock,
  type DecodedTx,
  type Genesis,
  type ModuleRegistry,
  type Rejection,
} from '../../src/chain/index.js';
import { addressFromPublicKey, keyPairFromSecret, type KeyPair } from '../../src/crypto/index.js';
import { SqliteBlockStore } from '../../src/state/index.js';
import { TestBlockSigner } from './block-signer.js';

/** The time of block 0 on every test chain (Unix milliseconds, 2023-11-14). */
export const genesisTime = 1_700_000_000_000;

/** How far apart blocks are when a test does not choose their time. */
const blockIntervalMs = 1000;

/** The seed byte of the default block producer's key. */
const producerSeedByte = 99;

export interface TestAccount extends KeyPair {
  address: string;
}

/**
 * A deterministic account: its secret key is `seed` repeated 32 times when it is a byte, or the
 * given 32 bytes.
 */
export function testAccount(seed: number | Uint8Array): TestAccount {
  let secret: Uint8Array;
  if (typeof seed === 'number') {
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 0xff, `seed ${seed} is not a byte`);
    secret = new Uint8Array(32).fill(seed);
  } else {
    secret = seed;
  }
  const pair = keyPairFromSecret(secret);
  return { ...pair, address: addressFromPublicKey(pair.publicKey) };
}

export interface ModuleTestHarnessOptions {
  /** Names the temp directory (`coffer-<name>-…`). */
  name: string;
  chainId: string;
  registry: ModuleRegistry;
  /** Checks each block before it is stored, as the producer registry does on a node. */
  validateBlock?: BlockValidator;
}

/**
 * What the tests of one file share: the registry, the chain id, a block signer (the key of seed
 * byte 99, the genesis producer) and a temp directory for the chains' files. `close()` closes every
 * store it opened and deletes the directory; call it from `after`.
 */
export class ModuleTestHarness {
  readonly chainId: string;
  readonly registry: ModuleRegistry;
  readonly signer: TestBlockSigner;
  private readonly validateBlock: BlockValidator | undefined;
  private readonly directory: string;
  private readonly stores: SqliteBlockStore[] = [];

  constructor(options: ModuleTestHarnessOptions) {
    this.chainId = options.chainId;
    this.registry = options.registry;
    this.validateBlock = options.validateBlock;
    this.signer = new TestBlockSigner(new Uint8Array(32).fill(producerSeedByte), this.chainId);
    this.directory = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${options.name}-`));
  }

  /** A genesis of this chain at `genesisTime`, produced by `signer`. */
  genesis(state: Pick<Genesis, 'assets' | 'balances' | 'modules'>): Genesis {
    return { chainId: this.chainId, time: genesisTime, producer: this.signer.producer, ...state };
  }

  /** An empty store in a file of its own. */
  emptyStore(): SqliteBlockStore {
    const store = new SqliteBlockStore(
      path.join(this.directory, `chain-${this.stores.length + 1}.db`),
    );
    this.stores.push(store);
    return store;
  }

  /** A new chain at block 0 of `genesis`. */
  open(genesis: Genesis): ModuleTestChain {
    const store = this.emptyStore();
    Chain.initialize(store, genesis, this.signer, this.registry.modules);
    const chain = new Chain(store, this.registry, () => {}, this.validateBlock);
    return new ModuleTestChain(this, store, chain, genesis.time);
  }

  /** The admission rejection code of a payload, or undefined when it parses. */
  parseStatus(type: string, payload: Record<string, unknown>): string | undefined {
    const parser = this.registry.parserFor(type);
    assert.ok(parser, `no parser for ${type}`);
    const parsed = parser(payload);
    return isRejection(parsed) ? parsed.code : undefined;
  }

  close(): void {
    for (const store of this.stores) store.close();
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}

/** One test's chain: its store, and blocks produced by the harness's signer at growing times. */
export class ModuleTestChain {
  private lastTime: number;

  constructor(
    private readonly harness: ModuleTestHarness,
    readonly store: SqliteBlockStore,
    readonly chain: Chain,
    startTime: number,
  ) {
    this.lastTime = startTime;
  }

  /** The time of the last block. */
  get time(): number {
    return this.lastTime;
  }

  /**
   * Signs a tx from `sender` at its next committed nonce plus `nonceOffset` and decodes it as
   * admission does: the decoded tx, or the admission rejection.
   */
  admit(
    sender: TestAccount,
    type: string,
    payload: Record<string, unknown>,
    nonceOffset = 0,
  ): DecodedTx | Rejection {
    const { chainId, registry } = this.harness;
    const signed = signTx(
      {
        chainId,
        type,
        sender: sender.address,
        nonce: this.chain.nonceOf(sender.address) + nonceOffset,
        payload,
      },
      sender.secretKey,
    );
    return decodeTx(signed, chainId, registry.parserFor);
  }

  /**
   * A tx that must pass admission (it throws otherwise). For several txs of one sender in one
   * block, pass the same `offsets` map to each: it counts the sender's txs so far.
   */
  tx(
    sender: TestAccount,
    type: string,
    payload: Record<string, unknown>,
    offsets?: Map<string, number>,
  ): DecodedTx {
    const offset = offsets?.get(sender.address) ?? 0;
    offsets?.set(sender.address, offset + 1);
    const decoded = this.admit(sender, type, payload, offset);
    if (isRejection(decoded)) throw new Error(`${type}: ${decoded.code} (${decoded.field})`);
    return decoded;
  }

  /** Produces the next block at `at` (by default one interval after the last) with `txs`. */
  produce(txs: DecodedTx[], at = this.lastTime + blockIntervalMs): CommittedBlock {
    assert.ok(at > this.lastTime, 'block times grow');
    this.lastTime = at;
    return this.chain.produce(txs, at, this.harness.signer);
  }

  /** The statuses of the txs of one produced block, in order. */
  statuses(txs: DecodedTx[], at?: number): string[] {
    return this.produce(txs, at).receipts.map((receipt) => receipt.status);
  }

  /** Runs one tx in a block of its own and returns its receipt status. */
  run(sender: TestAccount, type: string, payload: Record<string, unknown>, at?: number): string {
    return this.statuses([this.tx(sender, type, payload)], at)[0]!;
  }

  /** Produces empty blocks until the next block is `height`. */
  until(height: number): void {
    while (this.chain.height() < height - 1) this.produce([]);
  }
}
