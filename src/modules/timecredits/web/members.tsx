import { useState } from 'preact/hooks';

import { navigate } from '../../../../web/src/router.js';
import { ErrorBox, Field, Show, useLoad } from '../../../../web/src/ui.js';
import { isAddress } from '../../../crypto/index.js';
import type { MemberPage } from '../client.js';
import { client } from '../../../../web/src/node.js';
import { Hours, MemberLink, Scroll, membersShownMax } from './shared.js';

/* A bank's members and applicants, a page at a time from `GET /v1/timebanks/{id}/members`, and a
   box to open any member's statement by address. */

/** The first page of a bank's members, as the bank page loads it with the bank. */
export function firstMembers(bankId: string): Promise<MemberPage> {
  return client.timebanks.members(bankId, { limit: membersShownMax });
}

/**
 * The members table. `first` is the first page (it follows the bank page's reloads); the buttons
 * walk on by the API's `next` cursor and back by the cursors walked.
 */
export function Members(props: { bankId: string; first: MemberPage; total: number }) {
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [later] = useLoad(
    () =>
      after === undefined
        ? Promise.resolve(props.first)
        : client.timebanks.members(props.bankId, { limit: membersShownMax, after }),
    [props.bankId, after, props.first],
  );
  const pageNumber = cursors.length + 1;
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <p class="muted">
        {props.total} {props.total === 1 ? 'member' : 'members'} and applicants in address order,{' '}
        {membersShownMax} a page. Open any member's statement from its address.
      </p>
      <Show result={later} what="the members">
        {(page) => (
          <>
            <MemberTable bankId={props.bankId} page={page} />
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
      <MemberLookup bankId={props.bankId} />
    </section>
  );
}

function MemberTable(props: { bankId: string; page: MemberPage }) {
  if (props.page.members.length === 0) return <p>No members yet.</p>;
  return (
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
          </tr>
        </thead>
        <tbody>
          {props.page.members.map((m) => (
            <tr key={m.account} data-member={m.account}>
              <td>
                <MemberLink bankId={props.bankId} account={m.account} />
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
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
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
