// `npm run bench -- index`: the cost of an index-heavy tx as its index grows (issue 13, item 4).
// Not a test: it measures, it does not assert.
//
// In process, on chains in SQLite files (the node's store, `chain.produce`: execute, state root,
// commit), with the ledger, crowdfund and timecredits modules. For each tx, two chains: one whose
// index holds BENCH_INDEX_SMALL (1,000) entries, the baseline, and one with BENCH_INDEX_LARGE
// (20,000). Their timed blocks alternate (small, large, small, ...), so a machine busy with other
// work slows both alike; BENCH_INDEX_ROUNDS (7) blocks each after one untimed warm-up block each;
// the median and the fastest per-tx cost of each, and the ratios large / small (on a shared
// machine the fastest block is the one least slowed by other work). Txs are signed and decoded before
// the clock starts.
// 1. crowdfund: the due index filled with campaigns whose deadlines share one band of 1,000
//    heights (one value of the former layout); timed: blocks of BENCH_INDEX_TXS (999)
//    `campaign.amend` deadline changes of one campaign (no funds needed), as in the issue.
// 2. timecredits: the expiry (and notice) index filled with lots that expire within a minute;
//    timed: blocks of BENCH_INDEX_ISSUES (250) `timecredits.issue`, each adding a lot to both
//    indexes (so the baseline grows to 2,500 entries by its last block). The lots of a timed block
//    go to members of its own, so the members' records (which list their lots) are alike on both
//    chains: only the index differs.
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
const issuesPerBlock = Number(env.BENCH_INDEX_ISSUES ?? 250);
const small = Number(env.BENCH_INDEX_SMALL ?? 1_000);
const large = Number(env.BENCH_INDEX_LARGE ?? 20_000);
const rounds = Number(env.BENCH_INDEX_ROUNDS ?? 7);
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

/** A chain whose index holds `entries`, and how to time one block of its tx. */
interface Subject {
  /** Builds the next timed block's txs (signed and decoded: not timed). */
  next(): DecodedTx[];
  node: ModuleTestChain;
}

interface Timing {
  median: number;
  fastest: number;
}

/**
 * Times `rounds` blocks on each subject, alternating between them after a warm-up block each:
 * the median and the fastest microseconds per tx of each (on a shared machine the fastest block
 * is the one least slowed by other work).
 */
function interleaved(
  smallSubject: Subject,
  largeSubject: Subject,
): Record<'small' | 'large', Timing> {
  const times = { small: [] as number[], large: [] as number[] };
  for (const subject of [smallSubject, largeSubject]) timeBlock(subject.node, subject.next());
  for (let round = 0; round < rounds; round++) {
    times.small.push(timeBlock(smallSubject.node, smallSubject.next()));
    times.large.push(timeBlock(largeSubject.node, largeSubject.next()));
  }
  const timing = (values: number[]) => ({ median: median(values), fastest: Math.min(...values) });
  return { small: timing(times.small), large: timing(times.large) };
}

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

const producer = account(0x41, 0);
/** Deadlines in one band of 1,000 heights (one value of the former index), far ahead. */
const band = 5_000_000;

function campaignTerms(deadline: number) {
  return {
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
  };
}

/** A chain whose due index holds `entries` campaigns; its timed blocks amend the first. */
function amendSubject(entries: number): Subject {
  const node = harness.open(
    harness.genesis({
      assets: [{ symbol: 'USD', decimals: 2, issuer: producer.address }],
      balances: [],
    }),
  );
  const first = node.tx(producer, 'campaign.create', campaignTerms(band));
  node.produce([first]);
  const amended = campaignIdOf(first.hash);
  for (let created = 1; created < entries;) {
    const offsets = new Map<string, number>();
    const count = Math.min(fillBlockTxs, entries - created);
    const txs = Array.from({ length: count }, (_, i) =>
      node.tx(producer, 'campaign.create', campaignTerms(band + ((created + i) % 1_000)), offsets),
    );
    node.produce(txs);
    created += count;
  }
  let amends = 0;
  return {
    node,
    next: () => {
      const offsets = new Map<string, number>();
      return Array.from({ length: txsPerBlock }, () => {
        amends += 1;
        return node.tx(
          producer,
          'campaign.amend',
          { campaignId: amended, terms: { deadline: { height: band + (amends % 1_000) } } },
          offsets,
        );
      });
    },
  };
}

// ---- timecredits: timecredits.issue against the expiry and notice indexes ----------------------

const coordinator = account(0x42, 0);

/** A chain whose expiry and notice indexes hold `entries` lots each. */
function issueSubject(entries: number): Subject {
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
  const issues = (to: TestAccount[], count: number) => {
    const offsets = new Map<string, number>();
    return Array.from({ length: count }, (_, i) => {
      requests += 1;
      return node.tx(
        coordinator,
        'timecredits.issue',
        { bankId, account: to[i % to.length]!.address, minutes: '60', requestId: `b-${requests}` },
        offsets,
      );
    });
  };
  // Members of the fill (250 lots each at most) and of the timed blocks (10 a block).
  const fillers = addMembers(Math.ceil(entries / 250));
  const perBlock = 10;
  const timed = addMembers((rounds + 1) * perBlock);
  // One millisecond apart: the filled lots expire (and get notices) within one minute.
  for (let lots = 0; lots < entries;) {
    const count = Math.min(fillBlockTxs, entries - lots);
    node.produce(issues(fillers, count), node.time + 1);
    lots += count;
  }
  let round = 0;
  return {
    node,
    next: () => {
      const to = timed.slice(round * perBlock, (round + 1) * perBlock);
      round += 1;
      return issues(to, issuesPerBlock);
    },
  };
}

try {
  console.log(
    `index bench: in process, SQLite files; us per tx of a block, ${rounds} blocks at each size, alternating`,
  );
  const cases: [string, (entries: number) => Subject][] = [
    [`campaign.amend (due index), ${txsPerBlock}-tx blocks`, amendSubject],
    [`timecredits.issue (expiry+notice), ${issuesPerBlock}-tx blocks`, issueSubject],
  ];
  const row = (name: string, cells: string[]) =>
    console.log(
      `${name.padEnd(48)}${cells.map((c, i) => c.padStart(i % 3 === 0 ? 17 : 10)).join('')}`,
    );
  row('tx', [
    `median ${fmt(small)}`,
    fmt(large),
    'ratio',
    `fastest ${fmt(small)}`,
    fmt(large),
    'ratio',
  ]);
  for (const [name, subject] of cases) {
    const { small: a, large: b } = interleaved(subject(small), subject(large));
    row(name, [
      fmt(a.median),
      fmt(b.median),
      (b.median / a.median).toFixed(2),
      fmt(a.fastest),
      fmt(b.fastest),
      (b.fastest / a.fastest).toFixed(2),
    ]);
  }
} finally {
  harness.close();
}
