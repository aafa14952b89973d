import type { CoreClient, TxLookup } from '../../../sdk/index.js';
import type { CardDeviceRecord, CardRecord } from '../client.js';

/*
 * A device's recent payments for a card, from the chain's events: `card.authorised` and
 * `card.declined` name the card and the device. The API keeps no index of events (the websocket
 * sends them as blocks commit, and a consumed token's record is reachable only from its id), so
 * the page walks back from the newest block, reading the receipts of blocks that hold txs, until
 * it has found the device's payments (its `consumed` count says how many there are) or reached a
 * bound. The bounds keep one page load to a few hundred requests on a busy chain. The client is
 * passed in (the page's own, or a test's), so the walk is tested without a browser.
 */

/** What the walk reads: headers, a block's tx hashes, a tx's receipt. */
export type BlockReader = Pick<CoreClient, 'getBlocks' | 'getBlock' | 'getTx'>;

/** The newest payments shown. */
export const paymentsShownMax = 20;
/** Blocks walked back from the newest (in pages of headers); older payments are not looked for. */
export const paymentBlocksScannedMax = 5_000;
/** Txs whose receipts are read (one request each). */
export const paymentTxsReadMax = 300;
/** Headers in one `GET /v1/blocks` page (the API's most). */
const blocksPageMax = 100;
/** Receipts read at once. */
const txsInFlightMax = 20;

/** One use of a card token by the device: approved (a hold) or declined (a code). */
export interface DevicePayment {
  height: number;
  tx: string;
  outcome: 'authorised' | 'declined';
  token: string;
  acquirer: string;
  merchantId: string;
  /** Minor units of `currency`, a decimal string. */
  amount: string;
  currency: string;
  counter: number;
  /** Approved: the hold's id, which is the hash of the tx that placed it. */
  holdId?: string;
  /** Declined: why. */
  code?: string;
}

export interface PaymentScan {
  /** The height the walk started from (the newest block then). */
  tip: number;
  /** Newest first, at most `paymentsShownMax`. */
  payments: DevicePayment[];
  /** The oldest height read. */
  fromHeight: number;
  /** Every payment the device made is among those read (or the newest `paymentsShownMax`). */
  complete: boolean;
}

/** The payment an event of a receipt records, when it is the device's for this card. */
function paymentOf(lookup: TxLookup, card: string, device: string): DevicePayment | undefined {
  if (lookup.status === 'pending') return undefined;
  for (const event of lookup.receipt.events) {
    if (event.type !== 'card.authorised' && event.type !== 'card.declined') continue;
    const d = event.data;
    if (d.card !== card || d.device !== device) continue;
    return {
      height: lookup.height,
      tx: lookup.hash,
      outcome: event.type === 'card.authorised' ? 'authorised' : 'declined',
      token: String(d.token),
      acquirer: String(d.acquirer),
      merchantId: String(d.merchantId),
      amount: String(d.amount),
      currency: String(d.currency),
      counter: Number(d.counter),
      ...(typeof d.holdId === 'string' ? { holdId: d.holdId } : {}),
      ...(typeof d.code === 'string' ? { code: d.code } : {}),
    };
  }
  return undefined;
}

/**
 * The device's payments for the card, newest first, found walking back from height `tip`. With
 * `since`, an earlier walk for the same card and device, only the blocks after it are read and its
 * payments follow theirs: a screen that follows the card's events reads each block once.
 */
export async function recentPayments(
  reader: BlockReader,
  card: CardRecord,
  link: CardDeviceRecord,
  tip: number,
  since?: PaymentScan,
): Promise<PaymentScan> {
  const wanted = Math.min(link.consumed, paymentsShownMax);
  // No payment is older than the card.
  const floor = Math.max(card.linkedAtHeight, tip - paymentBlocksScannedMax + 1, 0);
  const resume = since !== undefined && since.tip <= tip && since.tip + 1 > floor;
  const stop = resume ? since.tip + 1 : floor;
  const payments: DevicePayment[] = [];
  let txsRead = 0;
  /** The lowest height whose txs were all read. */
  let fromHeight = tip + 1;
  const done = () => payments.length >= wanted || txsRead >= paymentTxsReadMax;
  for (let to = tip; !done() && to >= stop; to -= blocksPageMax) {
    const from = Math.max(stop, to - blocksPageMax + 1);
    const page = await reader.getBlocks(from, to);
    const withTxs = page.blocks.filter((b) => b.txCount > 0).sort((a, b) => b.height - a.height);
    for (const block of withTxs) {
      const { txs } = await reader.getBlock(block.height);
      const hashes = txs.slice(0, paymentTxsReadMax - txsRead);
      const lookups: TxLookup[] = [];
      for (let i = 0; i < hashes.length; i += txsInFlightMax) {
        const chunk = hashes.slice(i, i + txsInFlightMax);
        lookups.push(...(await Promise.all(chunk.map((hash) => reader.getTx(hash)))));
      }
      txsRead += hashes.length;
      // Later txs in a block are newer.
      for (const lookup of lookups.reverse()) {
        const payment = paymentOf(lookup, card.card, link.device);
        if (payment) payments.push(payment);
      }
      if (hashes.length < txs.length) break;
      fromHeight = block.height;
      if (done()) break;
    }
    if (!done()) fromHeight = from;
  }
  const walked = {
    tip,
    payments: payments.slice(0, wanted),
    fromHeight: Math.min(fromHeight, tip),
    complete: payments.length >= wanted,
  };
  // A bound cut the walk short of the earlier one: what lies between is unread, so it stands alone.
  if (!resume || walked.complete || fromHeight > stop) return walked;
  const joined = [...payments, ...since.payments].slice(0, wanted);
  return { tip, payments: joined, fromHeight: since.fromHeight, complete: joined.length >= wanted };
}
