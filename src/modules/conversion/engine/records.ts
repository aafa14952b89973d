/*
 * The engine's records: a quote it gives (signed by its key, so a user holds it to it), a
 * forward it drives through its states, and the events it logs. Amounts are decimal strings of
 * minor units, as everywhere on Coffer's wire.
 */
import {
  canonicalBytes,
  fromHex,
  publicKeyFromAddress,
  sha256,
  sign,
  signingMessage,
  toHex,
  verify,
} from '../../../crypto/index.js';

/** An asset on an ecosystem, with an amount in its minor units. */
export interface QuoteSide {
  ecosystem: string;
  asset: string;
  amount: string;
  decimals: number;
}

/** One conversion of a route: a registry pair priced. */
export interface QuoteHop {
  from: { ecosystem: string; asset: string };
  to: { ecosystem: string; asset: string };
  /** The rate source's mid rate and the rate after the pair's spread (units of to per unit of from). */
  midRate: string;
  rate: string;
  amountIn: string;
  fee: string;
  amountOut: string;
}

/**
 * How the user pays the source side: `htlc` a hash-locked hold or HTLC lock for the engine under
 * the user's condition; `hold` a plain hold the engine captures once the payout completed (the
 * destination has no hash locks); `deposit` a payment to the engine's provider account with the
 * quote id as reference (the source has no hash locks).
 */
export type ForwardMode = 'htlc' | 'hold' | 'deposit';

export interface QuoteBody {
  id: string;
  /** The engine: its operator's address on the home chain, whose key signs the quote. */
  engine: string;
  from: QuoteSide;
  to: QuoteSide;
  /** Which side the request fixed; the other is computed, rounded in the engine's favour. */
  fixed: 'from' | 'to';
  /** What the user gets per unit given, over the whole route, fees included (decimal). */
  rate: string;
  route: QuoteHop[];
  mode: ForwardMode;
  /** Where the user locks or pays: the engine's address or account on the source ecosystem. */
  payTo: string;
  /** `htlc`, `hold`: the lowest native expiry (height, unix seconds) the source lock may have. */
  sourceExpiryAtLeast?: number;
  createdAt: number;
  /** Milliseconds since 1970: a forward must be asked for before this. */
  expiresAt: number;
}

export interface Quote extends QuoteBody {
  /** ed25519 by the engine's key over `quoteHash`, domain coffer/conversion/quote/v1 (hex). */
  signature: string;
}

/** SHA-256 of the quote body's canonical JSON (RFC 8785): what the engine signs. */
export function quoteHash(body: QuoteBody): Uint8Array {
  return sha256(canonicalBytes(body));
}

export function signQuote(body: QuoteBody, secretKeyHex: string): Quote {
  const signature = sign(signingMessage('conversionQuote', quoteHash(body)), fromHex(secretKeyHex));
  return { ...body, signature: toHex(signature) };
}

/** Whether the quote carries its engine's signature over exactly these terms. */
export function verifyQuote(quote: Quote): boolean {
  const { signature, ...body } = quote;
  try {
    return verify(
      fromHex(signature, 'signature', 64),
      signingMessage('conversionQuote', quoteHash(body)),
      publicKeyFromAddress(quote.engine),
    );
  } catch {
    return false;
  }
}

/**
 * A forward's states. htlc: accepted -> locked -> claiming -> completed, or -> refunding ->
 * refunded when the recipient never releases. hold: accepted (the hold captured) -> forwarding ->
 * paying -> completed, or -> refunding -> refunded (paid back) when the payout fails. deposit: received -> quoted -> forwarding -> completed, or -> refunding ->
 * refunded (paid back to the sender). `rejected`: refused before anything moved.
 */
export type ForwardState =
  | 'accepted'
  | 'received'
  | 'quoted'
  | 'locked'
  | 'claiming'
  | 'paying'
  | 'forwarding'
  | 'refunding'
  | 'completed'
  | 'refunded'
  | 'rejected';

export interface Forward {
  id: string;
  quoteId?: string;
  mode: ForwardMode;
  state: ForwardState;
  from: QuoteSide;
  to: QuoteSide;
  /** The recipient's address or account on the destination ecosystem. */
  recipient: string;
  condition?: string;
  /** Known once the recipient released the destination lock. */
  preimage?: string;
  source: {
    lockId?: string;
    /** Who made the source lock (a plain hold's captured amount goes back there on a failed payout). */
    payer?: string;
    expiry?: number;
    depositId?: string;
    /** The provider account a deposit came from (a refund goes back there). */
    sender?: string;
    claimTx?: string;
    captureTx?: string;
    cancelTx?: string;
    refundPayoutId?: string;
    /** Refund payouts asked for after the first failed (deposit mode). */
    refundTries?: number;
  };
  destination: {
    expiry?: number;
    lockId?: string;
    lockTx?: string;
    releaseTx?: string;
    refundTx?: string;
    payoutId?: string;
    payTx?: string;
  };
  error?: { code: string; message: string };
  createdAt: number;
  updatedAt: number;
  history: { state: ForwardState; at: number; note?: string }[];
}

export interface EngineEvent {
  /** forward.<state>, liquidity.low, liquidity.high, liquidity.ok */
  type: string;
  forward?: string;
  state?: string;
  data?: Record<string, unknown>;
}
