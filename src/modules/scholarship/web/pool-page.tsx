import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, useLoad } from '../../../../web/src/ui.js';
import { assetDecimals } from './shared.js';
import {
  amountText,
  mentorshipPath,
  mentorshipStartPath,
  poolFundPath,
  poolInvitePath,
  poolJoinPath,
  sectionPath,
} from './words.js';

/* A scholarship pool's statement (`GET /v1/scholarship/pools/{id}` and `.../statement`): what it
   holds, what it paid for accepted answers and in stipends, and for each donor what it gave and
   its pro-rata part of what the pool paid; its members, pending invitations and active
   mentorships; links to fund it, invite, join and start a mentorship (pool-forms.tsx). */

async function loadPool(poolId: string) {
  const [pool, statement] = await Promise.all([
    client.scholarship.pool(poolId),
    client.scholarship.poolStatement(poolId),
  ]);
  const decimals = await assetDecimals(pool.asset).catch(() => undefined);
  return { pool, statement, decimals };
}

export function PoolPage(props: { poolId: string }) {
  const [loaded] = useLoad(() => loadPool(props.poolId), [props.poolId]);
  return (
    <section>
      <p>
        <a href={sectionPath}>Questions</a>
      </p>
      <Show result={loaded} what="the pool">
        {({ pool, statement, decimals }) => {
          const money = (minor: string) => amountText(minor, pool.asset, decimals);
          return (
            <>
              <h1>Pool {pool.poolId}</h1>
              <Fields
                rows={[
                  ['Manager', <HashLink kind="account" value={pool.manager} />],
                  ['Subject', pool.subject ?? 'Any'],
                  ['Per accepted answer', money(pool.perAcceptedAnswer)],
                  ['Funded', <span data-testid="funded">{money(statement.funded)}</span>],
                  [
                    'Paid for answers',
                    <span data-testid="paid-answers">{money(statement.paidAnswers)}</span>,
                  ],
                  ['Paid in stipends', money(statement.paidStipends)],
                  ['Reserved for mentorships', money(statement.reserved)],
                  ['Balance', <strong data-testid="balance">{money(statement.balance)}</strong>],
                  ['Most one member earns', money(pool.perMemberMax)],
                  ['Least question reward', money(pool.minReward)],
                  ['Members', String(pool.members)],
                  ['Invitations', String(pool.invitations)],
                ]}
              />
              <nav class="toolbar" aria-label="What to do with this pool">
                <a href={poolFundPath(pool.poolId)}>Fund it</a>
                <a href={poolJoinPath(pool.poolId)}>Join it (when invited)</a>
                <a href={poolInvitePath(pool.poolId)}>Invite a member (manager)</a>
                <a href={mentorshipStartPath(pool.poolId)}>Start a mentorship (manager)</a>
              </nav>
              <h2>Members</h2>
              {pool.memberList.length === 0 ? (
                <p data-testid="no-members">Nobody has joined yet.</p>
              ) : (
                <Scroll label="Members">
                  <table data-testid="members">
                    <thead>
                      <tr>
                        <th scope="col">Member</th>
                        <th scope="col">Accepted answers paid</th>
                        <th scope="col">Earned</th>
                      </tr>
                    </thead>
                    <tbody>
                      {pool.memberList.map((m) => (
                        <tr key={m.member}>
                          <td>
                            <HashLink kind="account" value={m.member} />
                          </td>
                          <td>{m.answers}</td>
                          <td>{money(m.earned)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Scroll>
              )}
              {pool.invitationList.length > 0 && (
                <>
                  <h2>Invited, not joined yet</h2>
                  <ul aria-label="Invitations" data-testid="invitations">
                    {pool.invitationList.map((i) => (
                      <li key={i.member} class="mono break">
                        {i.member}
                      </li>
                    ))}
                  </ul>
                </>
              )}
              {pool.activeMentorships.length > 0 && (
                <>
                  <h2>Active mentorships</h2>
                  <ul aria-label="Active mentorships" data-testid="mentorships">
                    {pool.activeMentorships.map((id) => (
                      <li key={id}>
                        <a href={mentorshipPath(id)}>{id}</a>
                      </li>
                    ))}
                  </ul>
                </>
              )}
              <h2>Donors</h2>
              {statement.donorList.length === 0 ? (
                <p data-testid="no-donors">Nobody has funded this pool yet.</p>
              ) : (
                <Scroll label="Donors">
                  <table data-testid="donors">
                    <thead>
                      <tr>
                        <th scope="col">Donor</th>
                        <th scope="col">Gave</th>
                        <th scope="col">Times</th>
                        <th scope="col">Share of what was paid</th>
                      </tr>
                    </thead>
                    <tbody>
                      {statement.donorList.map((d) => (
                        <tr key={d.donor}>
                          <td>
                            <HashLink kind="account" value={d.donor} />
                          </td>
                          <td>{money(d.funded)}</td>
                          <td>{d.fundings}</td>
                          <td>{money(d.attributedPaid)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Scroll>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
