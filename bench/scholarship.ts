// `npm run bench -- scholarship`: questions and answers per second through a node, stamp checks
// included (issue 22), against a baseline measured in the same run on the same machine: plain
// transfers, signed and submitted the same way, between accounts of the same chain. And the
// median cost of minting one stamp at the default difficulty (12 bits) on this machine, against
// the cost of checking one (a single SHA-256 of the same bytes) in the same run. Not a test: it
// measures; it asserts only that every tx it sent committed with outcome ok.
//
// 1. Stamps: BENCH_SCHOLARSHIP_STAMPS (101) stamps minted at `difficultyBaseDefault` for distinct
//    bodies; the median and p90 wall time of one, and the median time of checking one.
// 2. A node in this process (test/support/scholarship-node.ts, 5 ms blocks while txs wait) on a
//    genesis funding one account, at the default base difficulty. Set up (not timed):
//    BENCH_SCHOLARSHIP_QUESTIONS (300) askers funded with USD, as many tutors with a profile in
//    the question's subject; the questions spread over the taxonomy's ~25 sub-subjects.
// 3. Each round: every asker asks one question, then a tutor answers each, in batches of
//    BENCH_SCHOLARSHIP_BATCH (100) waiting for the commit; every stamp is minted before the
//    clock starts, on the latest block hash, at the bits the rule gives for the route's counts
//    plus the posts ahead of it in the same subject (so none is refused). The handler's check
//    costs one SHA-256 whatever the bits. The baseline round: two transfers from each asker,
//    in batches of the same size. One round of each to warm, then two of each interleaved, the
//    best of each.
// Prints both rates and the ratio.
import { performance } from 'node:perf_hooks';

import { createHash } from 'node:crypto';

