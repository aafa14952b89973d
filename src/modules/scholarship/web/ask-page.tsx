import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { ErrorBox, Field, Show, useLoad } from '../../../../web/src/ui.js';
import { TxReview, problemOf, type Problem } from '../../../../web/src/wallet/session.js';
import {
  answerMinAcceptedMax,
  answersMaxLimit,
  bodyBytesMax,
  deadlineMinMs,
  subjects,
  type AutoAwardMode,
} from '../schema.js';
import { Done, WalletPage } from './page.js';
import { assetDecimals, bodyHashOf, stampFor, storeBody } from './shared.js';
import { amountText, minorOf, questionPath } from './words.js';

/* Ask a question (`question.ask`): a subject, a title, a body (stored at the node by its SHA-256),
   a reward escrowed in the same tx, a deadline, how many answers it takes, what happens if the
   asker does not award (a refund, or the tutors' votes award half) and how many distinct askers
   must have accepted an answerer's answers in the subject. "Prepare" mints the proof-of-work
   stamp at the difficulty the node asks, then the wallet shows what it signs. */

type Tx = { type: string; payload: Record<string, unknown> };

export function AskPage() {
  return (
    <WalletPage
      title="Ask a question"
      intro={
        <>
          Your reward is held on the chain until you award one or more answers. If you do not by the
          deadline, the question closes a day later: it refunds you, or, if you choose so below,
          tutors of the subject vote during that day and half the reward goes to the answer they
          weigh highest (the other half back to you).
        </>
      }
      what="ask a question"
    >
      {(addresses) => <AskForm asker={addresses[0]!} />}
    </WalletPage>
  );
}

