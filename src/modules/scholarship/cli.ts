import { createHash } from 'node:crypto';
import fs from 'node:fs';

import {
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { amountOf, report, submitTx } from '../../cli/payments.js';
import { finish, isObject, readJsonFile, verifyCommittedTxs } from '../../cli/verify.js';
import { canonicalBytes, fromHex, verifyInclusion } from '../../crypto/index.js';
import { createCoreClient } from '../../sdk/index.js';
import { mintStamp } from './pow.js';

/*
 * `coffer scholar ...`, `coffer ask|answer|award|vote|upvote`, `coffer question ...`,
 * `coffer pool ...`, `coffer mentorship ...` and `coffer verify qa` (issue 22): profiles of
 * students, tutors and mentors; questions with an escrowed reward, answered by tutors, awarded by
 * the asker (or closed by rule after the deadline and the grace period); scholarship pools and
 * mentorship stipends. Every question and answer carries a proof-of-work stamp minted here at the
 * difficulty the node's difficulty route answers for the subject and the sender, on the latest
 * block hash. `coffer verify qa` checks a closed question's Q&A record offline: each leaf's
 * Merkle proof against the root, the root in the award or close tx's `question.closed` event,
 * and that tx's inclusion proof, receipt and block signature as `verify tx` does.
 */

/** A question or answer body: the node stores up to 16 KiB of it by its SHA-256. */
const bodyBytesMax = 16 * 1024;
/** A saved Q&A record: a question, 20 answers, their awards and upvote tx ids, with proofs. */
const recordFileBytesMax = 4 * 1024 * 1024;
/** Leaves checked in one record (20 answers, 20 awards, upvotes): a bound for a hostile file. */
const recordLeavesMax = 4096;
/** A deadline's longest and shortest reach, as the chain bounds it (ctx.time + 1 h .. + 30 d). */
const deadlineMsMin = 60 * 60 * 1000;
const deadlineMsMax = 30 * 24 * 60 * 60 * 1000;
/** Room between a deadline and the chain's bounds for the blocks until the tx is in one. */
const deadlineSlackMs = 60 * 1000;
/** Weights of an award, as the chain bounds them. */
const weightMax = 10_000;
const rolesAllowed = ['student', 'tutor', 'mentor'] as const;
const subjectsPerProfileMax = 8;
/** The most distinct askers `ask --answer-min-accepted` may require, as the chain bounds it. */
const answerMinAcceptedMax = 100;
const subjectPattern = /^[a-z]+(\.[a-z]+)?$/;
const slugPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
const hashPattern = /^[0-9a-f]{64}$/;

type Tx = { type: string; payload: Record<string, unknown> };
type StampKind = 'question' | 'answer';

export interface DifficultyAnswer {
  bits: number;
  blockHash: string;
  height: number;
}

/** The module's reads, straight from the routes (the typed client is client.ts's). */
function reads(ctx: CommandContext) {
  const { request, segment, search } = createCoreClient(ctx.nodeUrl);
  const base = '/v1/scholarship';
  return {
    difficulty: (subject: string, sender: string) =>
      request<DifficultyAnswer>('GET', `${base}/difficulty${search({ subject, sender })}`),
    question: (id: string) =>
      request<Record<string, unknown>>('GET', `${base}/questions/${segment(id)}`),
    questions: (query: Record<string, string | number | undefined>) =>
      request<Record<string, unknown>>('GET', `${base}/questions${search(query)}`),
    record: (id: string) => request<unknown>('GET', `${base}/questions/${segment(id)}/record`),
    profile: (address: string) =>
      request<Record<string, unknown>>('GET', `${base}/profiles/${segment(address)}`),
    pool: (id: string) => request<Record<string, unknown>>('GET', `${base}/pools/${segment(id)}`),
    statement: (id: string) =>
      request<Record<string, unknown>>('GET', `${base}/pools/${segment(id)}/statement`),
    mentorship: (id: string) =>
      request<Record<string, unknown>>('GET', `${base}/mentorships/${segment(id)}`),
    putBody: (text: string) => request<unknown>('POST', `${base}/bodies`, { body: text }),
  };
}

function hashArgument(text: string, what: string): string {
  if (!hashPattern.test(text))
    throw usageError(`${what} must be 64 lowercase hex digits (a tx hash)`);
  return text;
}

function slugArgument(text: string, what: string): string {
  if (!slugPattern.test(text)) {
    throw usageError(`${what} must be 1 to 63 of a-z, 0-9 and "-" (not first)`);
  }
  return text;
}

function subjectArgument(text: string, what = 'SUBJECT'): string {
  if (!subjectPattern.test(text)) throw usageError(`${what} is a subject id such as math.algebra`);
  return text;
}

/** The body of a question or answer: `--body TEXT` or `--body-file FILE`, at most 16 KiB. */
function bodyOf(values: OptionValues): string {
  const text = stringOption(values, 'body');
  const file = stringOption(values, 'body-file');
  if ((text === undefined) === (file === undefined)) {
    throw usageError('give the body: --body TEXT or --body-file FILE');
  }
  let body: string;
  if (file !== undefined) {
    try {
      if (fs.statSync(file).size > bodyBytesMax)
        throw new Error(`larger than ${bodyBytesMax / 1024} KiB`);
      body = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError('invalid_file', `cannot read ${file}: ${(error as Error).message}`);
    }
  } else body = text!;
  if (body.length === 0) throw usageError('the body is empty');
  if (Buffer.byteLength(body, 'utf8') > bodyBytesMax) {
    throw usageError(`the body is ${bodyBytesMax / 1024} KiB at most`);
  }
  return body;
}

export const bodyHashOf = (body: string): string =>
  createHash('sha256').update(body, 'utf8').digest('hex');

/** A duration: `90m`, `2h`, `3d` or milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^([1-9][0-9]{0,9})(ms|s|m|h|d)?$/.exec(text);
  if (!match) throw usageError(`${what} is a duration such as 90m, 2h or 3d`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Number(match[1]) * unit;
}

/**
 * Mints a stamp for `kind` of `contentHash` by `sender` at the bits the node asks now for the
 * subject and the sender, on the latest block's hash (so it stays recent for 64 blocks).
 */
async function stampFor(
  ctx: CommandContext,
  kind: StampKind,
  subject: string,
  sender: string,
  contentHash: string,
): Promise<{ stamp: { nonce: string; blockHash: string }; bits: number }> {
  const { bits, blockHash } = await reads(ctx).difficulty(subject, sender);
  const stamp = mintStamp({ kind, contentHash, sender, blockHash }, bits);
  return { stamp, bits };
}

async function sendTx(
  ctx: CommandContext,
  from: string,
  tx: Tx | ((sender: string) => Promise<Tx>),
  title: string,
): Promise<string> {
  const key = await ctx.unlock(from);
  const built = typeof tx === 'function' ? await tx(key.address) : tx;
  const result = await submitTx(ctx, key, built, undefined);
  report(ctx, result, title);
  return result.outcome.hash;
}

/** Stores the body at the node once its question or answer is committed (best effort). */
async function storeBody(ctx: CommandContext, body: string): Promise<void> {
  try {
    await reads(ctx).putBody(body);
  } catch (error) {
    ctx.warn(`the body was not stored at the node: ${(error as Error).message}`);
  }
}

function pageOptions(values: OptionValues): { after?: string; limit?: number } {
  const after = stringOption(values, 'after');
  const limit = pageLimitOption(values);
  return {
    ...(after === undefined ? {} : { after }),
    ...(limit === undefined ? {} : { limit }),
  };
}

/** A value from untrusted JSON in a sentence. */
const shown = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'nothing');