import {
  difficultyBaseDefault,
  difficultyFor,
  mintStamp,
  stampBits,
  type StampFields,
} from '../src/modules/scholarship/pow.js';
import { subjects } from '../src/modules/scholarship/subjects.js';
import {
  createClient,
  generateKey,
  hashTx,
  signTx,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { openNode } from '../test/support/scholarship-node.js';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer`);
  return value;
}

const stampCount = positive('BENCH_SCHOLARSHIP_STAMPS', 101);
const questionCount = positive('BENCH_SCHOLARSHIP_QUESTIONS', 300);
const batchSize = positive('BENCH_SCHOLARSHIP_BATCH', 100);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

// ---- 1. stamp cost ----------------------------------------------------------------------------

const minter = generateKey();
const mintMs: number[] = [];
const checkMs: number[] = [];
for (let i = 0; i < stampCount; i++) {
  const fields: StampFields = {
    kind: 'question',
    contentHash: sha(`bench body ${i}`),
    sender: minter.address,
    blockHash: sha(`bench block ${i}`),
  };
  let started = performance.now();
  const stamp = mintStamp(fields, difficultyBaseDefault);
  mintMs.push(performance.now() - started);
  started = performance.now();
  for (let k = 0; k < 100; k++) stampBits(fields, stamp.nonce);
  checkMs.push((performance.now() - started) / 100);
}
const mintMedian = median(mintMs);
const checkMedian = median(checkMs);

// ---- 2. the node ------------------------------------------------------------------------------

const funder = generateKey();
const node = await openNode('bench-scholarship', {
  genesis: {
    chainId: 'coffer-bench-scholarship',
    time: Date.now(),
    producer: '',
    assets: [{ symbol: 'USD', decimals: 2, issuer: funder.address }],
    balances: [{ address: funder.address, asset: 'USD', amount: '100000000' }],
  },
});
const client = createClient(node.url);
try {
  const { chainId } = await client.health();
  const nonces = new Map<string, number>();
  const hashes = new WeakMap<SignedTx, string>();
  const sign = (key: SigningKey, type: string, payload: Record<string, unknown>): SignedTx => {
    const nonce = nonces.get(key.address) ?? 0;
    nonces.set(key.address, nonce + 1);
    const unsigned = { chainId, type, sender: key.address, nonce, payload };
    const signed = signTx(unsigned, key);
    hashes.set(signed, hashTx(unsigned));
    return signed;
  };
  const submit = async (signed: SignedTx[]) => {
    for (let i = 0; i < signed.length; i += batchSize) {
      const result = await client.submitBatch(signed.slice(i, i + batchSize), { wait: 'commit' });
      for (const r of result.results) {
        if (!('status' in r) || r.status !== 'ok') {
          throw new Error(`a tx did not commit ok: ${JSON.stringify(r)}`);
        }
      }
    }
  };
  const leaves = subjects.filter((s) => s.parent !== undefined).map((s) => s.id);
  const askers = Array.from({ length: questionCount }, () => generateKey());
  const tutors = Array.from({ length: questionCount }, () => generateKey());
  const payees = Array.from({ length: questionCount }, () => generateKey());
  const subjectOf = (i: number) => leaves[i % leaves.length]!;
  // Set-up: fund the askers (and the baseline's senders: the same accounts), tutors' profiles.
  await submit(
    askers.map((a) =>
      sign(funder, 'ledger.transfer', { to: a.address, asset: 'USD', amount: '100000' }),
    ),
  );
  await submit(
    tutors.map((t, i) =>
      sign(t, 'scholar.profile', {
        name: `Tutor ${i}`,
        roles: ['tutor'],
        subjects: [subjectOf(i)],
      }),
    ),
  );

  // The bits a stamp needs when its tx runs: the rule on the route's counts plus the posts of
  // this batch in the same subject ahead of it (a window rolling over only lowers them).
  const aheadInSubject = new Map<string, number>();
  const mintFor = async (
    kind: 'question' | 'answer',
    key: SigningKey,
    subject: string,
    contentHash: string,
  ) => {
    const d = await client.scholarship.difficulty({ subject, sender: key.address });
    const ahead = aheadInSubject.get(subject) ?? 0;
    aheadInSubject.set(subject, ahead + 1);
    const bits = difficultyFor(d.base, d.senderRecent, d.subjectRecent + ahead);
    mintedBits.push(bits);
    return mintStamp({ kind, contentHash, sender: key.address, blockHash: d.blockHash }, bits);
  };
  const mintedBits: number[] = [];

  let round = 0;
  const runQuestions = async (): Promise<number> => {
    round += 1;
    const { time } = (await client.latestBlock()).header;
    const asks: SignedTx[] = [];
    aheadInSubject.clear();
    for (const [i, asker] of askers.entries()) {
      const bodyHash = sha(`round ${round} question ${i}`);
      const stamp = await mintFor('question', asker, subjectOf(i), bodyHash);
      asks.push(
        sign(asker, 'question.ask', {
          subject: subjectOf(i),
          title: `Question ${i} of round ${round}`,
          bodyHash,
          reward: { asset: 'USD', amount: '100' },
          deadline: time + 2 * 3_600_000,
          answersMax: 3,
          stamp,
        }),
      );
    }
    const started = performance.now();
    await submit(asks);
    const askSeconds = (performance.now() - started) / 1_000;
    const answers: SignedTx[] = [];
    aheadInSubject.clear();
    for (const [i, tutor] of tutors.entries()) {
      const bodyHash = sha(`round ${round} answer ${i}`);
      const stamp = await mintFor('answer', tutor, subjectOf(i), bodyHash);
      answers.push(
        sign(tutor, 'question.answer', { questionId: hashes.get(asks[i]!)!, bodyHash, stamp }),
      );
    }
    const answerStarted = performance.now();
    await submit(answers);
    return askSeconds + (performance.now() - answerStarted) / 1_000;
  };
  const runBaseline = async (): Promise<number> => {
    const transfers = askers.map((a, i) =>
      sign(a, 'ledger.transfer', { to: payees[i]!.address, asset: 'USD', amount: '1' }),
    );
    const more = askers.map((a, i) =>
      sign(a, 'ledger.transfer', { to: payees[i]!.address, asset: 'USD', amount: '1' }),
    );
    const started = performance.now();
    await submit(transfers);
    await submit(more);
    return (performance.now() - started) / 1_000;
  };
  // Warm both, then interleave three of each (a drift of the shared machine hits both alike).
  await runBaseline();
  await runQuestions();
  let baselineSeconds = Infinity;
  let questionSeconds = Infinity;
  for (let r = 0; r < 2; r++) {
    baselineSeconds = Math.min(baselineSeconds, await runBaseline());
    questionSeconds = Math.min(questionSeconds, await runQuestions());
  }
  const txs = 2 * questionCount;
  console.log(
    [
      `stamps: ${stampCount} minted at ${difficultyBaseDefault} bits: median ${mintMedian.toFixed(2)} ms, p90 ${percentile(mintMs, 0.9).toFixed(2)} ms; one check ${(checkMedian * 1_000).toFixed(1)} µs; ratio mint/check ${(mintMedian / checkMedian).toFixed(0)} (hashes to a stamp: mean 2^${difficultyBaseDefault}, median ln 2 x 2^${difficultyBaseDefault} = ${Math.round(Math.LN2 * 2 ** difficultyBaseDefault)}; a check also encodes the fields)`,
      `node: ${questionCount} questions + ${questionCount} answers a round over ${leaves.length} subjects, batches of ${batchSize}; stamps minted (untimed) at ${Math.min(...mintedBits)} to ${Math.max(...mintedBits)} bits, median ${median(mintedBits)}`,
      `baseline (transfers):               ${(txs / baselineSeconds).toFixed(0)} tx/s`,
      `questions and answers (with stamps): ${(txs / questionSeconds).toFixed(0)} tx/s`,
      `ratio questions+answers/transfers: ${(baselineSeconds / questionSeconds).toFixed(2)}`,
    ].join('\n'),
  );
} finally {
  await node.close();
}
