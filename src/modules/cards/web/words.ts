import { ledgerRejections } from '../../../ledger/rejections.js';
import { tokensRejections } from '../../tokens/rejections.js';
import type { CardDeviceRecord, CardRecord, CardStatus } from '../client.js';
import { cardsRejections } from '../rejections.js';

/* What the cards pages say, kept apart from the components so it is tested without a browser:
   the words for a status, a token life and a decline, the card's name and colours, and the count
   of a device's tokens that can still pay. */

/** The card events a page follows (every one carries `card`). */
export const cardEventTypes = ['card.'];

/** What each status means to the person looking at the card. */
export const statusText: Record<CardStatus, string> = {
  pending: 'Pending: waiting for the cardholder to accept it',
  active: 'Active',
  closed: 'Closed: it pays no more',
};

/**
 * What a card's status on one device means. A device the issuer added stays `pending` until the
 * cardholder approves it (`card.approveDevice`): until then no token is minted for it.
 */
export const deviceStatusText: Record<CardDeviceRecord['status'], string> = {
  pending: "Pending: waiting for the cardholder's approval",
  active: 'Active',
  removed: 'Removed: it pays no more',
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
 * sentences, the card's first; the code itself when none has it.
 */
const declineSentences: Record<string, string> = {
  ...ledgerRejections,
  ...tokensRejections,
  ...cardsRejections,
};

export function declineText(code: string): string {
  return Object.hasOwn(declineSentences, code) ? declineSentences[code]! : code;
}

/**
 * The device's tokens that can still pay at `time` (the latest block's): unconsumed and not
 * expired, as `liveTokens` in txs-payments.ts counts them for a batch (that file holds the
 * handlers, which the console does not bundle). Only an active device pays: a removed device's
 * tokens died with it, and a pending one (not yet approved by the cardholder) has none.
 */
export function paymentsLeft(
  link: CardDeviceRecord,
  time: number,
): CardDeviceRecord['outstanding'] {
  if (link.status !== 'active') return [];
  return link.outstanding.filter((entry) => entry.expiresAt >= time);
}

/** The relative luminance of `#rrggbb` (WCAG 2). */
function luminance(colour: string): number {
  const channel = (offset: number) => {
    const value = parseInt(colour.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** The ink for text on a face of `colour`: white or near-black, whichever contrasts more. */
export function inkOn(colour: string): string {
  const light = luminance(colour);
  // #111111 has a luminance of about 0.0056; white's is 1.
  return 1.05 / (light + 0.05) >= (light + 0.05) / 0.0556 ? '#ffffff' : '#111111';
}

/** `2030-11` as a card prints it: `11/30`. */
export function expiryShort(expiry: string): string {
  const [year, month] = expiry.split('-');
  return year && month ? `${month}/${year.slice(-2)}` : expiry;
}

/** How a screen reader names the card. */
export function cardLabel(card: CardRecord): string {
  return `${card.face.issuerName} ${card.face.product} card ending ${card.last4}, expires ${card.expiry}, pays in ${card.asset}`;
}
