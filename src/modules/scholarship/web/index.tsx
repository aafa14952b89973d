import { useState } from 'preact/hooks';

import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Show, Time, useLoad } from '../../../../web/src/ui.js';
import { AskPage } from './ask-page.js';
import {
  MentorshipPage,
  MentorshipStartPage,
  PoolCreatePage,
  PoolFundPage,
  PoolInvitePage,
  PoolJoinPage,
} from './pool-forms.js';
import { PoolPage } from './pool-page.js';
import { ProfilePage } from './profile-page.js';
import { QuestionPage } from './question-page.js';
import { TutorPage } from './tutor-page.js';
import {
  askPath,
  poolCreatePath,
  profilePath,
  questionPath,
  questionStateText,
  questionsShownMax,
} from './words.js';

/*
 * Peer-to-peer scholarship in the console (issue 22): the questions (`GET
 * /v1/scholarship/questions`, a page at a time); ask one (ask-page.tsx); one question with its
 * answers, answered by a tutor, awarded or its answers dismissed by its asker, and what it holds
 * claimed (question-page.tsx); your own profile (profile-page.tsx); a tutor's profile and
 * reputation (tutor-page.tsx); a pool's statement for its donors (pool-page.tsx); creating,
 * funding, inviting to and joining a pool, and starting and claiming a mentorship
 * (pool-forms.tsx).
 */

function QuestionsPage() {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [page] = useLoad(
    () =>
      client.scholarship.questions({
        limit: questionsShownMax,
        ...(after === undefined ? {} : { after }),
      }),
    [after],
  );
  return (
    <section>
      <h1>Questions</h1>
      <p>
        Ask a question with a reward held on the chain; tutors of its subject answer; you award the
        best answers and the reward is split between them. <a href={askPath}>Ask a question</a>,
        write <a href={profilePath}>your profile</a> (to answer as a tutor) or{' '}
        <a href={poolCreatePath}>create a pool</a> that pays students for accepted answers.
      </p>
      <Show result={page} what="the questions">
        {({ questions, next }) => (
          <>
            {questions.length === 0 ? (
              <p data-testid="no-questions">No question yet.</p>
            ) : (
              <ul class="cards" aria-label="Questions">
                {questions.map((q) => (
                  <li key={q.questionId} class="card" data-question={q.questionId}>
                    <h2>
                      <a href={questionPath(q.questionId)}>{q.title}</a>
                    </h2>
                    <p class="muted">
                      {q.subject} · {q.answers} answers · {questionStateText(q, Date.now())} ·
                      deadline <Time ms={q.deadline} />
                    </p>
                  </li>
                ))}
              </ul>
            )}
            {(cursors.length > 0 || next !== null) && (
              <nav class="toolbar" aria-label="Pages of questions">
                <button
                  type="button"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                >
                  Previous
                </button>
                <button
                  type="button"
                  disabled={next === null}
                  onClick={() => next !== null && setCursors([...cursors, next])}
                >
                  Next
                </button>
              </nav>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

export const pages: ModulePages = {
  section: { href: '/scholarship', label: 'Scholarship' },
  routes: [
    ['/scholarship', () => <QuestionsPage />],
    ['/scholarship/ask', () => <AskPage />],
    ['/scholarship/profile', () => <ProfilePage />],
    ['/scholarship/create-pool', () => <PoolCreatePage />],
    ['/scholarship/questions/:questionId', (p) => <QuestionPage questionId={p.questionId!} />],
    ['/scholarship/tutors/:address', (p) => <TutorPage address={p.address!} />],
    ['/scholarship/pools/:poolId', (p) => <PoolPage poolId={p.poolId!} />],
    ['/scholarship/pools/:poolId/fund', (p) => <PoolFundPage poolId={p.poolId!} />],
    ['/scholarship/pools/:poolId/invite', (p) => <PoolInvitePage poolId={p.poolId!} />],
    ['/scholarship/pools/:poolId/join', (p) => <PoolJoinPage poolId={p.poolId!} />],
    [
      '/scholarship/pools/:poolId/mentorships/new',
      (p) => <MentorshipStartPage poolId={p.poolId!} />,
    ],
    [
      '/scholarship/mentorships/:mentorshipId',
      (p) => <MentorshipPage mentorshipId={p.mentorshipId!} />,
    ],
  ],
};
