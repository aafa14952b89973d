import {
  BlockPerTxWorld,
  expectOk,
  testKey as key,
  type TestKey,
} from '../../../test/support/tx-runner.js';
import { ledgerModule, type TxDefinition } from '../../chain/index.js';
import {
  addressFromPublicKey,
  fromHex,
  keyPairFromSecret,
  sha256Hex,
  utf8,
} from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { mintStamp, type StampKind } from './pow.js';
import {
  readQuestion,
  requiredDifficulty,
  writeDifficultyBase,
  writeProfile,
  writeReputation,
  type ReputationCounts,
} from './state.js';
import { scholarshipBeginBlock, scholarshipTxsWith } from './txs.js';
import { poolTxs, payAcceptedAnswer } from './txs-pools.js';

/*
 * The scholarship module's handlers in process: a chain in miniature where each tx is a block
 * (height + 1, time + 1 s) whose begin-block step runs first (the ring of recent block hashes,
 * with block h's hash the SHA-256 of "block h"), a USD asset and funded accounts. The base
 * difficulty is 8 bits (the admission floor; the default is 12), so stamps mint in a millisecond.
 */

export const chainId = 'coffer-scholarship-unit';
export const testDifficultyBase = 8;

export { expectOk, key, type TestKey };

function keyFrom(secret: Uint8Array): TestKey {
  const pair = keyPairFromSecret(secret);
  return {
    secretKey: pair.secretKey,
    publicKey: pair.publicKey,
    address: addressFromPublicKey(pair.publicKey),
  };
}

/** A key named by a label (many distinct keys: a crowd of tutors or upvoters). */
export function keyOf(label: string): TestKey {
  return keyFrom(fromHex(sha256Hex(utf8(label))));
}

export const issuer = key(90);
export const student = key(91);
export const student2 = key(92);
export const tutorA = key(93);
export const tutorB = key(94);
export const tutorC = key(95);
export const outsider = key(96);
export const asset = 'USD';
export const funds = 1_000_000n;
export const startTime = 1_750_000_000_000;
export const hourMs = 3_600_000;

export const blockHashOf = (height: number) => sha256Hex(utf8(`block ${height}`));
export const bodyHashOf = (text: string) => sha256Hex(utf8(text));

export type { TxEvent } from '../../../test/support/tx-runner.js';

const txs: Record<string, TxDefinition<never>> = {
  ...ledgerModule.txs,
  ...scholarshipTxsWith(payAcceptedAnswer),
  ...poolTxs,
};

export class ScholarshipWorld extends BlockPerTxWorld {
  constructor() {
    super({ chainId, txs, startTime, prefix: 'scholarship/', asset });
    this.beginBlock();
  }

  /** The begin-block step of the current height (the chain runs it before the block's txs). */
  beginBlock(): void {
    scholarshipBeginBlock({
      chainId,
      height: this.height,
      time: this.time,
      previousProducer: issuer.address,
      previousHash: blockHashOf(this.height - 1),
      state: this.state,
      ledger: new Ledger(this.state),
      emit: () => undefined,
    });
    this.state.release();
  }

  /** Closes the block and opens the next one `ms` later. */
  override advance(ms = this.blockMs): void {
    super.advance(ms);
    this.beginBlock();
  }

  /** Each tx runs in the current block, then the world moves to the next. */
  protected override closeBlock(): void {
    this.advance();
  }

  /** The bits `sender` needs in `subject` now. */
  required(subject: string, sender: TestKey): number {
    return requiredDifficulty(this.state, this.height, subject, sender.address);
  }

  /** A stamp with `bits` (default: what the sender needs now) on the latest block hash. */
  stamp(
    kind: StampKind,
    bodyHash: string,
    sender: TestKey,
    subject: string,
    bits?: number,
    blockHeight = this.height - 1,
  ): { nonce: string; blockHash: string } {
    return mintStamp(
      { kind, contentHash: bodyHash, sender: sender.address, blockHash: blockHashOf(blockHeight) },
      bits ?? this.required(subject, sender),
    );
  }

