import './cards.css';

import { ledgerRejections } from '../../../ledger/rejections.js';
import { tokensRejections } from '../../tokens/rejections.js';
import type { CardDeviceRecord, CardStatus } from '../client.js';
import { cardsRejections } from '../rejections.js';

/* Pieces the cards pages share: the words for a status, a token life and a decline, and the
   count of a device's tokens that can still pay. */

/** The card events a page follows (every one carries `card`). */
export const cardEventTypes = ['card.'];

/** What each status means to the person looking at the card. */
export const statusText: Record<CardStatus, string> = {
  pending: 'Pending: waiting for the cardholder to accept it',
  active: 'Active',
  closed: 'Closed: it pays no more',
};

const msPerMinute = 60_000;
const msPerHour = 60 * msPerMinute;
const msPerDay = 24 * msPerHour;

/** A token life in the largest whole unit: `30 days`, `2 hours`, `90 minutes`. */
export function durationText(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms % msPerDay === 0) return plural(ms / msPerDay, 'day');
  if (ms % msPerHour === 0) return plural(ms / msPerHour, 'hour');
  if (ms % msPerMinute === 0) return plural(ms / msPerMinute, 'minute');
  return plural(Math.round(ms / 1000), 'second');
}

/**
 * A decline's code in words. A decline is a card code, a vault token's (suspended, out of its
 * domain) or the ledger's hold (no funds, a frozen account): one table of the three modules'
 * sentences, the code itself when none has it.
 */
const declineSentences: Record<string, string> = {
  ...ledgerRejections,
  ...tokensRejections,
  ...cardsRejections,
};

export function declineText(code: string): string {
  return declineSentences[code] ?? code;
}

/**
 * The device's tokens that can still pay at `time` (the latest block's): unconsumed and not
 * expired, as `liveTokens` in txs-payments.ts counts them for a batch (that file holds the
 * handlers, which the console does not bundle).
 */
export function paymentsLeft(
  link: CardDeviceRecord,
  time: number,
): CardDeviceRecord['outstanding'] {
  if (link.status === 'removed') return [];
  return link.outstanding.filter((entry) => entry.expiresAt >= time);
}

/** Whether the page follows the card's events. */
export function LiveNote(props: { live: boolean }) {
  return (
    <span class={props.live ? 'live on' : 'live'}>{props.live ? '● live' : '○ connecting'}</span>
  );
}