/** `ask --auto-award votes|refund` and `--answer-min-accepted N` (0 to 100), as payload fields. */
export function askChoices(values: OptionValues): {
  autoAward?: 'votes' | 'refund';
  answerMinAccepted?: number;
} {
  const autoAward = stringOption(values, 'auto-award');
  if (autoAward !== undefined && autoAward !== 'votes' && autoAward !== 'refund') {
    throw usageError('--auto-award is votes or refund');
  }
  const minText = stringOption(values, 'answer-min-accepted');
  const answerMinAccepted =
    minText === undefined ? undefined : parseWholeNumber(minText, '--answer-min-accepted');
  if (answerMinAccepted !== undefined && answerMinAccepted > answerMinAcceptedMax) {
    throw usageError(`--answer-min-accepted is 0 to ${answerMinAcceptedMax}`);
  }
  return {
    ...(autoAward === undefined ? {} : { autoAward }),
    ...(answerMinAccepted === undefined ? {} : { answerMinAccepted }),
  };
}

/** `ANSWER_ID:WEIGHT` (or `ANSWER_ID`: weight 1) of `award --to`. */
export function parseAward(text: string): { answerId: string; weight: number } {
  const [id, weightText, ...rest] = text.split(':');
  if (rest.length > 0 || id === undefined) throw usageError(`--to ${text}: ANSWER_ID[:WEIGHT]`);
  const weight = weightText === undefined ? 1 : parseWholeNumber(weightText, '--to WEIGHT');
  if (weight < 1 || weight > weightMax) throw usageError(`--to WEIGHT is 1 to ${weightMax}`);
  return { answerId: hashArgument(id, '--to ANSWER_ID'), weight };
}

/**
 * The Q&A record's own claims, checked offline: every leaf's Merkle proof against the root, the
 * award or close tx is of this question and its receipt's `question.closed` event names the
 * same root and leaf count. (The tx's inclusion and block signature are verifyCommittedTxs's.)
 */