function AskForm(props: { asker: string }) {
  const [subject, setSubject] = useState('math.algebra');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [reward, setReward] = useState('5.00');
  const [asset, setAsset] = useState('USD');
  const [hours, setHours] = useState('24');
  const [answersMax, setAnswersMax] = useState('3');
  // Optional: a budget paid out a tip at a time to upvoted answers.
  const [tipBudget, setTipBudget] = useState('');
  const [tipUnit, setTipUnit] = useState('');
  const [autoAward, setAutoAward] = useState<AutoAwardMode>('refund');
  const [minAccepted, setMinAccepted] = useState('0');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState<{ tx: Tx; rewardText: string; bits: number }>();
  const [asked, setAsked] = useState<string>();
  const [decimals] = useLoad(() => assetDecimals(asset), [asset]);

  if (asked) {
    return (
      <Done testId="asked">
        Question asked: <a href={questionPath(asked)}>see it and its answers</a>.
      </Done>
    );
  }
  if (ready) {
    return (
      <TxReview
        sender={props.asker}
        tx={ready.tx}
        summary={
          <>
            Ask <strong>{title}</strong> in {subject}, escrowing <strong>{ready.rewardText}</strong>{' '}
            (proof of work: {ready.bits} bits).
          </>
        }
        onDone={(hash) => {
          setReady(undefined);
          setAsked(hash);
          storeBody(body).catch(() => undefined);
        }}
        onCancel={() => setReady(undefined)}
      />
    );
  }
  const prepare = async (places: number) => {
    setProblem(undefined);
    const minor = minorOf(reward, places);
    const reach = Number(hours) * 3_600_000;
    const max = Number(answersMax);
    if (title.trim() === '') return setProblem({ code: 'invalid_title', message: 'Give a title.' });
    if (body.trim() === '' || new TextEncoder().encode(body).length > bodyBytesMax) {
      return setProblem({ code: 'invalid_body', message: `A body of 1 to ${bodyBytesMax} bytes.` });
    }
    if (minor === undefined) {
      return setProblem({ code: 'invalid_amount', message: 'The reward is a positive amount.' });
    }
    if (!Number.isSafeInteger(reach) || reach < deadlineMinMs) {
      return setProblem({ code: 'invalid_deadline', message: 'The deadline is at least 1 hour.' });
    }
    if (!Number.isSafeInteger(max) || max < 1 || max > answersMaxLimit) {
      return setProblem({
        code: 'invalid_answers_max',
        message: `1 to ${answersMaxLimit} answers.`,
      });
    }
    const least = Number(minAccepted);
    if (!Number.isSafeInteger(least) || least < 0 || least > answerMinAcceptedMax) {
      return setProblem({
        code: 'invalid_answer_min_accepted',
        message: `0 to ${answerMinAcceptedMax} askers.`,
      });
    }
    const tips =
      tipBudget.trim() === '' && tipUnit.trim() === ''
        ? {}
        : { tipBudget: minorOf(tipBudget, places), tipUnit: minorOf(tipUnit, places) };
    if ('tipBudget' in tips && (tips.tipBudget === undefined || tips.tipUnit === undefined)) {
      return setProblem({
        code: 'invalid_tip_budget',
        message: 'Give both the tip budget and the tip per upvote, or neither.',
      });
    }
    setBusy(true);
    try {
      const bodyHash = await bodyHashOf(body);
      const { stamp, bits } = await stampFor('question', subject, props.asker, bodyHash);
      const { header } = await client.latestBlock();
      // A minute of room: the block that carries the tx is later than the latest one.
      const deadline = header.time + reach + 60_000;
      setReady({
        tx: {
          type: 'question.ask',
          payload: {
            subject,
            title: title.trim(),
            bodyHash,
            reward: { asset, amount: minor },
            ...tips,
            deadline,
            answersMax: max,
            autoAward,
            ...(least === 0 ? {} : { answerMinAccepted: least }),
            stamp,
          },
        },
        rewardText: amountText(minor, asset, places),
        bits,
      });
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
      }}
    >
      <div class="field">
        <label for="ask-subject">Subject</label>
        <select
          id="ask-subject"
          value={subject}
          onChange={(e) => setSubject((e.target as HTMLSelectElement).value)}
        >
          {subjects.map((s) => (
            <option key={s.id} value={s.id}>
              {s.parent ? `  ${s.name}` : s.name}
            </option>
          ))}
        </select>
      </div>
      <Field id="ask-title" label="Title" value={title} onInput={setTitle} />
      <div class="field">
        <label for="ask-body">Question</label>
        <textarea
          id="ask-body"
          rows={6}
          value={body}
          onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)}
        />
      </div>
      <Field id="ask-reward" label="Reward" value={reward} onInput={setReward} />
      <Field id="ask-asset" label="Asset" value={asset} onInput={setAsset} />
      <Field
        id="ask-hours"
        label="Deadline (hours from now)"
        type="number"
        value={hours}
        onInput={setHours}
      />
      <Field
        id="ask-answers-max"
        label="Answers at most"
        type="number"
        value={answersMax}
        onInput={setAnswersMax}
      />
      <Field
        id="ask-tip-budget"
        label="Tip budget (optional)"
        value={tipBudget}
        onInput={setTipBudget}
        hint="Paid a tip at a time to answers others upvote; what is left returns to you."
      />
      <Field id="ask-tip-unit" label="Tip per upvote" value={tipUnit} onInput={setTipUnit} />
      <div class="field">
        <label for="ask-auto-award">If you do not award by the deadline</label>
        <select
          id="ask-auto-award"
          value={autoAward}
          onChange={(e) => setAutoAward((e.target as HTMLSelectElement).value as AutoAwardMode)}
        >
          <option value="refund">Refund me</option>
          <option value="votes">Let the tutors' votes award half</option>
        </select>
      </div>
      <Field
        id="ask-min-accepted"
        label="Answerers need answers accepted by at least this many askers"
        type="number"
        value={minAccepted}
        onInput={setMinAccepted}
        hint="In this subject; 0 lets any tutor of the subject answer."
      />
      <Show result={decimals} what="the asset">
        {(places) => (
          <button type="button" disabled={busy} onClick={() => void prepare(places)}>
            {busy ? 'Working out the proof of work…' : 'Prepare the question'}
          </button>
        )}
      </Show>
      {problem && <ErrorBox {...problem} />}
    </form>
  );
}
