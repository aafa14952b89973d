import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Field, Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { TxButton, WithWallet, type Problem } from '../../../../web/src/wallet/session.js';
import { isAddress } from '../../../crypto/index.js';
import {
  membersPerPoolMax,
  periodBlocksMax,
  periodsMax,
  poolIdPattern,
  type PoolView,
} from '../pools.js';
import { subjects } from '../schema.js';
import { Back, Done, ManagerOnly, WalletPage } from './page.js';
import { assetDecimals } from './shared.js';
import { amountText, mentorshipPath, minorOf, poolPath } from './words.js';

/*
 * The pools in the console (issue 22): create a pool (`pool.create`: its asset, what it pays per
 * accepted answer, the most one member earns, the least reward it pays for, the cohort it
 * invites), fund one (`pool.fund`, anyone), invite a member (`pool.addMember`, the manager), join
 * a pool one was invited to (`pool.join`, the invited wallet) and start a mentorship paid from it
 * (`mentorship.start`, the manager). Each is a page of its own, linked from the pool's page.
 */

type Tx = { type: string; payload: Record<string, unknown> };

/** A form field's problem, as the chain would name it. */
const problem = (code: string, message: string): Problem => ({ code, message });

/** Money amounts of an asset: its decimals, once loaded (undefined while unknown). */
function useDecimals(asset: string) {
  const [decimals] = useLoad(() => assetDecimals(asset), [asset]);
  return decimals.state === 'ok' ? decimals.value : undefined;
}

export function PoolCreatePage() {
  return (
    <WalletPage
      title="Create a pool"
      intro={
        <>
          A pool holds money donors give for a subject and pays its members for their accepted
          answers (from questions with a reward in the pool's asset) and mentorship stipends. You
          manage it: you invite members, and each joins if it wants to.
        </>
      }
      what="create a pool"
    >
      {(addresses) => <PoolCreateForm manager={addresses[0]!} />}
    </WalletPage>
  );
}

function PoolCreateForm(props: { manager: string }) {
  const [poolId, setPoolId] = useState('');
  const [asset, setAsset] = useState('USD');
  const [subject, setSubject] = useState('');
  const [perAnswer, setPerAnswer] = useState('1.00');
  const [perMember, setPerMember] = useState('20.00');
  const [minReward, setMinReward] = useState('');
  const [cohort, setCohort] = useState('');
  const [created, setCreated] = useState<string>();
  const decimals = useDecimals(asset);
  if (created) {
    return (
      <Done testId="pool-created">
        Pool created: <a href={poolPath(created)}>see pool {created}</a>.
      </Done>
    );
  }
  const build = (): Tx | Problem => {
    if (!poolIdPattern.test(poolId)) {
      return problem('invalid_pool_id', 'A pool id: 1 to 63 of a-z, 0-9 and "-", not first.');
    }
    if (decimals === undefined) return problem('asset_not_found', `No asset ${asset}.`);
    // 0 per answer: a pool that pays stipends only.
    const perAcceptedAnswer = perAnswer.trim() === '0' ? '0' : minorOf(perAnswer, decimals);
    if (perAcceptedAnswer === undefined) {
      return problem('invalid_per_accepted_answer', 'What it pays per accepted answer, or 0.');
    }
    const perMemberMax = minorOf(perMember, decimals);
    if (perMemberMax === undefined) {
      return problem('invalid_per_member_max', 'The most one member earns: a positive amount.');
    }
    const least = minReward.trim() === '' ? undefined : minorOf(minReward, decimals);
    if (minReward.trim() !== '' && least === undefined) {
      return problem('invalid_min_reward', 'The least reward: a positive amount, or empty.');
    }
    const members = cohort.split(/[\s,]+/).filter(Boolean);
    if (members.length > membersPerPoolMax || new Set(members).size !== members.length) {
      return problem('invalid_cohort', `At most ${membersPerPoolMax} distinct addresses.`);
    }
    const bad = members.findIndex((m) => !isAddress(m));
    if (bad >= 0) return problem('invalid_address', `${members[bad]} is not an address.`);
    return {
      type: 'pool.create',
      payload: {
        poolId,
        asset,
        ...(subject === '' ? {} : { subject }),
        ...(members.length === 0 ? {} : { cohort: members }),
        perAcceptedAnswer,
        perMemberMax,
        ...(least === undefined ? {} : { minReward: least }),
      },
    };
  };
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="The new pool">
      <Field
        id="pool-id"
        label="Pool id"
        value={poolId}
        onInput={setPoolId}
        hint="1 to 63 of a-z, 0-9 and -; never reused."
      />
      <Field id="pool-asset" label="Asset" value={asset} onInput={setAsset} />
      <div class="field">
        <label for="pool-subject">Subject</label>
        <select
          id="pool-subject"
          value={subject}
          onChange={(e) => setSubject((e.target as HTMLSelectElement).value)}
        >
          <option value="">Any subject</option>
          {subjects.map((s) => (
            <option key={s.id} value={s.id}>
              {s.parent ? `  ${s.name}` : s.name}
            </option>
          ))}
        </select>
      </div>
      <Field
        id="pool-per-answer"
        label="Paid per accepted answer"
        value={perAnswer}
        onInput={setPerAnswer}
        hint="0: the pool pays mentorship stipends only."
      />
      <Field
        id="pool-per-member"
        label="The most one member earns"
        value={perMember}
        onInput={setPerMember}
        hint="From accepted answers, ever: a cap on what one member can draw."
      />
      <Field
        id="pool-min-reward"
        label="Least question reward (optional)"
        value={minReward}
        onInput={setMinReward}
        hint="The pool pays only for answers to questions with at least this reward."
      />
      <div class="field">
        <label for="pool-cohort">Invite (optional)</label>
        <textarea
          id="pool-cohort"
          rows={3}
          value={cohort}
          aria-describedby="pool-cohort-hint"
          onInput={(e) => setCohort((e.target as HTMLTextAreaElement).value)}
        />
        <small id="pool-cohort-hint" class="muted">
          Addresses to invite, one a line (at most {membersPerPoolMax}); each joins itself.
        </small>
      </div>
      <TxButton
        label="Create the pool"
        sender={props.manager}
        tx={build}
        summary={
          <>
            Create pool <strong>{poolId}</strong> in {asset}, managed by you.
          </>
        }
        onDone={() => setCreated(poolId)}
      />
    </form>
  );
}