export function qaRecordProblems(record: unknown, questionId: string): string[] {
  if (!isObject(record)) return ['the record is not a JSON object'];
  const problems: string[] = [];
  if (record.questionId !== questionId) {
    problems.push(`it is the record of ${shown(record.questionId)}, not of ${questionId}`);
  }
  const root =
    typeof record.root === 'string' && hashPattern.test(record.root) ? record.root : undefined;
  if (root === undefined) problems.push('its root is not 64 lowercase hex digits');
  const leaves = Array.isArray(record.leaves) ? (record.leaves as unknown[]) : undefined;
  if (!leaves || leaves.length === 0) problems.push('it has no leaves');
  else if (leaves.length > recordLeavesMax) problems.push(`it has over ${recordLeavesMax} leaves`);
  else if (root !== undefined) {
    const rootBytes = fromHex(root);
    leaves.forEach((entry, index) => {
      const proof =
        isObject(entry) && Array.isArray(entry.proof) ? (entry.proof as unknown[]) : undefined;
      if (!isObject(entry) || !('leaf' in entry) || !proof) {
        problems.push(`leaf ${index}: no leaf or no proof`);
        return;
      }
      if (!proof.every((p) => typeof p === 'string' && hashPattern.test(p))) {
        problems.push(`leaf ${index}: its proof is not a list of 64-hex hashes`);
        return;
      }
      const bytes = canonicalBytes(entry.leaf);
      const path = (proof as string[]).map((p) => fromHex(p));
      if (!verifyInclusion(bytes, index, leaves.length, path, rootBytes)) {
        problems.push(`leaf ${index}: its proof does not lead to the root`);
      }
    });
    const first = isObject(leaves[0]) ? leaves[0].leaf : undefined;
    if (!isObject(first) || first.kind !== 'question' || first.questionId !== questionId) {
      problems.push('its first leaf is not the question');
    }
    // The last leaf names the award or close tx: the record is that tx's, not another's.
    const last = isObject(leaves.at(-1))
      ? (leaves.at(-1) as Record<string, unknown>).leaf
      : undefined;
    const closeHash = isObject(record.tx) ? record.tx.hash : undefined;
    if (!isObject(last) || last.kind !== 'tx' || last.tx !== closeHash) {
      problems.push('its last leaf does not name its award or close tx');
    }
  }
  if (record.leafCount !== undefined && leaves && record.leafCount !== leaves.length) {
    problems.push(`it claims ${shown(record.leafCount)} leaves and lists ${leaves.length}`);
  }
  const committed = isObject(record.tx) ? record.tx : undefined;
  const tx = committed && isObject(committed.tx) ? committed.tx : undefined;
  if (!tx) problems.push('it has no award or close tx');
  else {
    if (tx.type !== 'question.award' && tx.type !== 'question.close') {
      problems.push(`its tx is a ${shown(tx.type)}, not a question.award or question.close`);
    }
    const payload = isObject(tx.payload) ? tx.payload : {};
    if (payload.questionId !== questionId) {
      problems.push(`its tx closes ${shown(payload.questionId)}`);
    }
    const receipt = committed && isObject(committed.receipt) ? committed.receipt : undefined;
    const events = receipt && Array.isArray(receipt.events) ? (receipt.events as unknown[]) : [];
    const closed = events.find(
      (e): e is { type: string; data: Record<string, unknown> } =>
        isObject(e) &&
        typeof e.type === 'string' &&
        e.type.endsWith('question.closed') &&
        isObject(e.data),
    );
    if (!closed) problems.push('its tx has no question.closed event in its receipt');
    else {
      if (closed.data.root !== root) {
        problems.push(
          `the root on the chain is ${shown(closed.data.root)}, the record's ${shown(root)}`,
        );
      }
      if (
        leaves &&
        closed.data.leafCount !== undefined &&
        closed.data.leafCount !== leaves.length
      ) {
        problems.push(
          `the chain counts ${shown(closed.data.leafCount)} leaves, the record lists ${leaves.length}`,
        );
      }
    }
  }
  return problems;
}

const fromOption = { from: { type: 'string' } } as const;

/** A command signing one tx whose payload is the one id it takes: `ID --from NAME`. */
function idTxCommand(spec: {
  name: string;
  summary: string;
  /** The argument's name in the synopsis and in its usage error: `POOL_ID`. */
  argument: string;
  parse: (text: string, what: string) => string;
  /** The payload's one field: `poolId`. */
  field: string;
  type: string;
  title: (id: string) => string;
}): Command {
  return {
    name: spec.name,
    synopsis: `${spec.argument} --from NAME`,
    summary: spec.summary,
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [text], values) {
      const id = spec.parse(text!, spec.argument);
      const tx: Tx = { type: spec.type, payload: { [spec.field]: id } };
      await sendTx(ctx, requiredOption(values, 'from'), tx, spec.title(id));
    },
  };
}

/** A command signing one tx about an answer of a question: `QUESTION_ID ANSWER_ID --from NAME`. */
function answerTxCommand(spec: {
  name: string;
  summary: string;
  type: string;
  title: string;
}): Command {
  return {
    name: spec.name,
    synopsis: 'QUESTION_ID ANSWER_ID --from NAME',
    summary: spec.summary,
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [id, answerId], values) {
      const tx: Tx = {
        type: spec.type,
        payload: {
          questionId: hashArgument(id!, 'QUESTION_ID'),
          answerId: hashArgument(answerId!, 'ANSWER_ID'),
        },
      };
      await sendTx(ctx, requiredOption(values, 'from'), tx, spec.title);
    },
  };
}

/** A command showing one pool or mentorship by its slug: the view, or its --json. */
function slugShowCommand(spec: {
  name: string;
  summary: string;
  argument: string;
  read: (ctx: CommandContext, id: string) => Promise<Record<string, unknown>>;
  describe: (view: Record<string, unknown>) => string;
}): Command {
  return {
    name: spec.name,
    synopsis: spec.argument,
    summary: spec.summary,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const view = await spec.read(ctx, slugArgument(id!, spec.argument));
      ctx.print(ctx.json ? json(view) : spec.describe(view));
    },
  };
}
const bodyOptions = { body: { type: 'string' }, 'body-file': { type: 'string' } } as const;
const pageOptionSpecs = { after: { type: 'string' }, limit: { type: 'string' } } as const;

function listOption(values: OptionValues, name: string): string[] {
  const text = stringOption(values, name);
  if (text === undefined || text === '') return [];
  return text.split(',').map((s) => s.trim());
}

/** A reward in a sentence: `{amount, asset}` or the record's `reward` and `asset`. */
function rewardText(q: Record<string, unknown>): string {
  if (isObject(q.reward)) return `${shown(q.reward.amount)} ${shown(q.reward.asset)}`;
  return `${shown(q.reward)} ${shown(q.asset)}`;
}

/** `2 of 3` answers, or `1 of 3 (4 in all, 3 dismissed)` once the asker dismissed some. */
function answersText(q: Record<string, unknown>): string {
  const total = typeof q.answers === 'number' ? q.answers : undefined;
  const dismissed = typeof q.dismissed === 'number' ? q.dismissed : 0;
  if (total === undefined) return `? of ${shown(q.answersMax)}`;
  const live = `${total - dismissed} of ${shown(q.answersMax)}`;
  return dismissed === 0 ? live : `${live} (${total} in all, ${dismissed} dismissed)`;
}

