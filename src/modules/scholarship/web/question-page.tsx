import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { ErrorBox, Fields, HashLink, Show, Time, useLoad } from '../../../../web/src/ui.js';
import {
  TxButton,
  TxReview,
  WithWallet,
  problemOf,
  type Problem,
} from '../../../../web/src/wallet/session.js';
import type { AnswerRecord, QuestionRecord } from '../schema.js';
import { assetDecimals, bodyHashOf, stampFor, storeBody } from './shared.js';
import { amountText, questionStateText, sectionPath, splitByWeights, tutorPath } from './words.js';

/* One question (`GET /v1/scholarship/questions/{id}`) with its body and its answers. A tutor
   answers it (`question.answer`, with a proof-of-work stamp); the asker awards one or more
   answers with weights (`question.award`: the reward splits by the weights to the unit); anyone
   with a profile upvotes an answer from the tipping budget. */

type Tx = { type: string; payload: Record<string, unknown> };

/** Whether an upvote still pays its author: a tip unit is set and the budget holds one more. */
const tipsLeft = (q: QuestionRecord) =>
  /^[1-9][0-9]*$/.test(q.tipUnit) &&
  /^[0-9]+$/.test(q.tipLeft) &&
  BigInt(q.tipLeft) >= BigInt(q.tipUnit);

async function loadQuestion(questionId: string) {
  const view = await client.scholarship.question(questionId);
  const decimals = await assetDecimals(view.question.asset).catch(() => undefined);
  const body = await client.scholarship
    .body(view.question.bodyHash)
    .then((b) => b.body)
    .catch(() => undefined);
  return { ...view, decimals, body };
}

