import { Ledger } from '../../ledger/index.js';
import { addressFromPublicKey, keyPairFromSecret, type KeyPair } from '../../crypto/index.js';
import type { TxContext } from '../../chain/index.js';
import { emptyState } from './lots-fixture.js';
import { timecreditsTxs } from './txs.js';

/*
 * A small runner for the unit tests of the module's tx handlers (txs-*.test.ts): a tx is parsed
 * by its type's parser, then executed against one state view; a rejected tx's writes are reverted
 * and its events dropped, as the chain does. Test support only; nothing on chain imports it.
 */

export interface TestKey extends KeyPair {
  address: string;
}

export function key(seed: number): TestKey {
  const pair = keyPairFromSecret(new Uint8Array(32).fill(seed));
  return { ...pair, address: addressFromPublicKey(pair.publicKey) };
}

export interface TxEvent {
  type: string;
  data: Record<string, unknown>;
}

export const chainId = 'coffer-timecredits-unit';
export const startTime = 1_700_000_000_000;

export class TxWorld {
  readonly state = emptyState();
  time = startTime;
  height = 1;
  private count = 0;
  /** The events of the last tx that succeeded (empty after a rejection). */
  events: TxEvent[] = [];
  /** The field a parser's rejection of the last tx named, if any. */
  field: string | undefined;

  /** The hash the next tx gets: 16 hex digits of its count, then a fixed tail (64 in all). */
  nextHash(): string {
    return (this.count + 1).toString(16).padStart(16, '0') + 'c0ffee00'.repeat(6);
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>, hash?: string) {
    const definition = timecreditsTxs[type];
    if (definition === undefined) throw new Error(`no tx type ${type}`);
    const txHash = hash ?? this.nextHash();
    this.count += 1;
    this.events = [];
    this.field = undefined;
    const parsed = definition.parse(payload);
    if ('code' in parsed) {
      this.field = parsed.field;
      return parsed.code;
    }
    const events: TxEvent[] = [];
    const ctx: TxContext = {
      chainId,
      height: this.height,
      time: this.time,
      txHash,
      txIndex: 0,
      sender: typeof sender === 'string' ? sender : sender.address,
      state: this.state,
      ledger: new Ledger(this.state),
      emit: (type, data) => events.push({ type, data }),
    };
    const snapshot = this.state.snapshot();
    const rejection = definition.execute(ctx, parsed.value as never);
    if (rejection !== undefined) {
      this.state.revert(snapshot);
      return rejection;
    }
    this.state.release();
    this.events = events;
    return 'ok';
  }
}

export const coordinator = key(1);
export const ann = key(2);
export const ben = key(3);
export const cat = key(4);
export const outsider = key(5);
/** A user identifier hash (any 64 hex digits serve: the handlers never recompute it). */
export const userHash = (n: number) => n.toString(16).padStart(64, '0');

/**
 * Creates a bank coordinated by `coordinator` with the given members approved (user hash `n` for
 * the key of seed `n`) and returns its id.
 */
export function bankIn(
  w: TxWorld,
  policy: Record<string, unknown> = { kind: 'none' },
  creditLimitMinutes = '0',
  members: TestKey[] = [ann, ben, cat],
): string {
  const bankId = w.nextHash().slice(0, 16);
  const created = w.run(coordinator, 'timebank.create', {
    name: 'Riverside',
    coordinators: [coordinator.address],
    policy,
    creditLimitMinutes,
  });
  if (created !== 'ok') throw new Error(`timebank.create: ${created}`);
  for (const m of members) {
    const seed = m.secretKey[0]!;
    const added = w.run(coordinator, 'timebank.addMember', {
      bankId,
      account: m.address,
      userIdHash: userHash(seed),
    });
    if (added !== 'ok') throw new Error(`timebank.addMember: ${added}`);
  }
  return bankId;
}

let requests = 0;
/** Issues `minutes` to `to` by the coordinator: 'ok' or the rejection. */
export function issueTo(w: TxWorld, bankId: string, to: TestKey, minutes: number | string) {
  requests += 1;
  return w.run(coordinator, 'timecredits.issue', {
    bankId,
    account: to.address,
    minutes: String(minutes),
    requestId: `req-${requests}`,
  });
}