function describeQuestion(view: Record<string, unknown>): string {
  const q = isObject(view.question) ? view.question : view;
  const best = Array.isArray(q.best) ? (q.best as unknown[]).filter(isObject) : [];
  return fields([
    ['question', shown(q.questionId)],
    ['subject', shown(q.subject)],
    ['title', shown(q.title)],
    ['asker', shown(q.asker)],
    ['status', `${shown(q.status)}${q.outcome === undefined ? '' : ` (${shown(q.outcome)})`}`],
    ['reward', `${rewardText(q)} (minor units)`],
    [
      'tips left',
      q.tipLeft === undefined ? undefined : `${shown(q.tipLeft)} of ${shown(q.tipBudget)}`,
    ],
    ['deadline', typeof q.deadline === 'number' ? new Date(q.deadline).toISOString() : '?'],
    ['answers', answersText(q)],
    [
      'if unawarded',
      q.autoAward === undefined
        ? undefined
        : q.autoAward === 'votes'
          ? 'half the reward to the top-voted answer at close (of those the asker upvoted), the rest refunded'
          : 'refunded at close',
    ],
    [
      'answerers need',
      typeof q.answerMinAccepted === 'number' && q.answerMinAccepted > 0
        ? `${q.answerMinAccepted} distinct askers who accepted their answers in the subject`
        : undefined,
    ],
    ...best.map((b): [string, string] => [
      '  best',
      `${shown(b.answerId)} by ${shown(b.author)}: ${shown(b.amount)}`,
    ]),
    ['record root', q.recordRoot === undefined ? undefined : shown(q.recordRoot)],
  ]);
}

/**
 * A profile in lines, then its reputation per subject: answers of closed questions, accepted ones,
 * the distinct askers who accepted them, and the score (its vote weight, Wilson lower bound of
 * askers over answers, in basis points).
 */
export function describeProfile(view: Record<string, unknown>): string {
  const p = isObject(view.profile) ? view.profile : {};
  const list = (value: unknown) =>
    Array.isArray(value) && value.length > 0 ? value.map(shown).join(', ') : 'none';
  const head = fields([
    ['profile', shown(p.address)],
    ['name', shown(p.name)],
    ['roles', list(p.roles)],
    ['subjects', list(p.subjects)],
  ]);
  const rows = Array.isArray(view.reputation)
    ? (view.reputation as unknown[]).filter(isObject)
    : [];
  if (rows.length === 0) return `${head}no answers in closed questions yet\n`;
  return (
    head +
    table(
      ['subject', 'answers', 'accepted', 'askers', 'score (bp)'],
      rows.map((r) => [
        shown(r.subject),
        shown(r.answers),
        shown(r.accepted),
        shown(r.askers),
        shown(r.score),
      ]),
      [1, 2, 3, 4],
    )
  );
}