export function QuestionPage(props: { questionId: string }) {
  const { questionId } = props;
  const [loaded, reload] = useLoad(() => loadQuestion(questionId), [questionId]);
  return (
    <section>
      <p>
        <a href={sectionPath}>Questions</a>
      </p>
      <Show result={loaded} what="the question">
        {({ question: q, answers, decimals, body }) => (
          <>
            <h1>{q.title}</h1>
            {body !== undefined && <p class="scholarship-body">{body}</p>}
            <Fields
              rows={[
                ['Subject', q.subject],
                ['Asked by', <HashLink kind="account" value={q.asker} />],
                [
                  'Reward',
                  <strong data-testid="reward">{amountText(q.reward, q.asset, decimals)}</strong>,
                ],
                ['Deadline', <Time ms={q.deadline} />],
                [
                  'State',
                  <span class={`scholarship-status ${q.status}`} data-testid="question-state">
                    {questionStateText(q, Date.now())}
                  </span>,
                ],
                ['Answers', `${q.answers} of ${q.answersMax}`],
                ...(q.recordRoot
                  ? ([['Q&A record root', <span class="mono break">{q.recordRoot}</span>]] as [
                      string,
                      string | preact.JSX.Element,
                    ][])
                  : []),
              ]}
            />
            {q.best.length > 0 && (
              <>
                <h2>Best answers</h2>
                <ul aria-label="Best answers" data-testid="best">
                  {q.best.map((b) => (
                    <li key={b.answerId} data-best={b.answerId}>
                      <a href={tutorPath(b.author)} class="mono">
                        {b.author.slice(0, 14)}…
                      </a>{' '}
                      received {amountText(b.amount, q.asset, decimals)}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <h2>Answers</h2>
            {answers.length === 0 ? (
              <p data-testid="no-answers">No answer yet.</p>
            ) : (
              <ul class="cards" aria-label="Answers">
                {answers.map((a) => (
                  <AnswerItem key={a.answerId} question={q} answer={a} onChange={reload} />
                ))}
              </ul>
            )}
            <WithWallet what="answer or award">
              {(addresses) =>
                q.status !== 'open' ? null : addresses.includes(q.asker) ? (
                  <AwardForm
                    asker={q.asker}
                    question={q}
                    answers={answers}
                    decimals={decimals}
                    onDone={reload}
                  />
                ) : q.answers < q.answersMax && Date.now() < q.deadline ? (
                  <AnswerForm tutor={addresses[0]!} question={q} onDone={reload} />
                ) : null
              }
            </WithWallet>
          </>
        )}
      </Show>
    </section>
  );
}

function AnswerItem(props: {
  question: QuestionRecord;
  answer: AnswerRecord;
  onChange: () => void;
}) {
  const { answer: a, question: q } = props;
  const [body] = useLoad(
    () =>
      client.scholarship
        .body(a.bodyHash)
        .then((b) => b.body)
        .catch(() => '(the body is not stored at this node)'),
    [a.bodyHash],
  );
  return (
    <li class="card" data-answer={a.answerId}>
      <p class="scholarship-body">{body.state === 'ok' ? body.value : ''}</p>
      <Fields
        rows={[
          [
            'By',
            <a href={tutorPath(a.author)} class="mono">
              {a.author.slice(0, 14)}…
            </a>,
          ],
          ['Upvotes', String(a.upvotes)],
          ['Vote weight', String(a.voteWeight)],
        ]}
      />
      {q.status === 'open' && tipsLeft(q) && (
        <WithWallet what="upvote">
          {(addresses) =>
            addresses[0] === a.author ? null : (
              <TxButton
                label="Upvote"
                secondary
                sender={addresses[0]!}
                tx={() => ({
                  type: 'question.upvote',
                  payload: { questionId: q.questionId, answerId: a.answerId },
                })}
                summary={<>Upvote this answer: its author receives the tip unit.</>}
                onDone={props.onChange}
              />
            )
          }
        </WithWallet>
      )}
    </li>
  );
}

function AnswerForm(props: { tutor: string; question: QuestionRecord; onDone: () => void }) {
  const { question: q } = props;
  const [body, setBody] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState<{ tx: Tx; bits: number }>();
  const [sent, setSent] = useState(false);
  if (sent) {
    return (
      <p class="badge ok" role="status" data-testid="answered">
        Answer sent.
      </p>
    );
  }
  if (ready) {
    return (
      <TxReview
        sender={props.tutor}
        tx={ready.tx}
        summary={<>Answer this question (proof of work: {ready.bits} bits).</>}
        onDone={() => {
          setReady(undefined);
          setSent(true);
          storeBody(body)
            .catch(() => undefined)
            .finally(props.onDone);
        }}
        onCancel={() => setReady(undefined)}
      />
    );
  }
  const prepare = async () => {
    setProblem(undefined);
    if (body.trim() === '')
      return setProblem({ code: 'invalid_body', message: 'Write an answer.' });
    setBusy(true);
    try {
      const bodyHash = await bodyHashOf(body);
      const { stamp, bits } = await stampFor('answer', q.subject, props.tutor, bodyHash);
      setReady({
        tx: { type: 'question.answer', payload: { questionId: q.questionId, bodyHash, stamp } },
        bits,
      });
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="Your answer">
      <h2>Your answer</h2>
      <div class="field">
        <label for="answer-body">Answer</label>
        <textarea
          id="answer-body"
          rows={6}
          value={body}
          onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
        />
      </div>
      <button type="button" disabled={busy} onClick={() => void prepare()}>
        {busy ? 'Working out the proof of work…' : 'Prepare the answer'}
      </button>
      {problem && <ErrorBox {...problem} />}
    </form>
  );
}

function AwardForm(props: {
  asker: string;
  question: QuestionRecord;
  answers: AnswerRecord[];
  decimals: number | undefined;
  onDone: () => void;
}) {
  const { question: q, answers } = props;
  // Weights by answer id; an answer without one is not awarded.
  const [weights, setWeights] = useState<Record<string, string>>({});
  const [reviewing, setReviewing] = useState(false);
  const chosen = answers
    .map((a) => ({ answerId: a.answerId, weight: Number(weights[a.answerId] ?? '') }))
    .filter((a) => Number.isSafeInteger(a.weight) && a.weight >= 1 && a.weight <= 10_000);
  const split = splitByWeights(
    BigInt(q.reward),
    chosen.map((c) => c.weight),
  );
  if (answers.length === 0) return <p class="muted">You can award once someone answers.</p>;
  if (reviewing) {
    return (
      <TxReview
        sender={props.asker}
        tx={{ type: 'question.award', payload: { questionId: q.questionId, awards: chosen } }}
        summary={
          <>
            Award {chosen.length} answers: the reward of{' '}
            {amountText(q.reward, q.asset, props.decimals)} is split by your weights and the
            question closes.
          </>
        }
        onDone={() => {
          setReviewing(false);
          props.onDone();
        }}
        onCancel={() => setReviewing(false)}
      />
    );
  }
  return (
    <form class="scholarship-award" aria-label="Award" onSubmit={(e) => e.preventDefault()}>
      <h2>Award</h2>
      <p>Give each best answer a weight (1 to 10000); the reward is split by the weights.</p>
      <ul>
        {answers.map((a, i) => {
          const at = chosen.findIndex((c) => c.answerId === a.answerId);
          return (
            <li key={a.answerId}>
              <label>
                Weight of answer {i + 1}
                <input
                  type="number"
                  min={1}
                  max={10_000}
                  value={weights[a.answerId] ?? ''}
                  data-weight={a.answerId}
                  onInput={(e) =>
                    setWeights({ ...weights, [a.answerId]: (e.target as HTMLInputElement).value })
                  }
                />
              </label>{' '}
              {at >= 0 && (
                <span data-testid="share">
                  {amountText(split[at]!.toString(), q.asset, props.decimals)}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      <button type="button" disabled={chosen.length === 0} onClick={() => setReviewing(true)}>
        Award {chosen.length === 0 ? '' : `${chosen.length} answers`}
      </button>
    </form>
  );
}
