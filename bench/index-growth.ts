// `npm run bench -- index`: the cost of an index-heavy tx as its index grows (issue 13, item 4).
// Not a test: it measures, it does not assert.
//
// In process, on a chain in a SQLite file (the node's store, `chain.produce`: execute, state root,
// commit), with the ledger, crowdfund and timecredits modules:
// 1. crowdfund: fills the due index with campaigns whose deadlines share one band of 1,000
//    heights, then times blocks of BENCH_INDEX_TXS (999) `campaign.amend` deadline changes of one
//    campaign (no funds needed) at BENCH_INDEX_SMALL (1,000) and BENCH_INDEX_LARGE (20,000)
//    entries; per-tx cost and the ratio large / small.
// 2. timecredits: fills the expiry (and notice) index with lots that expire in one minute, then
//    times blocks of 999 `timecredits.issue` (each adds a lot to both indexes) at the same two
//    sizes. The lots of a timed block go to members of their own, so the members' records (which
//    list their lots) are the same size at both sizes: only the index differs.
// Each size is timed BENCH_INDEX_ROUNDS (5) times after one untimed warm-up block; the median is
// reported. Txs are signed and decoded before the clock starts.
import { performance } from 'node:perf_hooks';

import { ledgerModule, ModuleRegistry, type DecodedTx } from '../src/chain/index.js';
import { campaignIdOf, crowdfundModule } from '../src/modules/crowdfund/index.js';
import { getTimebank, hashUserId, timecreditsModule } from '../src/modules/timecredits/index.js';
import {
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../test/support/module-chain.js';

const env = process.env;
const txsPerBlock = Number(env.BENCH_INDEX_TXS ?? 999);
const small = Number(env.BENCH_INDEX_SMALL ?? 1_000);
const large = Number(env.BENCH_INDEX_LARGE ?? 20_000);
const rounds = Number(env.BENCH_INDEX_ROUNDS ?? 5);
/** Txs per block while filling an index (not timed). */
const fillBlockTxs = 1_000;

const harness = new ModuleTestHarness({
  name: 'bench-index',
  chainId: 'coffer-bench-index',
  registry: new ModuleRegistry([ledgerModule, crowdfundModule, timecreditsModule]),
});

function account(tag: number, n: number): TestAccount {
  const secret = new Uint8Array(32).fill(tag);
  new DataView(secret.buffer).setUint32(0, n);
  return testAccount(secret);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** Microseconds per tx of one block of `txs` (execute, state root, commit). */
function timeBlock(node: ModuleTestChain, txs: DecodedTx[]): number {
  const start = performance.now();
  const block = node.produce(txs);
  const elapsed = performance.now() - start;
  const failed = block.receipts.filter((r) => r.status !== 'ok');
  if (failed.length > 0)
    throw new Error(`bench: ${failed.length} txs failed: ${failed[0]!.status}`);
  return (elapsed * 1_000) / txs.length;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

// ---- crowdfund: campaign.amend against the due index -------------------------------------------

function benchAmend(): { small: number; large: number } {
  const producer = account(0x41, 0);
  const node = harness.open(
    harness.genesis({
      assets: [{ symbol: 'USD', decimals: 2, issuer: producer.address }],
      balances: [],
    }),
  );
  /** Deadlines in one band of 1,000 heights (one bucket of the former index), far ahead. */
  const band = 5_000_000;
  const terms = (deadline: number) => ({
    title: 'Bench',
    asset: 'USD',
    target: '100000',
    minInvestment: '100',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: deadline },
    cancelWindow: 0,
    earlyClose: false,
    platformFee: null,
    reporters: [producer.address],
    distribution: {
      tranches: [
        {
          name: 'all',
          shareBasisPoints: 10_000,
          recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
        },
      ],
    },
  });
  // The campaign the timed blocks amend: the index's first entry.
  const first = node.tx(producer, 'campaign.create', terms(band));
  node.produce([first]);
  const amended = campaignIdOf(first.hash);
  let created = 1;
  const fillTo = (entries: number) => {
    while (created < entries) {
      const offsets = new Map<string, number>();
      const count = Math.min(fillBlockTxs, entries - created);
      const txs = Array.from({ length: count }, (_, i) =>
        node.tx(producer, 'campaign.create', terms(band + ((created + i) % 1_000)), offsets),
      );
      node.produce(txs);
      created += count;
    }
  };
  let amends = 0;
  const measure = () => {
    const offsets = new Map<string, number>();
    const txs = Array.from({ length: txsPerBlock }, () => {
      amends += 1;
      return node.tx(
        producer,
        'campaign.amend',
        { campaignId: amended, terms: { deadline: { height: band + (amends % 1_000) } } },
        offsets,
      );
    });
    return timeBlock(node, txs);
  };
  fillTo(small);
  measure(); // warm-up (JIT, SQLite's page cache), not counted
  const atSmall = Array.from({ length: rounds }, measure);
  fillTo(large);
  const atLarge = Array.from({ length: rounds }, measure);
  return { small: median(atSmall), large: median(atLarge) };
}

// ---- timecredits: timecredits.issue against the expiry and notice indexes ----------------------

function benchIssue(): { small: number; large: number } {
  const coordinator = account(0x42, 0);
  const node = harness.open(harness.genesis({ assets: [], balances: [] }));
  const create = node.tx(coordinator, 'timebank.create', {
    name: 'Bench bank',
    coordinators: [coordinator.address],
    policy: { kind: 'expiry', expiryDays: 30, noticeDays: 7 },
    creditLimitMinutes: '0',
  });
  node.produce([create]);
  const bankId = create.hash.slice(0, 16);
  const salt = getTimebank(node.store, bankId)!.salt;
  let members = 0;
  /** `count` new approved members (each may hold 500 lots). */
  const addMembers = (count: number): TestAccount[] => {
    const added = Array.from({ length: count }, () => account(0x43, (members += 1)));
    for (let start = 0; start < added.length; start += fillBlockTxs) {
      const offsets = new Map<string, number>();
      node.produce(
        added
          .slice(start, start + fillBlockTxs)
          .map((m) =>
            node.tx(
              coordinator,
              'timebank.addMember',
              { bankId, account: m.address, userIdHash: hashUserId(salt, m.address) },
              offsets,
            ),
          ),
      );
    }
    return added;
  };
  let requests = 0;
  const issues = (to: TestAccount[], count: number, offsets: Map<string, number>) =>
    Array.from({ length: count }, (_, i) => {
      requests += 1;
      return node.tx(
        coordinator,
        'timecredits.issue',
        { bankId, account: to[i % to.length]!.address, minutes: '60', requestId: `b-${requests}` },
        offsets,
      );
    });
  // Every block lands within one minute: all the lots expire (and get notices) in one minute.
  const at = () => node.time + 1;
  let lots = 0;
  const fillers = addMembers(Math.ceil(large / 250));
  const fillTo = (entries: number) => {
    while (lots < entries) {
      const count = Math.min(fillBlockTxs, entries - lots);
      node.produce(issues(fillers, count, new Map()), at());
      lots += count;
    }
  };
  /** Members per timed block: each gets the same number of lots at both sizes. */
  const perBlock = 10;
  const timed = addMembers((2 * rounds + 1) * perBlock);
  let round = 0;
  const measure = () => {
    const to = timed.slice(round * perBlock, (round + 1) * perBlock);
    round += 1;
    const txs = issues(to, txsPerBlock, new Map());
    lots += txsPerBlock;
    return timeBlock(node, txs);
  };
  fillTo(small);
  measure(); // warm-up (JIT, SQLite's page cache), not counted
  const atSmall = Array.from({ length: rounds }, measure);
  fillTo(large);
  const atLarge = Array.from({ length: rounds }, measure);
  return { small: median(atSmall), large: median(atLarge) };
}

try {
  console.log(
    `index bench: ${txsPerBlock}-tx blocks, in process, SQLite file; median of ${rounds} blocks at each size`,
  );
  const cases: [string, () => { small: number; large: number }][] = [
    ['campaign.amend (crowdfund due index)', benchAmend],
    ['timecredits.issue (expiry + notice index)', benchIssue],
  ];
  console.log(
    `${'tx'.padEnd(44)}${`at ${fmt(small)}`.padStart(14)}${`at ${fmt(large)}`.padStart(14)}   ratio`,
  );
  for (const [name, run] of cases) {
    const result = run();
    console.log(
      `${name.padEnd(44)}${`${fmt(result.small)} us/tx`.padStart(14)}${`${fmt(result.large)} us/tx`.padStart(14)}   ${(result.large / result.small).toFixed(2)}`,
    );
  }
} finally {
  harness.close();
}
