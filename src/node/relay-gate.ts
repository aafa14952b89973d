import type { SubmitResult } from './node.js';
import { SingleFlight } from './single-flight.js';

/**
 * Relays take at most a quarter of the node's system lane (`mempoolSystemTxsMax`, default 1,000)
 * and never more than 100 at once, so participants' requests can never starve the node's own
 * system txs (the producer's nonce commitments, evidence)...
 */
export function relaysInFlightMax(systemTxsMax: number): number {
  return Math.max(1, Math.min(100, Math.floor(systemTxsMax / 4)));
}
/** ...and one participant has at most 8 of them in flight (`relays_busy` beyond). */
export const relaysPerParticipantMax = 8;

/**
 * The node's relays of participants' signed requests (the token vault's provisions, PAN updates,
 * detokenisations and re-wraps; the cards module's token batches and authorisations): each is
 * the node's own tx, signed and waited on until final. One gate per node, shared by every module,
 * so the caps hold for the node whatever module the requests come to. The caps are checked and
 * taken synchronously, so concurrent requests cannot all pass the check; a request joining an
 * identical one in flight (same `key`) takes no room.
 */
export class RelayGate {
  private readonly joined = new SingleFlight<SubmitResult>();
  private inFlight = 0;
  private readonly inFlightBy = new Map<string, number>();

  constructor(
    private readonly submit: (
      type: string,
      payload: Record<string, unknown>,
    ) => Promise<SubmitResult>,
    readonly inFlightMax: number,
    readonly perParticipantMax = relaysPerParticipantMax,
  ) {}

  /** True when no relay can start now (`mempool_full`): a route refuses before its work. */
  get full(): boolean {
    return this.inFlight >= this.inFlightMax;
  }

  /**
   * Submits the node's own tx for `participant`'s request, or refuses it when over a cap;
   * `participantMax` raises a participant's cap for a kind of request (an acquirer's
   * authorisations), never above the node's.
   */
  run(
    key: string | undefined,
    participant: string,
    type: string,
    payload: Record<string, unknown>,
    participantMax = this.perParticipantMax,
  ): Promise<SubmitResult> {
    const start = async (): Promise<SubmitResult> => {
      const mine = this.inFlightBy.get(participant) ?? 0;
      if (this.inFlight >= this.inFlightMax)
        return { error: { code: 'mempool_full' } } as SubmitResult;
      if (mine >= participantMax) return { error: { code: 'relays_busy' } } as SubmitResult;
      this.inFlight += 1;
      this.inFlightBy.set(participant, mine + 1);
      try {
        return await this.submit(type, payload);
      } finally {
        this.inFlight -= 1;
        const left = (this.inFlightBy.get(participant) ?? 1) - 1;
        if (left === 0) this.inFlightBy.delete(participant);
        else this.inFlightBy.set(participant, left);
      }
    };
    return key === undefined ? start() : this.joined.run(key, start);
  }
}
