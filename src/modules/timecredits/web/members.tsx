import { useState } from 'preact/hooks';

import { navigate } from '../../../../web/src/router.js';
import { ErrorBox, Field, Show, useLoad } from '../../../../web/src/ui.js';
import { isAddress } from '../../../crypto/index.js';
import { timebankTxs, type MemberPage, type Timebank, type TimebankMember } from '../client.js';
import { client } from '../../../../web/src/node.js';
import { Hours, MemberLink, Scroll, TxReview, membersShownMax, walletAddresses } from './shared.js';

/* A bank's members and applicants, a page at a time from `GET /v1/timebanks/{id}/members`, with
   approve and reject for a coordinator whose key is in this browser's wallet, and a box to open
   any member's statement by address. */

/** The first page of a bank's members, as the bank page loads it with the bank. */
export function firstMembers(bankId: string): Promise<MemberPage> {
  return client.timebanks.members(bankId, { limit: membersShownMax });
}

/**
 * The members table. `first` is the first page (it follows the bank page's reloads); the buttons
 * walk on by the API's `next` cursor and back by the cursors walked.
 */
export function Members(props: {
  bank: Timebank;
  first: MemberPage;
  onDone: (hash: string) => void;
}) {
  const { bank } = props;
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [later] = useLoad(
    () =>
      after === undefined
        ? Promise.resolve(props.first)
        : client.timebanks.members(bank.id, { limit: membersShownMax, after }),
    [bank.id, after, props.first],
  );
  const pageNumber = cursors.length + 1;
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <p class="muted">
        {bank.memberCount} {bank.memberCount === 1 ? 'member' : 'members'} and applicants in address
        order, {membersShownMax} a page. Open any member's statement from its address.
      </p>
      <Show result={later} what="the members">
        {(page) => (
          <>
            <MemberTable bank={bank} page={page} onDone={props.onDone} />
            <nav class="toolbar" aria-label="Pages of members">
              <button
                type="button"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Previous members
              </button>
              <span class="muted" aria-live="polite">
                Page {pageNumber}
              </span>
              <button
                type="button"
                disabled={page.next === null}
                onClick={() => page.next !== null && setCursors([...cursors, page.next])}
              >
                More members
              </button>
            </nav>
          </>
        )}
      </Show>
      <MemberLookup bankId={bank.id} />
    </section>
  );
}

/** An applicant's fate, as a coordinator decides it here. */
type Decision = { member: TimebankMember; verb: 'approve' | 'reject' };

function MemberTable(props: { bank: Timebank; page: MemberPage; onDone: (hash: string) => void }) {
  const { bank } = props;
  // A coordinator's key in this wallet decides applications; without one, no buttons.
  const coordinator = walletAddresses().find((a) => bank.coordinators.includes(a));
  const [decision, setDecision] = useState<Decision>();
  if (props.page.members.length === 0) return <p>No members yet.</p>;
  return (
    <>
      <Scroll label="Members">
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Balance
              </th>
              <th scope="col" class="num">
                Debt
              </th>
              <th scope="col" class="num">
                Given
              </th>
              <th scope="col" class="num">
                Received
              </th>
              {coordinator && <th scope="col">Application</th>}
            </tr>
          </thead>
          <tbody>
            {props.page.members.map((m) => (
              <tr key={m.account} data-member={m.account}>
                <td>
                  <MemberLink bankId={bank.id} account={m.account} />
                </td>
                <td>{m.status}</td>
                <td class="num" data-balance={m.balanceMinutes}>
                  <Hours minutes={m.balanceMinutes} />
                </td>
                <td class="num">
                  <Hours minutes={m.debtMinutes} />
                </td>
                <td class="num">
                  <Hours minutes={m.givenMinutes} />
                </td>
                <td class="num">
                  <Hours minutes={m.receivedMinutes} />
                </td>
                {coordinator && (
                  <td>
                    {m.status === 'pending' && (
                      <span class="toolbar">
                        {(['approve', 'reject'] as const).map((verb) => (
                          <button
                            key={verb}
                            type="button"
                            class={verb === 'reject' ? 'secondary' : undefined}
                            aria-pressed={
                              decision?.member.account === m.account && decision.verb === verb
                            }
                            aria-label={`${verb === 'approve' ? 'Approve' : 'Reject'} ${m.account}`}
                            onClick={() => setDecision({ member: m, verb })}
                          >
                            {verb === 'approve' ? 'Approve' : 'Reject'}
                          </button>
                        ))}
                      </span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {decision && coordinator && (
        <TxReview
          key={`${decision.member.account}-${decision.verb}`}
          sender={coordinator}
          tx={(decision.verb === 'approve' ? timebankTxs.approveMember : timebankTxs.rejectMember)({
            bankId: bank.id,
            account: decision.member.account,
          })}
          summary={`${decision.verb === 'approve' ? 'Approve' : 'Reject'} the application of ${decision.member.account} to ${bank.name}.`}
          onDone={(hash) => {
            setDecision(undefined);
            props.onDone(hash);
          }}
          onCancel={() => setDecision(undefined)}
        />
      )}
    </>
  );
}

function MemberLookup(props: { bankId: string }) {
  const [address, setAddress] = useState('');
  const [problem, setProblem] = useState<{ code: string; message: string }>();
  const open = (event: Event) => {
    event.preventDefault();
    const account = address.trim();
    if (!isAddress(account)) {
      setProblem({ code: 'invalid_address', message: 'Write a Coffer address (cof1…).' });
      return;
    }
    navigate(`/timebanks/${props.bankId}/members/${account}`);
  };
  return (
    <>
      <form onSubmit={open} class="toolbar" aria-label="Open a member's statement">
        <Field id="member-lookup" label="A member's address" value={address} onInput={setAddress} />
        <button type="submit">Open statement</button>
      </form>
      {problem && <ErrorBox {...problem} />}
    </>
  );
}