  askPayload(
    sender: TestKey,
    extra: Record<string, unknown> = {},
    body = `question ${this.count}`,
  ): Record<string, unknown> {
    const bodyHash = bodyHashOf(body);
    const subject = (extra.subject as string | undefined) ?? 'math.algebra';
    return {
      subject,
      title: 'Why is the sum of two odd numbers even?',
      bodyHash,
      reward: { asset, amount: '1000' },
      deadline: this.time + 2 * hourMs,
      answersMax: 3,
      stamp: this.stamp('question', bodyHash, sender, subject),
      ...extra,
    };
  }

  /** Asks and answers the question id (fails the test on a rejection). */
  ask(sender: TestKey, extra: Record<string, unknown> = {}): string {
    const id = this.nextTxHash();
    expectOk(this.run(sender, 'question.ask', this.askPayload(sender, extra)), 'ask');
    return id;
  }

  answerPayload(sender: TestKey, questionId: string, body?: string): Record<string, unknown> {
    const bodyHash = bodyHashOf(body ?? `answer ${this.count} by ${sender.address}`);
    const subject = readQuestion(this.state, questionId)?.subject ?? 'math';
    return { questionId, bodyHash, stamp: this.stamp('answer', bodyHash, sender, subject) };
  }

  answer(sender: TestKey, questionId: string): string {
    const id = this.nextTxHash();
    expectOk(this.run(sender, 'question.answer', this.answerPayload(sender, questionId)), 'answer');
    return id;
  }

  /** The asker awards these answers, weight 1 each (fails the test on a rejection). */
  award(asker: TestKey, questionId: string, answerIds: readonly string[]): void {
    const awards = answerIds.map((answerId) => ({ answerId, weight: 1 }));
    expectOk(this.run(asker, 'question.award', { questionId, awards }), 'award');
  }

  /** `asker` asks in `subject`, each of `tutors` answers, and the asker awards them all. */
  acceptAnswers(asker: TestKey, tutors: readonly TestKey[], subject = 'math.algebra'): string {
    const id = this.ask(asker, { subject, answersMax: Math.max(1, tutors.length) });
    const answers = tutors.map((t) => this.answer(t, id));
    this.award(asker, id, answers);
    return id;
  }

  /** Sets the issuer's freeze of `address` for the asset (fails the test on a rejection). */
  freeze(address: string, frozen = true): void {
    const type = frozen ? 'asset.freeze' : 'asset.unfreeze';
    expectOk(this.run(issuer, type, { symbol: asset, account: address }), type);
  }

  /**
   * Writes profiles (tutors of math) and, when given, reputation in `subject` for a crowd of keys
   * straight into state: the set-up of bounds that need many distinct senders (64 voters, 256
   * upvoters), where each one earning its reputation by txs would only slow the test.
   */
  crowd(
    label: string,
    count: number,
    reputation?: ReputationCounts,
    subject = 'math.algebra',
  ): TestKey[] {
    const keys = Array.from({ length: count }, (_, i) => keyOf(`${label} ${i}`));
    for (const k of keys) {
      writeProfile(this.state, {
        address: k.address,
        name: 'Crowd',
        roles: ['tutor'],
        subjects: ['math'],
        createdAt: this.time,
        updatedAt: this.time,
        height: this.height,
      });
      if (reputation) writeReputation(this.state, k.address, subject, reputation);
    }
    this.state.release();
    return keys;
  }
}

export const tutorProfile = {
  name: 'A tutor',
  roles: ['tutor'],
  subjects: ['math', 'cs.algorithms'],
};

/** A world with USD, funded students and three math tutors with profiles. */
export function scholarshipWorld(): ScholarshipWorld {
  const w = new ScholarshipWorld();
  writeDifficultyBase(w.state, testDifficultyBase);
  const ledger = w.ledger();
  if (ledger.createAsset(issuer.address, { symbol: asset, decimals: 2 })) throw new Error('asset');
  if (ledger.createAsset(issuer.address, { symbol: 'EUR', decimals: 2 })) throw new Error('asset');
  for (const k of [student, student2, tutorA, tutorB, tutorC]) {
    if (ledger.mint(issuer.address, asset, k.address, funds)) throw new Error('mint');
  }
  w.state.release();
  for (const t of [tutorA, tutorB, tutorC]) {
    expectOk(w.run(t, 'scholar.profile', tutorProfile), 'profile');
  }
  expectOk(
    w.run(student, 'scholar.profile', { name: 'A student', roles: ['student'], subjects: [] }),
    'profile',
  );
  return w;
}