/** Loads the pool of the page and its asset's decimals. */
async function loadPool(poolId: string) {
  const pool = await client.scholarship.pool(poolId);
  const decimals = await assetDecimals(pool.asset).catch(() => undefined);
  return { pool, decimals };
}

function PoolSummary(props: { pool: PoolView; decimals: number | undefined }) {
  const { pool, decimals } = props;
  const money = (minor: string) => amountText(minor, pool.asset, decimals);
  return (
    <Fields
      rows={[
        ['Manager', <HashLink kind="account" value={pool.manager} />],
        ['Subject', pool.subject ?? 'Any'],
        ['Available', <span data-testid="available">{money(pool.available)}</span>],
        ['Members', String(pool.members)],
      ]}
    />
  );
}

/** A pool page's frame: the pool loaded, then `children` with it. */
function WithPool(props: {
  poolId: string;
  title: string;
  children: (loaded: { pool: PoolView; decimals: number | undefined }) => preact.ComponentChildren;
}) {
  const [loaded] = useLoad(() => loadPool(props.poolId), [props.poolId]);
  return (
    <section>
      <Back poolId={props.poolId} />
      <h1>
        {props.title} {props.poolId}
      </h1>
      <Show result={loaded} what="the pool">
        {(value) => (
          <>
            <PoolSummary {...value} />
            {props.children(value)}
          </>
        )}
      </Show>
    </section>
  );
}

export function PoolFundPage(props: { poolId: string }) {
  return (
    <WithPool poolId={props.poolId} title="Fund pool">
      {({ pool, decimals }) => (
        <WithWallet what="fund the pool">
          {(addresses) => <FundForm donor={addresses[0]!} pool={pool} decimals={decimals} />}
        </WithWallet>
      )}
    </WithPool>
  );
}

function FundForm(props: { donor: string; pool: PoolView; decimals: number | undefined }) {
  const { pool, decimals } = props;
  const [amount, setAmount] = useState('');
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <Done testId="funded">
        Thank you: your gift is in the pool. <a href={poolPath(pool.poolId)}>See its statement</a>.
      </Done>
    );
  }
  const minor = decimals === undefined ? undefined : minorOf(amount, decimals);
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="Your gift">
      <p>
        The pool's statement lists you as a donor with what you gave and your share of what it paid.
      </p>
      <Field id="fund-amount" label={`Amount (${pool.asset})`} value={amount} onInput={setAmount} />
      <TxButton
        label="Fund the pool"
        sender={props.donor}
        tx={() =>
          minor === undefined
            ? problem('invalid_amount', 'A positive amount.')
            : // The manager shown here: the gift goes to this manager's pool or nowhere.
              {
                type: 'pool.fund',
                payload: { poolId: pool.poolId, amount: minor, manager: pool.manager },
              }
        }
        summary={
          <>
            Give <strong>{amountText(minor ?? '0', pool.asset, decimals)}</strong> to pool{' '}
            {pool.poolId}.
          </>
        }
        onDone={() => setDone(true)}
      />
    </form>
  );
}

