// Execute and commit in process: `node --import tsx bench/execute.ts`. Not a test: it measures.
//
// A chain on SQLite in a temp dir with BENCH_STATE_ACCOUNTS funded accounts (default 100,000)
// and the node's modules; BENCH_BLOCKS blocks (default 12) of BENCH_BLOCK_TXS transfers (default
// 4,000) from BENCH_ACCOUNTS senders (default 1,000) to the big population, each block executed
// and committed as `Chain.produce` does. Prints µs per transfer for execute alone and for
// execute + commit, over the blocks after the first BENCH_WARMUP (default 2, JIT warm-up).
// Signing and decoding happen before the clock starts: they are the verify workers' part.
// BENCH_PARSED=1 (the default) executes as the chain will once it keeps a ParsedRecordCache across
// blocks (executeBlock with `{ parsed }`, as Chain.execute calls it otherwise); BENCH_PARSED=0
// through Chain.execute as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Chain,
  decodeTx,
  executeBlock,
  isRejection,
  signBlockHeader,
  signTx,
} from '../src/chain/index.js';
import type { DecodedTx } from '../src/chain/index.js';
import {
  addressFromPublicKey,
  deriveAddress,
  keyPairFromSecret,
  type KeyPair,
} from '../src/crypto/index.js';
import { nodeModuleRegistry } from '../src/node/chain-rules.js';
import { ParsedRecordCache, SqliteBlockStore } from '../src/state/index.js';
import { TestBlockSigner } from '../test/support/block-signer.js';

const env = process.env;
const stateAccounts = Number(env.BENCH_STATE_ACCOUNTS ?? 100_000);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 1_000);
const blockTxs = Number(env.BENCH_BLOCK_TXS ?? 4_000);
const blockCount = Number(env.BENCH_BLOCKS ?? 12);
const warmup = Number(env.BENCH_WARMUP ?? 2);
const keepParsed = (env.BENCH_PARSED ?? '1') === '1';
const chainId = 'coffer-bench';

function main(): void {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-execute-'));
  process.on('exit', () => fs.rmSync(directory, { recursive: true, force: true }));

  const producer = new TestBlockSigner(new Uint8Array(32).fill(99), chainId);
  const senders: (KeyPair & { address: string })[] = Array.from({ length: senderCount }, (_, i) => {
    const secret = new Uint8Array(32);
    new DataView(secret.buffer).setUint32(0, i + 1);
    const pair = keyPairFromSecret(secret);
    return { ...pair, address: addressFromPublicKey(pair.publicKey) };
  });
  const issuer = senders[0]!.address;
  const holders = Array.from({ length: stateAccounts }, (_, i) =>
    deriveAddress('bench', String(i)),
  );
  const registry = nodeModuleRegistry();
  const store = new SqliteBlockStore(path.join(directory, 'chain.db'));
  const genesisStart = performance.now();
  Chain.initialize(
    store,
    {
      chainId,
      time: 1_700_000_000_000,
      producer: producer.producer,
      assets: [{ symbol: 'USD', decimals: 2, issuer }],
      balances: [...senders.map((s) => s.address), ...holders].map((address) => ({
        address,
        asset: 'USD',
        amount: '1000000',
      })),
    },
    producer,
    registry.modules,
  );
  console.log(
    `genesis: ${senderCount + stateAccounts} accounts in ${((performance.now() - genesisStart) / 1000).toFixed(1)} s`,
  );
  const log = (message: string, error: unknown) => console.error(message, error);
  const chain = new Chain(store, registry, log);
  const parsed = new ParsedRecordCache();
  /** Chain.execute, with the parsed cache the chain does not keep yet. */
  const execute = (txs: DecodedTx[], time: number) => {
    if (!keepParsed) return chain.execute(txs, time);
    const head = chain.latest();
    const blockTime = Math.max(time, head.header.time);
    const input = {
      chainId,
      height: head.header.height + 1,
      time: blockTime,
      previousStateRoot: head.header.stateRoot,
      previousProducer: head.header.producer,
      previousHash: head.hash,
      txs,
      dropStaleNonces: true,
    };
    return { ...executeBlock(store, registry, input, log, { parsed }), time: blockTime };
  };

  // Every block: each sender sends blockTxs / senderCount transfers with consecutive nonces.
  const nonces = new Array<number>(senderCount).fill(0);
  let nextHolder = 0;
  const blocks: DecodedTx[][] = [];
  const signStart = performance.now();
  for (let b = 0; b < blockCount; b++) {
    const txs: DecodedTx[] = [];
    for (let i = 0; i < blockTxs; i++) {
      const a = i % senderCount;
      const sender = senders[a]!;
      const to = holders[nextHolder++ % holders.length]!;
      const tx = signTx(
        {
          chainId,
          type: 'ledger.transfer',
          sender: sender.address,
          nonce: nonces[a]!++,
          payload: { to, asset: 'USD', amount: '1' },
        },
        sender.secretKey,
      );
      const decoded = decodeTx(tx, chainId, registry.parserFor);
      if (isRejection(decoded)) throw new Error(`bench tx does not decode: ${decoded.code}`);
      txs.push(decoded);
    }
    blocks.push(txs);
  }
  console.log(
    `signed ${blockCount * blockTxs} transfers in ${((performance.now() - signStart) / 1000).toFixed(1)} s`,
  );

  let executeMs = 0;
  let commitMs = 0;
  // CPU time (all threads of the process) as well: on a shared machine wall time is noisy.
  let executeCpu = 0;
  let commitCpu = 0;
  let measured = 0;
  let time = 1_700_000_001_000;
  for (const [b, txs] of blocks.entries()) {
    time += 1000;
    const startCpu = process.cpuUsage();
    const start = performance.now();
    const result = execute(txs, time);
    const executed = performance.now();
    const executedCpu = process.cpuUsage(startCpu);
    const header = chain.nextHeader(result, producer.producer);
    const block = signBlockHeader(header, producer);
    const signed = performance.now();
    const signedCpu = process.cpuUsage();
    chain.commit(block, result);
    const committed = performance.now();
    const committedCpu = process.cpuUsage(signedCpu);
    const ok = result.receipts.filter((r) => r.status === 'ok').length;
    if (ok !== txs.length) throw new Error(`block ${header.height}: ${ok}/${txs.length} ok`);
    console.log(
      `block ${header.height}: execute ${(executed - start).toFixed(0)} ms, commit ${(committed - signed).toFixed(0)} ms`,
    );
    if (b < warmup) continue;
    executeMs += executed - start;
    commitMs += committed - signed;
    executeCpu += (executedCpu.user + executedCpu.system) / 1000;
    commitCpu += (committedCpu.user + committedCpu.system) / 1000;
    measured += txs.length;
  }
  const perTx = (ms: number) => ((ms * 1000) / measured).toFixed(1);
  console.log(
    `execute: ${perTx(executeMs)} µs/transfer; execute+commit: ${perTx(executeMs + commitMs)} µs/transfer; ` +
      `CPU time: execute ${perTx(executeCpu)}, execute+commit ${perTx(executeCpu + commitCpu)} µs/transfer ` +
      `(${measured} transfers in ${blockCount - warmup} blocks of ${blockTxs}, ${stateAccounts} accounts, parsed cache ${keepParsed ? 'kept' : 'per block'}; state root ${chain.latest().header.stateRoot})`,
  );
  store.close();
}

main();
