import type { CommittedBlock } from '../chain/index.js';

export interface EventFilter {
  /** Only what involves this address (sender, or any event field equal to it). */
  address?: string;
  /**
   * Only these tx or event types (exact, or a `prefix.` ending in a dot), and `block`. `final`
   * among them does not narrow anything: it adds the finality messages to what the rest select
   * (everything, when it is alone).
   */
  types?: string[];
}

/** A filter as the hub applies it: `final` taken out of the types into its own flag. */
interface AppliedFilter {
  address?: string;
  types?: string[];
  final: boolean;
}

function applied(filter: EventFilter): AppliedFilter {
  const types = filter.types?.filter((t) => t !== 'final');
  return {
    ...(filter.address === undefined ? {} : { address: filter.address }),
    ...(types === undefined || types.length === 0 ? {} : { types }),
    final: filter.types?.includes('final') ?? false,
  };
}

export type HubMessage =
  | { kind: 'block'; height: number; hash: string; time: number; txCount: number }
  /** Everything up to `height` is final (attested by a quorum); only to `type=final` subscribers. */
  | { kind: 'final'; height: number; hash?: string }
  | { kind: 'receipt'; height: number; tx: string; type: string; sender: string; status: string }
  | {
      kind: 'event';
      height: number;
      tx: string | null;
      type: string;
      data: Record<string, unknown>;
    };

export interface Subscriber {
  filter: EventFilter;
  send(message: HubMessage): void;
}

/** Whether `type` is one of `types` or under one of its prefixes (those ending in a dot). */
export function typeMatchesAny(types: string[], type: string): boolean {
  return types.some((t) => (t.endsWith('.') ? type.startsWith(t) : t === type));
}

function typeMatches(types: string[] | undefined, type: string): boolean {
  return !types || types.length === 0 || typeMatchesAny(types, type);
}

function mentions(data: Record<string, unknown>, address: string): boolean {
  return Object.values(data).some((value) => value === address);
}

/** Fans committed blocks out to websocket subscribers, each with its own filter. */
export class EventHub {
  private readonly subscribers = new Set<{ filter: AppliedFilter; send: Subscriber['send'] }>();

  get size(): number {
    return this.subscribers.size;
  }

  subscribe(subscriber: Subscriber): () => void {
    const entry = {
      filter: applied(subscriber.filter),
      send: (message: HubMessage) => subscriber.send(message),
    };
    this.subscribers.add(entry);
    return () => this.subscribers.delete(entry);
  }

  /**
   * Tells subscribers that asked for `final` (by that exact type, so existing subscribers see no
   * new kind of message) that everything up to `height` is final.
   */
  publishFinal(height: number, hash: string | undefined): void {
    if (this.subscribers.size === 0) return;
    const message: HubMessage = { kind: 'final', height, ...(hash ? { hash } : {}) };
    for (const subscriber of this.subscribers) {
      if (subscriber.filter.final) subscriber.send(message);
    }
  }

  publish(committed: CommittedBlock): void {
    if (this.subscribers.size === 0) return;
    const { header, hash } = committed.block;
    const block: HubMessage = {
      kind: 'block',
      height: header.height,
      hash,
      time: header.time,
      txCount: committed.txs.length,
    };
    for (const subscriber of this.subscribers) {
      const { address, types } = subscriber.filter;
      if (!address && (!types || types.length === 0 || typeMatches(types, 'block')))
        subscriber.send(block);
      for (const event of committed.blockEvents) {
        if (!typeMatches(types, event.type) || (address && !mentions(event.data, address)))
          continue;
        subscriber.send({
          kind: 'event',
          height: header.height,
          tx: null,
          type: event.type,
          data: event.data,
        });
      }
      committed.txs.forEach((decoded, index) => {
        const receipt = committed.receipts[index]!;
        const involved =
          !address ||
          decoded.tx.sender === address ||
          receipt.events.some((e) => mentions(e.data, address));
        if (!involved) return;
        if (typeMatches(types, decoded.tx.type)) {
          subscriber.send({
            kind: 'receipt',
            height: header.height,
            tx: decoded.hash,
            type: decoded.tx.type,
            sender: decoded.tx.sender,
            status: receipt.status,
          });
        }
        for (const event of receipt.events) {
          if (!typeMatches(types, event.type)) continue;
          if (address && decoded.tx.sender !== address && !mentions(event.data, address)) continue;
          subscriber.send({
            kind: 'event',
            height: header.height,
            tx: decoded.hash,
            type: event.type,
            data: event.data,
          });
        }
      });
    }
  }
}