export function PoolInvitePage(props: { poolId: string }) {
  return (
    <WithPool poolId={props.poolId} title="Invite to pool">
      {({ pool }) => (
        <WithWallet what="invite members">
          {(addresses) => (
            <ManagerOnly addresses={addresses} manager={pool.manager} does="invites members">
              {() => <InviteForm manager={pool.manager} pool={pool} />}
            </ManagerOnly>
          )}
        </WithWallet>
      )}
    </WithPool>
  );
}

function InviteForm(props: { manager: string; pool: PoolView }) {
  const { pool } = props;
  const [member, setMember] = useState('');
  const [invited, setInvited] = useState<string>();
  if (invited) {
    return (
      <Done testId="invited">
        Invited <span class="mono break">{invited}</span>: it becomes a member when it joins.
      </Done>
    );
  }
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="Invite a member">
      <p>
        An invitation takes none of the address's pool places; it joins if it wants to, from this
        pool's join page.
      </p>
      <Field id="invite-member" label="Address" value={member} onInput={setMember} />
      <TxButton
        label="Invite"
        sender={props.manager}
        tx={() =>
          isAddress(member.trim())
            ? { type: 'pool.addMember', payload: { poolId: pool.poolId, member: member.trim() } }
            : problem('invalid_address', 'Give the address to invite.')
        }
        summary={
          <>
            Invite {member.trim()} to pool {pool.poolId}.
          </>
        }
        onDone={() => setInvited(member.trim())}
      />
    </form>
  );
}

export function PoolJoinPage(props: { poolId: string }) {
  return (
    <WithPool poolId={props.poolId} title="Join pool">
      {({ pool }) => (
        <WithWallet what="join the pool">
          {(addresses) => <JoinForm addresses={addresses} pool={pool} />}
        </WithWallet>
      )}
    </WithPool>
  );
}

function JoinForm(props: { addresses: string[]; pool: PoolView }) {
  const { pool } = props;
  const [joined, setJoined] = useState(false);
  const invited = pool.invitationList.find((i) => props.addresses.includes(i.member));
  const member = pool.memberList.find((m) => props.addresses.includes(m.member));
  if (joined) {
    return (
      <Done testId="joined">
        You are a member of pool {pool.poolId}: your accepted answers in its subject are paid from
        it.
      </Done>
    );
  }
  if (member) {
    return <Done testId="member">You are a member of this pool.</Done>;
  }
  if (!invited) {
    return (
      <p class="badge pending" role="note" data-testid="not-invited">
        Your wallet has no invitation to this pool: its manager invites members.
      </p>
    );
  }
  return (
    <div>
      <p>
        You were invited (<span class="mono break">{invited.member}</span>). Joining takes one of
        the 8 pools an address may be a member of; you may leave at any time.
      </p>
      <TxButton
        label="Join the pool"
        sender={invited.member}
        tx={() => ({ type: 'pool.join', payload: { poolId: pool.poolId } })}
        summary={<>Join pool {pool.poolId}.</>}
        onDone={() => setJoined(true)}
      />
    </div>
  );
}

export function MentorshipStartPage(props: { poolId: string }) {
  return (
    <WithPool poolId={props.poolId} title="Start a mentorship from pool">
      {({ pool, decimals }) => (
        <WithWallet what="start a mentorship">
          {(addresses) => (
            <ManagerOnly addresses={addresses} manager={pool.manager} does="starts mentorships">
              {() => <MentorshipForm pool={pool} decimals={decimals} />}
            </ManagerOnly>
          )}
        </WithWallet>
      )}
    </WithPool>
  );
}

