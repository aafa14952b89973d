// Peer-to-peer scholarship end to end (issue 22) with a node in this process (its clock moved
// forward by the test to pass deadlines and the grace) and the CLI's own entry point:
// - an asker asks with a reward escrowed, three tutors answer, the asker awards two with a 2:1
//   split (to the unit), and the Q&A record verifies offline (`coffer verify qa --file`); a
//   tampered record is refused; nobody but the asker awards early;
// - only the asker's upvote pays a tip (and endorses the answer); a question that opted into votes
//   (`--auto-award votes`), past its deadline and grace, closes by the votes of tutors of the
//   subject whose answers two distinct askers accepted, for an endorsed answer: half the reward to
//   it, the rest back to the asker; a question left to the default is refunded, closed by the
//   node's closer service without anyone sending the close;
// - a stamp below the sender's difficulty, a replayed stamp and a stamp on a block hash older than
//   the last 64 blocks are refused;
// - a flood of questions from one sender raises that sender's difficulty (the bits the node asks
//   and the hashes minting takes, measured) while another sender in the same subject stays cheap.
// The chain runs at the default base difficulty (12 bits): minting a stamp takes milliseconds.
// (A genesis `scholarship.difficultyBase` is not applied to block 0 by the node's data directory
// yet, which applies only the producers' section; see the report of issue 22.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  leadingZeroBits,
  mintStamp,
  stampHash,
  type Stamp,
} from '../src/modules/scholarship/pow.js';
import { CofferError, generateKey, txs, type SigningKey } from '../src/sdk/index.js';
import { inProcessCli, newKeys, useCofferHome } from './support/in-process-cli.js';
import { openNode, usdGenesis, type OpenNode } from './support/scholarship-node.js';

const passphrase = 'scholarship e2e passphrase';
const hourMs = 3_600_000;
const graceMs = 24 * hourMs;
const subject = 'math.algebra';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

interface Difficulty {
  bits: number;
  blockHash: string;
  height: number;
}