export const scholarshipCommands: Command[] = [
  {
    name: 'scholar profile',
    synopsis:
      '--name TEXT --roles student,tutor,mentor --subjects SUBJECT,... --from NAME | ADDRESS',
    summary:
      'set your profile (with --from): a name, roles and up to 8 subjects; or show a profile with its reputation per subject (ADDRESS)',
    options: {
      ...fromOption,
      name: { type: 'string' },
      roles: { type: 'string' },
      subjects: { type: 'string' },
    },
    positionals: { min: 0, max: 1 },
    async run(ctx, [address], values) {
      if (address !== undefined) {
        const view = await reads(ctx).profile(ctx.resolveAddress(address, 'ADDRESS'));
        return ctx.print(ctx.json ? json(view) : describeProfile(view));
      }
      const roles = listOption(values, 'roles');
      for (const role of roles) {
        if (!(rolesAllowed as readonly string[]).includes(role)) {
          throw usageError(`--roles: ${role} is not one of ${rolesAllowed.join(', ')}`);
        }
      }
      const subjects = listOption(values, 'subjects').map((s) => subjectArgument(s, '--subjects'));
      if (subjects.length > subjectsPerProfileMax) {
        throw usageError(`--subjects: ${subjectsPerProfileMax} at most`);
      }
      const tx: Tx = {
        type: 'scholar.profile',
        payload: { name: requiredOption(values, 'name'), roles, subjects },
      };
      await sendTx(ctx, requiredOption(values, 'from'), tx, 'profile set');
    },
  },
  {
    name: 'ask',
    synopsis:
      'SUBJECT --title TEXT (--body TEXT | --body-file FILE) --reward AMOUNT --asset SYMBOL [--deadline 2h] [--answers-max N] [--tip-budget AMOUNT --tip-unit AMOUNT] [--auto-award votes|refund] [--answer-min-accepted N] --from NAME',
    summary:
      'ask a question, escrowing the reward (and a tipping budget for upvotes) in the same tx, with a proof-of-work stamp at the difficulty the node asks; prints the question id. --deadline: from now, 1h to 30d (default 24h). --auto-award: if you award nothing by the end of the grace, votes pays half the reward to the top-voted answer among those you upvoted (endorsed) at close, refund (the default) returns it all. --answer-min-accepted: answerers need that many distinct askers who accepted their answers in the subject (0 to 100, default 0)',
    options: {
      ...fromOption,
      ...bodyOptions,
      title: { type: 'string' },
      reward: { type: 'string' },
      asset: { type: 'string' },
      deadline: { type: 'string' },
      'answers-max': { type: 'string' },
      'tip-budget': { type: 'string' },
      'tip-unit': { type: 'string' },
      'auto-award': { type: 'string' },
      'answer-min-accepted': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [subjectText], values) {
      const subject = subjectArgument(subjectText!);
      const title = requiredOption(values, 'title');
      const body = bodyOf(values);
      const asset = requiredOption(values, 'asset');
      const reward = await amountOf(ctx, requiredOption(values, 'reward'), asset);
      const deadlineMs = parseDuration(stringOption(values, 'deadline') ?? '24h', '--deadline');
      if (deadlineMs < deadlineMsMin || deadlineMs > deadlineMsMax) {
        throw usageError('--deadline is 1h to 30d from now');
      }
      const answersMax = parseWholeNumber(
        stringOption(values, 'answers-max') ?? '5',
        '--answers-max',
      );
      if (answersMax < 1 || answersMax > 20) throw usageError('--answers-max is 1 to 20');
      const tipBudgetText = stringOption(values, 'tip-budget');
      const tipUnitText = stringOption(values, 'tip-unit');
      if ((tipBudgetText === undefined) !== (tipUnitText === undefined)) {
        throw usageError('--tip-budget and --tip-unit go together');
      }
      const tips =
        tipBudgetText === undefined
          ? {}
          : {
              tipBudget: (await amountOf(ctx, tipBudgetText, asset)).minor,
              tipUnit: (await amountOf(ctx, tipUnitText!, asset)).minor,
            };
      const choices = askChoices(values);
      const bodyHash = bodyHashOf(body);
      const hash = await sendTx(
        ctx,
        requiredOption(values, 'from'),
        async (sender) => {
          const { stamp } = await stampFor(ctx, 'question', subject, sender, bodyHash);
          // The deadline is the chain's clock plus the reach, a minute inside the chain's bounds
          // (the block that carries the tx is later than the latest one).
          const { time } = await latestTime(ctx);
          const reachMs = Math.min(
            Math.max(deadlineMs, deadlineMsMin + deadlineSlackMs),
            deadlineMsMax - deadlineSlackMs,
          );
          return {
            type: 'question.ask',
            payload: {
              subject,
              title,
              bodyHash,
              reward: { asset, amount: reward.minor },
              ...tips,
              deadline: time + reachMs,
              answersMax,
              ...choices,
              stamp,
            },
          };
        },
        `question asked (${reward.shown} escrowed)`,
      );
      await storeBody(ctx, body);
      if (!ctx.json) ctx.print(`question ${hash}\n`);
    },
  },
  {
    name: 'answer',
    synopsis: 'QUESTION_ID (--body TEXT | --body-file FILE) --from NAME',
    summary:
      'answer a question (a tutor of its subject), with a proof-of-work stamp at the difficulty the node asks; prints the answer id',
    options: { ...fromOption, ...bodyOptions },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const questionId = hashArgument(id!, 'QUESTION_ID');
      const body = bodyOf(values);
      const view = await reads(ctx).question(questionId);
      const question = isObject(view.question) ? view.question : view;
      const subject = subjectArgument(shown(question.subject), 'the question subject');
      const bodyHash = bodyHashOf(body);
      const hash = await sendTx(
        ctx,
        requiredOption(values, 'from'),
        async (sender) => {
          const { stamp } = await stampFor(ctx, 'answer', subject, sender, bodyHash);
          return { type: 'question.answer', payload: { questionId, bodyHash, stamp } };
        },
        'answer sent',
      );
      await storeBody(ctx, body);
      if (!ctx.json) ctx.print(`answer ${hash}\n`);
    },
  },
  {
    name: 'award',
    synopsis: 'QUESTION_ID --to ANSWER_ID[:WEIGHT] [--to ...] --from NAME',
    summary:
      'award the reward (the asker, any time before the question closes): split by the weights, largest remainder to the unit; closes the question and writes its Q&A record root on the chain',
    options: { ...fromOption, to: { type: 'string', multiple: true } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const questionId = hashArgument(id!, 'QUESTION_ID');
      const given = values.to;
      const list = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
      if (list.length === 0) throw usageError('--to ANSWER_ID[:WEIGHT] is required');
      const awards = list.map(parseAward);
      if (new Set(awards.map((a) => a.answerId)).size !== awards.length) {
        throw usageError('--to names an answer twice');
      }
      const tx: Tx = { type: 'question.award', payload: { questionId, awards } };
      await sendTx(ctx, requiredOption(values, 'from'), tx, `question ${questionId} awarded`);
    },
  },
  answerTxCommand({
    name: 'vote',
    summary:
      'vote for an answer (a tutor of the subject, after the deadline, within the grace period), weighted by your reputation in the subject',
    type: 'question.vote',
    title: 'vote cast',
  }),
  answerTxCommand({
    name: 'upvote',
    summary:
      "upvote an answer (once): counts as its score; the asker's upvote also endorses it (on an auto-award by votes only endorsed answers take votes) and pays its author the question's tip unit while the budget lasts",
    type: 'question.upvote',
    title: 'upvoted',
  }),
  idTxCommand({
    name: 'question close',
    summary:
      'close a question after its deadline and grace period (anyone): auto-award by the votes, or refund the asker; returns the unspent tips',
    argument: 'QUESTION_ID',
    parse: hashArgument,
    field: 'questionId',
    type: 'question.close',
    title: (questionId) => `question ${questionId} closed`,
  }),
  answerTxCommand({
    name: 'question dismiss',
    summary:
      'dismiss an answer of your question before its deadline (the asker): it frees its slot, stays in the record marked dismissed, and can no longer be awarded, voted or upvoted; its author cannot answer again',
    type: 'question.dismiss',
    title: 'answer dismissed',
  }),
  idTxCommand({
    name: 'question claim',
    summary:
      'take what a question holds for you: a payout (award, refund or tip) held back while you or its escrow were frozen for the asset (see question show)',
    argument: 'QUESTION_ID',
    parse: hashArgument,
    field: 'questionId',
    type: 'question.claim',
    title: (questionId) => `held payout of ${questionId} claimed`,
  }),
  {
    name: 'question show',
    synopsis: 'QUESTION_ID',
    summary: 'show a question and its answers',
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const view = await reads(ctx).question(hashArgument(id!, 'QUESTION_ID'));
      if (ctx.json) return ctx.print(json(view));
      ctx.print(describeQuestion(view));
      const answers = Array.isArray(view.answers)
        ? (view.answers as unknown[]).filter(isObject)
        : [];
      const question = isObject(view.question) ? view.question : {};
      const best = new Map(
        (Array.isArray(question.best) ? (question.best as unknown[]) : [])
          .filter(isObject)
          .map((b) => [shown(b.answerId), shown(b.amount)]),
      );
      if (answers.length > 0) {
        ctx.print(
          table(
            ['answer', 'tutor', 'votes', 'upvotes', 'awarded'],
            answers.map((a) => [
              shown(a.answerId),
              shown(a.author),
              shown(a.voteWeight),
              `${shown(a.upvotes)}${a.endorsed === true ? ' (asker)' : ''}`,
              a.dismissed === true ? 'dismissed' : shown(best.get(shown(a.answerId)) ?? ''),
            ]),
          ),
        );
      }
      const claims = Array.isArray(view.claims) ? (view.claims as unknown[]).filter(isObject) : [];
      if (claims.length > 0) {
        ctx.print('held for claim (coffer question claim):\n');
        ctx.print(
          table(
            ['claimant', 'amount'],
            claims.map((c) => [shown(c.address), shown(c.amount)]),
          ),
        );
      }
    },
  },
  {
    name: 'question list',
    synopsis: '[--subject SUBJECT] [--status open|awarded|refunded] [--after ID] [--limit N]',
    summary: 'questions, a page at a time, by subject or status',
    options: { subject: { type: 'string' }, status: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const subject = stringOption(values, 'subject');
      const page = await reads(ctx).questions({
        subject: subject === undefined ? undefined : subjectArgument(subject, '--subject'),
        status: stringOption(values, 'status'),
        ...pageOptions(values),
      });
      if (ctx.json) return ctx.print(json(page));
      const questions = Array.isArray(page.questions)
        ? (page.questions as unknown[]).filter(isObject)
        : [];
      ctx.print(
        table(
          ['question', 'subject', 'status', 'reward', 'title'],
          questions.map((q) => [
            shown(q.questionId),
            shown(q.subject),
            shown(q.status),
            rewardText(q),
            shown(q.title),
          ]),
        ),
      );
      if (typeof page.next === 'string') ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'question record',
    synopsis: 'QUESTION_ID',
    summary:
      "a closed question's Q&A record: its leaves with their Merkle proofs and the award or close tx (--json: for coffer verify qa --file)",
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const record = await reads(ctx).record(hashArgument(id!, 'QUESTION_ID'));
      if (ctx.json || !isObject(record)) return ctx.print(json(record));
      ctx.print(
        fields([
          ['question', shown(record.questionId)],
          ['root', shown(record.root)],
          ['leaves', Array.isArray(record.leaves) ? record.leaves.length : '?'],
          ['tx', isObject(record.tx) ? shown(record.tx.hash) : '?'],
        ]),
      );
    },
  },
  {
    name: 'pool create',
    synopsis:
      'POOL_ID --asset SYMBOL --per-answer AMOUNT --per-member-max AMOUNT [--min-reward AMOUNT] [--subject SUBJECT] [--cohort ADDRESS,...] --from NAME',
    summary:
      'create a scholarship pool (you manage it): it pays a joined member --per-answer for each accepted answer in its subject on a question rewarded in its asset with at least --min-reward (default the smallest unit), up to --per-member-max per member ever, and mentorship stipends; --cohort addresses are invited (each joins with pool join)',
    options: {
      ...fromOption,
      asset: { type: 'string' },
      'per-answer': { type: 'string' },
      subject: { type: 'string' },
      cohort: { type: 'string' },
      'per-member-max': { type: 'string' },
      'min-reward': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const poolId = slugArgument(id!, 'POOL_ID');
      const asset = requiredOption(values, 'asset');
      const perAnswer = await amountOf(ctx, requiredOption(values, 'per-answer'), asset);
      const subject = stringOption(values, 'subject');
      const cohort = listOption(values, 'cohort').map((a) => ctx.resolveAddress(a, '--cohort'));
      if (cohort.length > 64) throw usageError('--cohort: 64 members at most');
      // Required: without a cap a member farming self-asked questions could empty the pool.
      const cap = await amountOf(ctx, requiredOption(values, 'per-member-max'), asset);
      const minText = stringOption(values, 'min-reward');
      const minReward = minText === undefined ? undefined : await amountOf(ctx, minText, asset);
      const tx: Tx = {
        type: 'pool.create',
        payload: {
          poolId,
          asset,
          perAcceptedAnswer: perAnswer.minor,
          perMemberMax: cap.minor,
          ...(minReward === undefined ? {} : { minReward: minReward.minor }),
          ...(subject === undefined ? {} : { subject: subjectArgument(subject, '--subject') }),
          ...(cohort.length === 0 ? {} : { cohort }),
        },
      };
      await sendTx(ctx, requiredOption(values, 'from'), tx, `pool ${poolId} created`);
    },
  },
  {
    name: 'pool fund',
    synopsis: 'POOL_ID --amount AMOUNT [--manager NAME|ADDRESS] --from NAME',
    summary:
      "fund a pool (any donor): the amount moves to the pool's escrow; see pool statement. --manager: the manager you were told of; the chain refuses the funding (pool_manager_mismatch) if another address took the pool id",
    options: { ...fromOption, amount: { type: 'string' }, manager: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const poolId = slugArgument(id!, 'POOL_ID');
      const managerText = stringOption(values, 'manager');
      const manager =
        managerText === undefined ? undefined : ctx.resolveAddress(managerText, '--manager');
      const pool = await reads(ctx).pool(poolId);
      const record = isObject(pool.pool) ? pool.pool : pool;
      const amount = await amountOf(ctx, requiredOption(values, 'amount'), shown(record.asset));
      const tx: Tx = {
        type: 'pool.fund',
        payload: { poolId, amount: amount.minor, ...(manager === undefined ? {} : { manager }) },
      };
      await sendTx(ctx, requiredOption(values, 'from'), tx, `${amount.shown} given to ${poolId}`);
    },
  },
  {
    name: 'pool member',
    synopsis: 'POOL_ID ADDRESS [--remove] --from NAME',
    summary:
      'invite an address to a pool (its manager; it becomes a member when it runs pool join), or remove a member or an invitation (--remove)',
    options: { ...fromOption, remove: { type: 'boolean' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [id, address], values) {
      const poolId = slugArgument(id!, 'POOL_ID');
      const member = ctx.resolveAddress(address!, 'ADDRESS');
      const remove = values.remove === true;
      const tx: Tx = {
        type: remove ? 'pool.removeMember' : 'pool.addMember',
        payload: { poolId, member },
      };
      await sendTx(
        ctx,
        requiredOption(values, 'from'),
        tx,
        remove ? 'member or invitation removed' : 'address invited',
      );
    },
  },
  idTxCommand({
    name: 'pool join',
    summary:
      'join a pool you were invited to (one of your 8 pool places): its accepted-answer payouts then come to you',
    argument: 'POOL_ID',
    parse: slugArgument,
    field: 'poolId',
    type: 'pool.join',
    title: (poolId) => `joined ${poolId}`,
  }),
  idTxCommand({
    name: 'pool leave',
    summary: 'leave a pool you are a member of, or decline its invitation',
    argument: 'POOL_ID',
    parse: slugArgument,
    field: 'poolId',
    type: 'pool.leave',
    title: (poolId) => `left ${poolId}`,
  }),
  slugShowCommand({
    name: 'pool show',
    summary:
      'a pool: its manager, rules, funds, members, invitations and mentorships (--json: the whole view)',
    argument: 'POOL_ID',
    read: (ctx, id) => reads(ctx).pool(id),
    describe: describePool,
  }),
  slugShowCommand({
    name: 'pool statement',
    summary:
      "a pool's statement for its donors: what each gave and its part of what the pool paid (--json: the whole page)",
    argument: 'POOL_ID',
    read: (ctx, id) => reads(ctx).statement(id),
    describe: describeStatement,
  }),
  {
    name: 'mentorship start',
    synopsis:
      'MENTORSHIP_ID --pool POOL_ID --mentor ADDRESS --apprentice ADDRESS --stipend AMOUNT --period-blocks N --periods N --from NAME',
    summary:
      "start a mentorship (the pool's manager): the pool pays the apprentice --stipend every --period-blocks blocks, --periods times (52 at most)",
    options: {
      ...fromOption,
      pool: { type: 'string' },
      mentor: { type: 'string' },
      apprentice: { type: 'string' },
      stipend: { type: 'string' },
      'period-blocks': { type: 'string' },
      periods: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const mentorshipId = slugArgument(id!, 'MENTORSHIP_ID');
      const poolId = slugArgument(requiredOption(values, 'pool'), '--pool');
      const pool = await reads(ctx).pool(poolId);
      const record = isObject(pool.pool) ? pool.pool : pool;
      const stipend = await amountOf(ctx, requiredOption(values, 'stipend'), shown(record.asset));
      const periods = parseWholeNumber(requiredOption(values, 'periods'), '--periods');
      if (periods < 1 || periods > 52) throw usageError('--periods is 1 to 52');
      const periodBlocks = parseWholeNumber(
        requiredOption(values, 'period-blocks'),
        '--period-blocks',
      );
      if (periodBlocks < 1) throw usageError('--period-blocks is at least 1');
      const tx: Tx = {
        type: 'mentorship.start',
        payload: {
          mentorshipId,
          poolId,
          mentor: ctx.resolveAddress(requiredOption(values, 'mentor'), '--mentor'),
          apprentice: ctx.resolveAddress(requiredOption(values, 'apprentice'), '--apprentice'),
          stipend: stipend.minor,
          periodBlocks,
          periods,
        },
      };
      await sendTx(ctx, requiredOption(values, 'from'), tx, `mentorship ${mentorshipId} started`);
    },
  },
  idTxCommand({
    name: 'mentorship claim',
    summary:
      'pay the apprentice the stipends due so far, or what was held for it when the mentorship ended (anyone; refused while the apprentice is frozen)',
    argument: 'MENTORSHIP_ID',
    parse: slugArgument,
    field: 'mentorshipId',
    type: 'mentorship.claim',
    title: () => 'stipends claimed',
  }),
  idTxCommand({
    name: 'mentorship end',
    summary:
      'end a mentorship (its pool manager or mentor): pays what is due (held for a frozen apprentice) and releases the rest to the pool',
    argument: 'MENTORSHIP_ID',
    parse: slugArgument,
    field: 'mentorshipId',
    type: 'mentorship.end',
    title: (mentorshipId) => `mentorship ${mentorshipId} ended`,
  }),
  slugShowCommand({
    name: 'mentorship show',
    summary: 'a mentorship: its terms, periods paid, held and due (--json: the whole view)',
    argument: 'MENTORSHIP_ID',
    read: (ctx, id) => reads(ctx).mentorship(id),
    describe: describeMentorship,
  }),
  {
    name: 'verify qa',
    synopsis: 'QUESTION_ID [--file FILE] [--trust FILE] [--genesis HASH]',
    summary:
      "check a closed question's Q&A record offline: each leaf's Merkle proof against the root, the root in the award or close tx's question.closed event, and that tx's proof, receipt and block signature (as verify tx) (FILE: a saved coffer question record --json)",
    // The same trust options as verify tx's (spelt here: see verify title in licensing/cli.ts).
    options: { file: { type: 'string' }, trust: { type: 'string' }, genesis: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const questionId = hashArgument(id!, 'QUESTION_ID');
      const file = stringOption(values, 'file');
      const record: unknown =
        file !== undefined
          ? readJsonFile(file, recordFileBytesMax, 'a saved Q&A record')
          : await reads(ctx).record(questionId);
      const problems = qaRecordProblems(record, questionId);
      const verified = await verifyCommittedTxs(ctx, values, [
        { label: 'the award or close tx', data: isObject(record) ? record.tx : undefined },
      ]);
      problems.push(...verified.problems);
      const outcome = verified.outcomes[0];
      if (outcome !== undefined && outcome !== 'ok') {
        problems.push(`the award or close tx: its receipt says it failed (${outcome})`);
      }
      const leaves = isObject(record) && Array.isArray(record.leaves) ? record.leaves.length : 0;
      const root = isObject(record) ? shown(record.root) : '?';
      finish(
        ctx,
        {
          ok: problems.length === 0,
          questionId,
          root: problems.length === 0 ? root : null,
          leaves,
          anchor: verified.anchor,
          failed: [...new Set(verified.checks)],
          problems,
        },
        `ok: the Q&A record of ${questionId} (${leaves} leaves, root ${root}) is the one its ` +
          `award or close tx wrote on the chain; that tx is in its block with outcome ok, signed ` +
          `with a committed nonce (anchored at ${verified.anchor})`,
        `the Q&A record of ${questionId} does not verify`,
      );
    },
  },
];

