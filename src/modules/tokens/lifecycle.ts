/*
 * The token lifecycle as one table (issue 17, EMVCo Payment Tokenisation; Visa VTS and Mastercard
 * MDES lifecycle APIs): which event moves a token from which status to which, and who may send
 * it. Pure: the tx handlers (txs-tokens.ts), the property test and the clients read the same
 * table.
 */

/** A token's status: `active` from provision on; `deleted` is final. */
export const tokenStatuses = ['active', 'suspended', 'deleted'] as const;
export type TokenStatus = (typeof tokenStatuses)[number];

/**
 * In what capacity a participant sends a lifecycle event: the token's issuer (owner of the PAN's
 * BIN), its token requestor, or the wallet the token was provisioned into.
 */
export const tokenInitiators = ['issuer', 'requestor', 'wallet'] as const;
export type TokenInitiator = (typeof tokenInitiators)[number];

/** The lifecycle events after `token.provision` (which makes a token `active`), by tx type. */
export const lifecycleEvents = [
  'token.suspend',
  'token.resume',
  'token.delete',
  'token.updatePan',
] as const;
export type LifecycleEvent = (typeof lifecycleEvents)[number];

interface Transition {
  /** The statuses the event applies to. */
  readonly from: readonly TokenStatus[];
  /** The status after it; `undefined`: the status stays (a PAN update). */
  readonly to: TokenStatus | undefined;
  /** Who may send it. */
  readonly by: readonly TokenInitiator[];
}

/** The transition table: nothing moves a token but these. */
export const lifecycleTable: Readonly<Record<LifecycleEvent, Transition>> = {
  'token.suspend': { from: ['active'], to: 'suspended', by: ['issuer', 'requestor', 'wallet'] },
  // Also: a suspension by the issuer is lifted by the issuer only (`resumeAllowed`).
  'token.resume': { from: ['suspended'], to: 'active', by: ['issuer', 'requestor', 'wallet'] },
  'token.delete': {
    from: ['active', 'suspended'],
    to: 'deleted',
    by: ['issuer', 'requestor', 'wallet'],
  },
  // A new expiry or a re-issued card (a new PAN of the same issuer) behind the same token.
  'token.updatePan': { from: ['active', 'suspended'], to: undefined, by: ['issuer'] },
};

/** Why a lifecycle step is refused, in the order `lifecycleStep` checks. */
export type LifecycleRefusal =
  | 'initiator_not_allowed'
  | 'token_deleted'
  | 'sequence_out_of_order'
  | 'transition_not_allowed'
  | 'resume_by_issuer_only';

/** A token as the state machine sees it. */
export interface LifecycleState {
  status: TokenStatus;
  /** The sequence number of the token's last event (0 after provision). */
  seq: number;
  /** Who suspended it, while suspended. */
  suspendedBy?: TokenInitiator | undefined;
}

/**
 * One event against a token's lifecycle state: the state after it, or why not. The event must
 * carry the next sequence number (`seq + 1`): a lower one is a replay or arrived late, a higher
 * one arrived before an event it follows; both are refused, so sequence numbers on a token
 * strictly increase by one.
 */
export function lifecycleStep(
  state: LifecycleState,
  event: LifecycleEvent,
  initiator: TokenInitiator,
  seq: number,
): LifecycleState | LifecycleRefusal {
  const transition = lifecycleTable[event];
  if (!transition.by.includes(initiator)) return 'initiator_not_allowed';
  if (state.status === 'deleted') return 'token_deleted';
  if (seq !== state.seq + 1) return 'sequence_out_of_order';
  if (!transition.from.includes(state.status)) return 'transition_not_allowed';
  if (event === 'token.resume' && state.suspendedBy === 'issuer' && initiator !== 'issuer') {
    return 'resume_by_issuer_only';
  }
  const status = transition.to ?? state.status;
  return {
    status,
    seq,
    ...(status === 'suspended'
      ? { suspendedBy: event === 'token.suspend' ? initiator : state.suspendedBy }
      : {}),
  };
}