describe('scholarship end to end', { timeout: 120_000 }, () => {
  let t: OpenNode;
  let home: ReturnType<typeof useCofferHome> | undefined;
  const clock = { offsetMs: 0 };
  const funder = generateKey();
  const addresses: Record<string, string> = {};
  const keys: Record<string, SigningKey> = {};

  const { run, ok } = inProcessCli(() => t.url);

  /** The hash of a tx command's `--json` outcome. */
  const hashOf = (out: string) => (JSON.parse(out.trim().split('\n')[0]!) as { hash: string }).hash;

  const balance = async (name: string) =>
    BigInt(
      (await t.client.getAccount(addresses[name]!)).balances.find((b) => b.asset === 'USD')
        ?.balance ?? '0',
    );

  async function difficulty(sender: string, subjectId = subject): Promise<Difficulty> {
    const response = await fetch(
      `${t.url}/v1/scholarship/difficulty?subject=${subjectId}&sender=${sender}`,
    );
    assert.equal(response.status, 200);
    return (await response.json()) as Difficulty;
  }

  /** The code a tx is refused with, at admission or in its block. */
  async function refusal(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof CofferError, String(error));
      return error.txStatus ?? error.code;
    }
    return assert.fail('expected a refusal');
  }

  function askTx(
    sender: string,
    body: string,
    stamp: Stamp,
    deadline: number,
    subjectId: string,
    extra: Record<string, unknown> = {},
  ) {
    return {
      type: 'question.ask',
      payload: {
        subject: subjectId,
        title: `About ${body.slice(0, 20)}`,
        bodyHash: sha(body),
        reward: { asset: 'USD', amount: '100' },
        deadline,
        answersMax: 3,
        stamp,
        ...extra,
      },
    };
  }

  const blockTime = async () => (await t.client.latestBlock()).header.time;

  before(async () => {
    home = useCofferHome('coffer-scholarship-e2e-home-', passphrase);
    t = await openNode('scholarship-e2e', {
      now: () => Date.now() + clock.offsetMs,
      genesis: usdGenesis('coffer-scholarship-e2e', funder.address),
    });
    await newKeys(ok, ['asker', 'asker2', 'tutor1', 'tutor2', 'tutor3', 'tutor4'], addresses);
    for (const name of ['flooder', 'quiet', 'stamper']) {
      keys[name] = generateKey();
      addresses[name] = keys[name].address;
    }
    for (const name of ['asker', 'asker2', 'flooder', 'quiet', 'stamper']) {
      await t.client.send(
        funder,
        txs.transfer({ to: addresses[name]!, asset: 'USD', amount: '1000000' }),
      );
    }
    for (const name of ['tutor1', 'tutor2', 'tutor3', 'tutor4']) {
      await ok([
        ...['scholar', 'profile', '--name', `Tutor ${name}`, '--roles', 'tutor'],
        ...['--subjects', 'math', '--from', name],
      ]);
    }
  });

  after(async () => {
    await t?.close();
    home?.restore();
  });

  const ask = async (title: string, reward = '10.00', extra: string[] = [], from = 'asker') =>
    hashOf(
      await ok([
        ...['ask', subject, '--title', title, '--body', `${title}: what is x if 2x + 3 = 7?`],
        ...['--reward', reward, '--asset', 'USD', '--deadline', '2h', '--answers-max', '3'],
        ...extra,
        ...['--from', from, '--json'],
      ]),
    );
  const answer = async (questionId: string, tutor: string) =>
    hashOf(
      await ok([
        ...['answer', questionId, '--body', `${tutor}: x = 2, since 2x = 4.`],
        ...['--from', tutor, '--json'],
      ]),
    );

  it('asks with a reward, three tutors answer, the asker awards two 2:1; the record verifies offline', async () => {
    const askerBefore = await balance('asker');
    const questionId = await ask('Linear equations');
    assert.equal(await balance('asker'), askerBefore - 1000n, 'the reward is escrowed');
    const answerIds = [];
    for (const tutor of ['tutor1', 'tutor2', 'tutor3']) {
      answerIds.push(await answer(questionId, tutor));
    }
    const before = await Promise.all(['tutor1', 'tutor2', 'tutor3'].map(balance));
    // Nobody but the asker awards, early or not.
    const early = await run(['award', questionId, '--to', answerIds[0]!, '--from', 'tutor3']);
    assert.notEqual(early.code, 0);
    assert.match(early.err, /not_asker/);
    await ok([
      ...['award', questionId, '--to', `${answerIds[0]}:2`, '--to', `${answerIds[1]}:1`],
      ...['--from', 'asker'],
    ]);
    const afterAward = await Promise.all(['tutor1', 'tutor2', 'tutor3'].map(balance));
    // 1000 minor units by 2:1: 666.67 -> 667 and 333 (largest remainder to the unit).
    assert.deepEqual(
      afterAward.map((b, i) => b - before[i]!),
      [667n, 333n, 0n],
    );
    const shown = JSON.parse(await ok(['question', 'show', questionId, '--json'])) as {
      question: { status: string; recordRoot: string; best: { amount: string }[] };
    };
    assert.equal(shown.question.status, 'awarded');
    assert.deepEqual(
      shown.question.best.map((b) => b.amount),
      ['667', '333'],
    );

    // The record, saved, verifies with no node but for the headers (followed from block 0).
    const recordFile = path.join(home!.home, 'record.json');
    fs.writeFileSync(recordFile, await ok(['question', 'record', questionId, '--json']));
    const verdict = JSON.parse(
      await ok(['verify', 'qa', questionId, '--file', recordFile, '--json']),
    ) as { ok: boolean; root: string; leaves: number };
    assert.equal(verdict.ok, true);
    assert.equal(verdict.root, shown.question.recordRoot);
    // question + 3 answers + 2 best + ask + 3 answer txs + award tx.
    assert.equal(verdict.leaves, 11);

    // A best answer's amount changed in the file: its proof no longer leads to the root.
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as {
      root: string;
      leaves: { leaf: Record<string, unknown>; proof: string[] }[];
      tx: { receipt: { events: { type: string; data: Record<string, unknown> }[] } };
    };
    const tampered = structuredClone(record);
    const best = tampered.leaves.find((l) => l.leaf.kind === 'best')!;
    best.leaf.amount = '1000';
    const tamperedFile = path.join(home!.home, 'tampered.json');
    fs.writeFileSync(tamperedFile, JSON.stringify(tampered));
    const refused = await run(['verify', 'qa', questionId, '--file', tamperedFile]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /does not lead to the root/);
    // A record rebuilt around a new root: the root on the chain (the receipt's event) differs,
    // and changing the event breaks the receipt's proof.
    const rerooted = structuredClone(record);
    rerooted.root = sha('another root');
    fs.writeFileSync(tamperedFile, JSON.stringify(rerooted));
    const rerootedRun = await run(['verify', 'qa', questionId, '--file', tamperedFile]);
    assert.notEqual(rerootedRun.code, 0);
    assert.match(rerootedRun.out, /the root on the chain is/);
    const closed = rerooted.tx.receipt.events.find((e) => e.type.endsWith('question.closed'))!;
    closed.data.root = rerooted.root;
    fs.writeFileSync(tamperedFile, JSON.stringify(rerooted));
    const eventRun = await run(['verify', 'qa', questionId, '--file', tamperedFile, '--json']);
    assert.notEqual(eventRun.code, 0);
    assert.ok((JSON.parse(eventRun.out) as { failed: string[] }).failed.length > 0);
  });

  it('upvotes pay tips; past the deadline and grace: half by the votes when asked so, or a refund by the closer', async () => {
    // A second asker accepts tutor1's and tutor2's answers: two distinct askers each, the least a
    // voter needs (one asker awarding its own tutors builds one at most).
    const second = await ask('Systems of equations', '2.00', [], 'asker2');
    const secondAnswers = [await answer(second, 'tutor1'), await answer(second, 'tutor2')];
    await ok([
      ...['award', second, '--to', `${secondAnswers[0]}:1`, '--to', `${secondAnswers[1]}:1`],
      ...['--from', 'asker2'],
    ]);
    for (const tutor of ['tutor1', 'tutor2']) {
      const profile = JSON.parse(await ok(['scholar', 'profile', addresses[tutor]!, '--json'])) as {
        reputation: { subject: string; askers: number; answers: number; score: number }[];
      };
      const algebra = profile.reputation.find((r) => r.subject === subject)!;
      // Wilson lower bound of 2 askers of 2 answers: 3423 basis points.
      assert.deepEqual([algebra.askers, algebra.answers, algebra.score], [2, 2, 3423], tutor);
    }

    // With a tipping budget of 0.30 in tips of 0.10. Tutors vote only for an answer the asker
    // endorsed (upvoted).
    const voted = await ask('Quadratics', '6.00', [
      ...['--tip-budget', '0.30', '--tip-unit', '0.10', '--auto-award', 'votes'],
    ]);
    const unvoted = await ask('Inequalities', '4.00');
    const voteFor = await answer(voted, 'tutor3');
    await answer(voted, 'tutor4');
    await answer(unvoted, 'tutor4');
    const tipped = await balance('tutor3');
    // Another's upvote counts and pays nothing; the asker's endorses the answer and pays a tip.
    await ok(['upvote', voted, voteFor, '--from', 'tutor1']);
    assert.equal(await balance('tutor3'), tipped, "a tutor's upvote pays nothing");
    await ok(['upvote', voted, voteFor, '--from', 'asker']);
    assert.equal((await balance('tutor3')) - tipped, 10n, "the asker's upvote pays the tip unit");
    const twice = await run(['upvote', voted, voteFor, '--from', 'asker']);
    assert.match(twice.err, /already_upvoted/);
    // Votes are taken only after the deadline.
    const tooEarly = await run(['vote', voted, voteFor, '--from', 'tutor1']);
    assert.match(tooEarly.err, /voting_not_open/);
    clock.offsetMs += 2 * hourMs + 2 * 60_000;
    // tutor1 and tutor2 weigh 3423 each: above the auto-award minimum (3000).
    await ok(['vote', voted, voteFor, '--from', 'tutor1']);
    await ok(['vote', voted, voteFor, '--from', 'tutor2']);
    // A question left to the default refund takes no votes.
    const refused = await run(['vote', unvoted, voteFor, '--from', 'tutor1']);
    assert.notEqual(refused.code, 0);
    const notYet = await run(['question', 'close', voted, '--from', 'tutor4']);
    assert.match(notYet.err, /grace_not_over/);
    clock.offsetMs += graceMs;
    const tutor3Before = await balance('tutor3');
    const askerBefore = await balance('asker');
    // Anyone closes the voted one: the first tx after the grace, so before the node's closer can.
    await ok(['question', 'close', voted, '--from', 'tutor4']);
    // Nobody sends the other's close: the node's closer does, on the block that passed its grace.
    let view = JSON.parse(await ok(['question', 'show', unvoted, '--json'])) as {
      question: { status: string; outcome: string; closeTx?: string };
    };
    for (let i = 0; view.question.status === 'open' && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      view = JSON.parse(await ok(['question', 'show', unvoted, '--json'])) as typeof view;
    }
    assert.equal(view.question.status, 'refunded', 'the closer closed it');
    const closeTx = await t.client.getTx(view.question.closeTx!);
    assert.equal(closeTx.tx?.sender, t.node.operator, "signed by the node's operator key");
    // Half of 6.00 to the voted answer; the other half back to the asker.
    assert.equal((await balance('tutor3')) - tutor3Before, 300n, 'the voted answer takes half');
    // The refund of the unvoted question, the voted one's other half and its unspent tips (0.20).
    assert.equal((await balance('asker')) - askerBefore, 400n + 300n + 20n, 'refunds and tips');
    for (const [id, status, outcome] of [
      [voted, 'awarded', 'votes'],
      [unvoted, 'refunded', 'refund'],
    ] as const) {
      const shown = JSON.parse(await ok(['question', 'show', id, '--json'])) as {
        question: { status: string; outcome: string };
      };
      assert.deepEqual([shown.question.status, shown.question.outcome], [status, outcome]);
      const verdict = JSON.parse(await ok(['verify', 'qa', id, '--json'])) as { ok: boolean };
      assert.equal(verdict.ok, true, `the record of the ${status} question verifies`);
    }
  });

  it('refuses a stamp below difficulty, a replayed stamp and a stamp on an old block hash', async () => {
    const key = keys.stamper!;
    // A subject of its own: the other tests' posts do not add to its load.
    const physics = 'physics';
    const deadline = async () => (await blockTime()) + 2 * hourMs + 60_000;
    // Two questions: the sender's difficulty rises a bit (base + ilog2(1 + 2 / 2)).
    const quiet = await difficulty(key.address, physics);
    let firstStamp: Stamp | undefined;
    for (const i of [0, 1]) {
      const { bits, blockHash } = await difficulty(key.address, physics);
      const body = `stamper question ${i}`;
      const stamp = mintStamp(
        { kind: 'question', contentHash: sha(body), sender: key.address, blockHash },
        bits,
      );
      firstStamp ??= stamp;
      await t.client.send(key, askTx(key.address, body, stamp, await deadline(), physics));
    }
    const raised = await difficulty(key.address, physics);
    assert.equal(raised.bits, quiet.bits + 1);
    // A stamp of exactly one bit less: admitted by the floor (8), below this sender's need.
    const weakBody = 'stamper weak question';
    let weak: Stamp | undefined;
    for (let n = 0; !weak; n++) {
      const fields = {
        kind: 'question' as const,
        contentHash: sha(weakBody),
        sender: key.address,
        blockHash: raised.blockHash,
      };
      if (leadingZeroBits(stampHash(fields, n.toString(16))) === raised.bits - 1) {
        weak = { nonce: n.toString(16), blockHash: raised.blockHash };
      }
    }
    assert.equal(
      await refusal(
        t.client.send(key, askTx(key.address, weakBody, weak, await deadline(), physics)),
      ),
      'stamp_below_difficulty',
    );
    // The first question's stamp again (same body, same sender): replayed.
    assert.equal(
      await refusal(
        t.client.send(
          key,
          askTx(key.address, 'stamper question 0', firstStamp!, await deadline(), physics, {
            title: 'The same stamp again',
          }),
        ),
      ),
      'stamp_replayed',
    );
    // A stamp on a block hash 65 blocks back: no longer one of the recent 64.
    const old = await difficulty(key.address, physics);
    for (let i = 0; i < 65; i++) {
      await t.client.send(
        funder,
        txs.transfer({ to: addresses.quiet!, asset: 'USD', amount: '1' }),
      );
    }
    const oldBody = 'stamper late question';
    const stale = mintStamp(
      {
        kind: 'question',
        contentHash: sha(oldBody),
        sender: key.address,
        blockHash: old.blockHash,
      },
      old.bits,
    );
    assert.equal(
      await refusal(
        t.client.send(key, askTx(key.address, oldBody, stale, await deadline(), physics)),
      ),
      'stamp_block_unknown',
    );
  });

  it("a flood from one sender raises its difficulty (measured) while others' stays", async (test) => {
    const flooder = keys.flooder!;
    // A subject of its own: 14 posts in it stay under the subject's first step (16).
    const cs = 'cs.algorithms';
    const quiet = keys.quiet!;
    const start = await difficulty(flooder.address, cs);
    const quietStart = await difficulty(quiet.address, cs);
    // Hashes a mint takes at the bits the node asks, averaged over a few bodies.
    const mintCost = async (key: SigningKey, label: string) => {
      const { bits, blockHash } = await difficulty(key.address, cs);
      let tries = 0;
      for (let i = 0; i < 16; i++) {
        const stamp = mintStamp(
          { kind: 'question', contentHash: sha(`${label} ${i}`), sender: key.address, blockHash },
          bits,
        );
        tries += parseInt(stamp.nonce, 16) + 1;
      }
      return { bits, hashes: tries / 16 };
    };
    const flooderBefore = await mintCost(flooder, 'before');
    const posts = 14;
    for (let i = 0; i < posts; i++) {
      const { bits, blockHash } = await difficulty(flooder.address, cs);
      const body = `flood ${i}`;
      const stamp = mintStamp(
        { kind: 'question', contentHash: sha(body), sender: flooder.address, blockHash },
        bits,
      );
      await t.client.send(
        flooder,
        askTx(flooder.address, body, stamp, (await blockTime()) + 2 * hourMs + 60_000, cs),
      );
    }
    const flooderAfter = await mintCost(flooder, 'after');
    const quietAfter = await mintCost(quiet, 'quiet');
    test.diagnostic(
      `flooder: ${start.bits} -> ${flooderAfter.bits} bits, ${flooderBefore.hashes.toFixed(0)} -> ` +
        `${flooderAfter.hashes.toFixed(0)} hashes a stamp; quiet sender: ${quietStart.bits} -> ` +
        `${quietAfter.bits} bits, ${quietAfter.hashes.toFixed(0)} hashes`,
    );
    // base + ilog2(1 + 14 / 2) = base + 3 (the subject's 14 posts add ilog2(1 + 14 / 16) = 0).
    assert.equal(flooderAfter.bits, start.bits + 3);
    assert.equal(quietAfter.bits, quietStart.bits, 'another sender in the subject stays cheap');
    // 2^3 more work, measured: well over twice the hashes on average.
    assert.ok(flooderAfter.hashes > 2 * flooderBefore.hashes, 'minting costs more after a flood');
  });

  it('creates and funds a pool (its statement names the donor), a member joins, pays a mentorship', async () => {
    await ok([
      ...['pool', 'create', 'algebra-fund', '--asset', 'USD', '--per-answer', '0.50'],
      ...['--per-member-max', '5.00', '--subject', 'math', '--from', 'asker'],
    ]);
    await ok(['pool', 'fund', 'algebra-fund', '--amount', '100.00', '--from', 'asker']);
    const statement = JSON.parse(await ok(['pool', 'statement', 'algebra-fund', '--json'])) as {
      funded: string;
      donorList: { donor: string; funded: string }[];
    };
    assert.equal(statement.funded, '10000');
    assert.deepEqual(
      statement.donorList.map((d) => [d.donor, d.funded]),
      [[addresses.asker, '10000']],
    );
    // An invitation, which the member accepts, and a mentorship paid from the pool: 1.00 a block
    // for 3 blocks.
    await ok(['pool', 'member', 'algebra-fund', 'tutor1', '--from', 'asker']);
    const invited = JSON.parse(await ok(['pool', 'show', 'algebra-fund', '--json'])) as {
      members: number;
      invitations: number;
    };
    assert.deepEqual([invited.members, invited.invitations], [0, 1], 'invited, not a member yet');
    await ok(['pool', 'join', 'algebra-fund', '--from', 'tutor1']);
    const pool = JSON.parse(await ok(['pool', 'show', 'algebra-fund', '--json'])) as {
      members: number;
      invitations: number;
    };
    assert.deepEqual([pool.members, pool.invitations], [1, 0]);
    await ok([
      ...['mentorship', 'start', 'algebra-mentoring', '--pool', 'algebra-fund'],
      ...['--mentor', 'tutor1', '--apprentice', 'tutor2', '--stipend', '1.00'],
      ...['--period-blocks', '1', '--periods', '3', '--from', 'asker'],
    ]);
    // Blocks pass (transfers), then the apprentice claims what is due: never more than 3.00.
    for (let i = 0; i < 4; i++) {
      await t.client.send(
        funder,
        txs.transfer({ to: addresses.quiet!, asset: 'USD', amount: '1' }),
      );
    }
    const before = await balance('tutor2');
    await ok(['mentorship', 'claim', 'algebra-mentoring', '--from', 'tutor2']);
    assert.equal((await balance('tutor2')) - before, 300n);
    const mentorship = JSON.parse(
      await ok(['mentorship', 'show', 'algebra-mentoring', '--json']),
    ) as {
      claimed: number;
      paid: string;
    };
    assert.deepEqual([mentorship.claimed, mentorship.paid], [3, '300']);
    await ok(['pool', 'member', 'algebra-fund', 'tutor1', '--remove', '--from', 'asker']);
  });
});
