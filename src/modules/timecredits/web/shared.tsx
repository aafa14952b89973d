import './timebanks.css';

import { useEventsAbout } from '../../../../web/src/live.js';
import { client } from '../../../../web/src/node.js';
import { HashLink, short } from '../../../../web/src/ui.js';
import {
  formatMinutes,
  type TimeExchange,
  type MemberStatement,
  type TimebankPolicyRecord,
} from '../client.js';

/* Pieces the time bank pages share: minutes as hours, the policy in words, what the API has no
   list route for (exchanges) read by number, and a tx signed in the page. */

/** How many of the newest exchanges a page reads (one request each: there is no list route). */
export const exchangesShownMax = 50;
/** Members in a page of a bank's members table (and statements read for its chart). */
export const membersShownMax = 50;

/** `150` minutes as `2:30 h`; the API's minutes are decimal strings. */
export function Hours(props: { minutes: string }) {
  return (
    <span class="num hours" title={`${props.minutes} minutes`} data-minutes={props.minutes}>
      {formatMinutes(props.minutes)} h
    </span>
  );
}

export function policyText(policy: TimebankPolicyRecord): string {
  if (policy.kind === 'none') return 'Credits never expire';
  if (policy.kind === 'expiry') {
    return `Credits expire ${policy.expiryDays} days after issue (notice ${policy.noticeDays} days before)`;
  }
  return `Demurrage: ${policy.ratePerPeriodBasisPoints / 100}% every ${policy.periodDays} days`;
}

/** The newest exchanges of a bank, newest first (at most `exchangesShownMax`). */
export async function latestExchanges(bankId: string, next: number): Promise<TimeExchange[]> {
  const numbers: number[] = [];
  for (let n = next - 1; n >= 0 && numbers.length < exchangesShownMax; n--) numbers.push(n);
  return Promise.all(numbers.map((n) => client.timebanks.exchange(bankId, n)));
}

/** The statements of `accounts` that are members (others are left out), in that order. */
export async function statementsOf(bankId: string, accounts: string[]): Promise<MemberStatement[]> {
  const unique = [...new Set(accounts)].slice(0, membersShownMax);
  const found = await Promise.all(
    unique.map((account) => client.timebanks.statement(bankId, account).catch(() => undefined)),
  );
  return found.filter((m): m is MemberStatement => m !== undefined);
}

/**
 * Calls `onChange` after a block in which the bank emitted an event (an exchange, a listing, an
 * issuance, lots lapsing), so a page follows what other members do while it is open.
 */
export function useBankEvents(bankId: string, onChange: () => void): boolean {
  return useEventsAbout(bankEventTypes, 'bankId', bankId, onChange);
}

const bankEventTypes = ['timecredits.', 'timebank.'];

/** An account as a link to its statement in the bank, and to the explorer. */
export function MemberLink(props: { bankId: string; account: string }) {
  return (
    <a
      href={`/timebanks/${props.bankId}/members/${props.account}`}
      class="mono"
      title={props.account}
    >
      {short(props.account)}
    </a>
  );
}

export { HashLink };

export { Scroll } from '../../../../web/src/ui.js';
export { TxButton, TxReview, walletAddresses } from '../../../../web/src/wallet/session.js';

/** What the last tx signed here did: a link to it in the explorer. */
export function SentNote(props: { hash: string | undefined; what: string }) {
  if (!props.hash) return null;
  return (
    <p class="badge ok" role="status">
      {props.what} is in a block: <HashLink kind="tx" value={props.hash} />
    </p>
  );
}
