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
import {
  answersTotalMax,
  graceMs,
  type AnswerRecord,
  type ClaimRecord,
  type QuestionRecord,
} from '../schema.js';
import { assetDecimals, bodyHashOf, stampFor, storeBody } from './shared.js';
import {
  amountText,
  autoAwardText,
  heldReasonText,
  questionStateText,
  sectionPath,
  splitByWeights,
  tutorPath,
} from './words.js';

/* One question (`GET /v1/scholarship/questions/{id}`) with its body and its answers. A tutor
   answers it (`question.answer`, with a proof-of-work stamp); the asker awards one or more
   answers with weights (`question.award`: the reward splits by the weights to the unit), or
   dismisses an answer (`question.dismiss`: it frees its place and cannot win), or endorses one
   (its own upvote: a tip from its budget, and on a votes question the tutors may vote for it);
   anyone with a profile upvotes an answer (it counts, pays nothing). On a votes question the award
   form goes once the grace is over (the votes decide). What a freeze held back at the close is
   listed, and the wallet it is held for claims it (`question.claim`). */

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
        {({ question: q, answers, claims, decimals, body }) => (
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
                [
                  'Answers',
                  `${q.answers - q.dismissed} of ${q.answersMax}` +
                    (q.dismissed > 0 ? ` (and ${q.dismissed} dismissed)` : ''),
                ],
                ['If not awarded', autoAwardText(q.autoAward)],
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
            {(q.held ?? []).length > 0 && (
              <>
                <h2>Held at the close</h2>
                <p>
                  These payouts could not be made (the account or the question's escrow was frozen
                  in {q.asset}): each waits for its owner to claim it.
                </p>
                <ul aria-label="Held payouts" data-testid="held">
                  {(q.held ?? []).map((h, i) => (
                    <li key={`${h.address}-${i}`}>
                      <span class="mono">{h.address.slice(0, 14)}…</span>:{' '}
                      {amountText(h.amount, q.asset, decimals)} ({heldReasonText(h.for)})
                    </li>
                  ))}
                </ul>
              </>
            )}
            {claims.length > 0 && (
              <Claims question={q} claims={claims} decimals={decimals} onDone={reload} />
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
                  q.autoAward === 'votes' && Date.now() >= q.deadline + graceMs ? (
                    <p class="muted" data-testid="award-over">
                      The grace is over: the tutors' votes decide when the question closes.
                    </p>
                  ) : (
                    <AwardForm
                      asker={q.asker}
                      question={q}
                      answers={answers}
                      decimals={decimals}
                      onDone={reload}
                    />
                  )
                ) : q.answers - q.dismissed < q.answersMax &&
                  q.answers < answersTotalMax &&
                  Date.now() < q.deadline ? (
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
    <li class={`card${a.dismissed ? ' dismissed' : ''}`} data-answer={a.answerId}>
      {a.dismissed && (
        <p class="badge pending" data-testid="dismissed">
          Dismissed by the asker: it cannot win.
        </p>
      )}
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
      {a.endorsed === true && (
        <p class="badge ok" data-testid="endorsed">
          Endorsed by the asker
          {q.autoAward === 'votes' ? ': tutors may vote for it.' : '.'}
        </p>
      )}
      {q.status === 'open' && !a.dismissed && (
        <WithWallet what="upvote or dismiss">
          {(addresses) => (
            <div class="toolbar">
              {addresses.includes(q.asker)
                ? a.endorsed !== true && (
                    <TxButton
                      label="Endorse"
                      secondary
                      sender={q.asker}
                      tx={() => ({
                        type: 'question.upvote',
                        payload: { questionId: q.questionId, answerId: a.answerId },
                      })}
                      summary={
                        <>
                          Endorse this answer (your upvote as the asker)
                          {tipsLeft(q) ? ': its author receives a tip from your budget' : ''}
                          {q.autoAward === 'votes'
                            ? '; tutors may vote for it after the deadline'
                            : ''}
                          .
                        </>
                      }
                      onDone={props.onChange}
                    />
                  )
                : addresses[0] !== a.author && (
                    <TxButton
                      label="Upvote"
                      secondary
                      sender={addresses[0]!}
                      tx={() => ({
                        type: 'question.upvote',
                        payload: { questionId: q.questionId, answerId: a.answerId },
                      })}
                      summary={
                        <>
                          Upvote this answer: it counts in its score. Only the asker's upvote pays a
                          tip.
                        </>
                      }
                      onDone={props.onChange}
                    />
                  )}
              {addresses.includes(q.asker) && Date.now() < q.deadline && (
                <TxButton
                  label="Dismiss"
                  secondary
                  sender={q.asker}
                  tx={() => ({
                    type: 'question.dismiss',
                    payload: { questionId: q.questionId, answerId: a.answerId },
                  })}
                  summary={
                    <>
                      Dismiss this answer (until the deadline): it frees its place for another
                      tutor, cannot be awarded, voted or upvoted, and its author cannot answer this
                      question again.
                    </>
                  }
                  onDone={props.onChange}
                />
              )}
            </div>
          )}
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
  const { question: q } = props;
  // Dismissed answers cannot win.
  const answers = props.answers.filter((a) => !a.dismissed);
  // Weights by answer id; an answer without one is not awarded.
  const [weights, setWeights] = useState<Record<string, string>>({});
  const [reviewing, setReviewing] = useState(false);
  const chosen = answers
    .map((a) => ({ answerId: a.answerId, weight: Number(weights[a.answerId] ?? '') }))
    .filter((a) => Number.isSafeInteger(a.weight) && a.weight >= 1 && a.weight <= 10_000);
  const split =
    chosen.length === 0
      ? []
      : splitByWeights(
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

/** What the question holds for claimants, and a claim for the wallet's own. */
function Claims(props: {
  question: QuestionRecord;
  claims: ClaimRecord[];
  decimals: number | undefined;
  onDone: () => void;
}) {
  const { question: q, claims } = props;
  return (
    <>
      <h2>To claim</h2>
      <ul aria-label="To claim" data-testid="claims">
        {claims.map((c) => (
          <li key={c.address}>
            <span class="mono">{c.address.slice(0, 14)}…</span>:{' '}
            {amountText(c.amount, q.asset, props.decimals)}
          </li>
        ))}
      </ul>
      <WithWallet what="claim what is held for you">
        {(addresses) => {
          const mine = claims.find((c) => addresses.includes(c.address));
          return mine ? (
            <TxButton
              label="Claim"
              sender={mine.address}
              tx={() => ({ type: 'question.claim', payload: { questionId: q.questionId } })}
              summary={
                <>
                  Claim {amountText(mine.amount, q.asset, props.decimals)} held for you by this
                  question (refused while your account is frozen in {q.asset}).
                </>
              }
              onDone={props.onDone}
            />
          ) : null;
        }}
      </WithWallet>
    </>
  );
}