function MentorshipForm(props: { pool: PoolView; decimals: number | undefined }) {
  const { pool, decimals } = props;
  const [mentorshipId, setMentorshipId] = useState('');
  const [mentor, setMentor] = useState('');
  const [apprentice, setApprentice] = useState('');
  const [stipend, setStipend] = useState('');
  const [periodBlocks, setPeriodBlocks] = useState('100');
  const [periods, setPeriods] = useState('4');
  const [started, setStarted] = useState<string>();
  if (started) {
    return (
      <Done testId="mentorship-started">
        Mentorship started: <a href={mentorshipPath(started)}>see {started}</a>.
      </Done>
    );
  }
  const minor = decimals === undefined ? undefined : minorOf(stipend, decimals);
  const blocks = Number(periodBlocks);
  const count = Number(periods);
  const build = (): Tx | Problem => {
    if (!poolIdPattern.test(mentorshipId)) {
      return problem('invalid_mentorship_id', 'An id: 1 to 63 of a-z, 0-9 and "-", not first.');
    }
    if (!isAddress(mentor.trim())) return problem('invalid_address', "The mentor's address.");
    if (!isAddress(apprentice.trim())) {
      return problem('invalid_address', "The apprentice's address.");
    }
    if (minor === undefined) return problem('invalid_stipend', 'A positive stipend.');
    if (!Number.isSafeInteger(blocks) || blocks < 1 || blocks > periodBlocksMax) {
      return problem('invalid_period_blocks', `1 to ${periodBlocksMax} blocks a period.`);
    }
    if (!Number.isSafeInteger(count) || count < 1 || count > periodsMax) {
      return problem('invalid_periods', `1 to ${periodsMax} periods.`);
    }
    return {
      type: 'mentorship.start',
      payload: {
        mentorshipId,
        poolId: pool.poolId,
        mentor: mentor.trim(),
        apprentice: apprentice.trim(),
        stipend: minor,
        periodBlocks: blocks,
        periods: count,
      },
    };
  };
  const total =
    minor !== undefined && Number.isSafeInteger(count) && count > 0
      ? (BigInt(minor) * BigInt(count)).toString()
      : undefined;
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="The mentorship">
      <p>
        The pool reserves the whole of the stipends now; the apprentice claims each period's stipend
        once it is due. The mentor or you may end it: what is not due returns to the pool.
      </p>
      <Field
        id="mentorship-id"
        label="Mentorship id"
        value={mentorshipId}
        onInput={setMentorshipId}
        hint="1 to 63 of a-z, 0-9 and -; never reused."
      />
      <Field id="mentorship-mentor" label="Mentor" value={mentor} onInput={setMentor} />
      <Field
        id="mentorship-apprentice"
        label="Apprentice"
        value={apprentice}
        onInput={setApprentice}
      />
      <Field
        id="mentorship-stipend"
        label={`Stipend per period (${pool.asset})`}
        value={stipend}
        onInput={setStipend}
      />
      <Field
        id="mentorship-period-blocks"
        label="Blocks per period"
        type="number"
        value={periodBlocks}
        onInput={setPeriodBlocks}
      />
      <Field
        id="mentorship-periods"
        label="Periods"
        type="number"
        value={periods}
        onInput={setPeriods}
        hint={`1 to ${periodsMax}.`}
      />
      <TxButton
        label="Start the mentorship"
        sender={pool.manager}
        tx={build}
        summary={
          <>
            Start mentorship <strong>{mentorshipId}</strong>, reserving{' '}
            <strong>{amountText(total ?? '0', pool.asset, decimals)}</strong> of pool {pool.poolId}.
          </>
        }
        onDone={() => setStarted(mentorshipId)}
      />
    </form>
  );
}

/** A mentorship (`GET /v1/scholarship/mentorships/{id}`): its terms, what is due, and a claim. */
export function MentorshipPage(props: { mentorshipId: string }) {
  const [loaded, reload] = useLoad(async () => {
    const view = await client.scholarship.mentorship(props.mentorshipId);
    const pool = await client.scholarship.pool(view.poolId);
    const decimals = await assetDecimals(pool.asset).catch(() => undefined);
    return { view, asset: pool.asset, decimals };
  }, [props.mentorshipId]);
  return (
    <section>
      <Back />
      <h1>Mentorship {props.mentorshipId}</h1>
      <Show result={loaded} what="the mentorship">
        {({ view, asset, decimals }) => {
          const money = (minor: string) => amountText(minor, asset, decimals);
          const claimable = BigInt(view.dueAmount) > 0n || BigInt(view.held) > 0n;
          return (
            <>
              <Fields
                rows={[
                  ['Pool', <a href={poolPath(view.poolId)}>{view.poolId}</a>],
                  ['Mentor', <HashLink kind="account" value={view.mentor} />],
                  ['Apprentice', <HashLink kind="account" value={view.apprentice} />],
                  ['Stipend', `${money(view.stipend)} every ${view.periodBlocks} blocks`],
                  ['Periods', `${view.claimed} of ${view.periods} settled`],
                  ['Paid', money(view.paid)],
                  ['Due now', <span data-testid="due">{money(view.dueAmount)}</span>],
                  ...(BigInt(view.held) > 0n
                    ? ([['Held for the apprentice', money(view.held)]] as [string, string][])
                    : []),
                  ['Status', <span data-testid="mentorship-status">{view.status}</span>],
                ]}
              />
              {claimable && (
                <WithWallet what="claim the stipend">
                  {(addresses) =>
                    addresses.includes(view.apprentice) ? (
                      <TxButton
                        label="Claim what is due"
                        sender={view.apprentice}
                        tx={() => ({
                          type: 'mentorship.claim',
                          payload: { mentorshipId: view.mentorshipId },
                        })}
                        summary={<>Claim the stipends due to you.</>}
                        onDone={reload}
                      />
                    ) : null
                  }
                </WithWallet>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