/** The node's latest block time: a deadline is set against the chain's clock, not this one's. */
async function latestTime(ctx: CommandContext): Promise<{ time: number }> {
  const block = await ctx.client.latestBlock();
  return { time: block.header.time };
}

// ---- pools and mentorships, shown ----------------------------------------------------------------

/** Minor units of the pool's asset, labelled. */
const unitsOf = (value: unknown, asset: unknown): string =>
  `${shown(value)} ${shown(asset)} (minor units)`;

function describePool(view: Record<string, unknown>): string {
  const money = (value: unknown) => unitsOf(value, view.asset);
  const members = Array.isArray(view.memberList) ? view.memberList.filter(isObject) : [];
  const invited = Array.isArray(view.invitationList) ? view.invitationList.filter(isObject) : [];
  const mentorships = Array.isArray(view.activeMentorships) ? view.activeMentorships : [];
  let text = fields([
    ['pool', shown(view.poolId)],
    ['manager', shown(view.manager)],
    ['subject', view.subject === undefined ? 'any' : shown(view.subject)],
    ['escrow', shown(view.escrow)],
    ['per answer', money(view.perAcceptedAnswer)],
    ['per member, ever', money(view.perMemberMax)],
    ['least reward', money(view.minReward)],
    ['funded', money(view.funded)],
    ['balance', money(view.balance)],
    ['reserved', money(view.reserved)],
    ['available', money(view.available)],
    ['paid for answers', `${money(view.paidAnswers)}, ${shown(view.answersPaid)} answers`],
    ['paid in stipends', money(view.paidStipends)],
    ['donors', shown(view.donors)],
    ['members', shown(view.members)],
    ['invitations', shown(view.invitations)],
    ['mentorships', mentorships.length === 0 ? 'none active' : mentorships.map(shown).join(', ')],
  ]);
  if (members.length > 0) {
    text += table(
      ['member', 'earned', 'answers', 'joined at'],
      members.map((m) => [shown(m.member), shown(m.earned), shown(m.answers), shown(m.addedAt)]),
      [1, 2, 3],
    );
  }
  if (invited.length > 0) {
    text += table(
      ['invited', 'at height'],
      invited.map((i) => [shown(i.member), shown(i.invitedAt)]),
      [1],
    );
  }
  return text;
}

function describeStatement(statement: Record<string, unknown>): string {
  const money = (value: unknown) => unitsOf(value, statement.asset);
  const donors = Array.isArray(statement.donorList) ? statement.donorList.filter(isObject) : [];
  let text = fields([
    ['pool', shown(statement.poolId)],
    ['funded', money(statement.funded)],
    ['paid for answers', money(statement.paidAnswers)],
    ['paid in stipends', money(statement.paidStipends)],
    ['reserved', money(statement.reserved)],
    ['balance', money(statement.balance)],
    ['donors', shown(statement.donors)],
  ]);
  if (donors.length > 0) {
    text += table(
      ['donor', 'funded', 'fundings', 'attributed paid'],
      donors.map((d) => [
        shown(d.donor),
        shown(d.funded),
        shown(d.fundings),
        shown(d.attributedPaid),
      ]),
      [1, 2, 3],
    );
  }
  if (typeof statement.next === 'string') text += `more donors after ${statement.next}\n`;
  return text;
}

function describeMentorship(view: Record<string, unknown>): string {
  return fields([
    ['mentorship', shown(view.mentorshipId)],
    ['pool', shown(view.poolId)],
    ['mentor', shown(view.mentor)],
    ['apprentice', shown(view.apprentice)],
    ['status', shown(view.status)],
    [
      'stipend',
      `${shown(view.stipend)} (minor units) every ${shown(view.periodBlocks)} blocks, ${shown(view.periods)} times`,
    ],
    ['periods settled', shown(view.claimed)],
    ['paid', shown(view.paid)],
    ['held', view.held === undefined || view.held === '0' ? undefined : shown(view.held)],
    [
      'due now',
      `${shown(view.duePeriods)} periods, ${shown(view.dueAmount)} at height ${shown(view.height)}`,
    ],
  ]);
}
