import { runTx } from '../../../test/support/tx-runner.js';
import assert from 'node:assert/strict';

import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { addressFromPublicKey, keyPairFromSecret, type KeyPair } from '../../crypto/index.js';
import type { BlockContext } from '../../chain/index.js';
import { crowdfundTxs, settleDueCampaigns } from './txs.js';
import { campaignIdOf } from './schema.js';
import type { DistributionRule } from './schema-terms.js';
import {
  crowdfundKeys,
  readCampaign,
  readPosition,
  type CampaignRecord,
  type PositionRecord,
} from './state.js';

/*
 * A small runner for the unit tests of the campaign tx handlers and settlement (txs*.test.ts,
 * settlement*.test.ts): a tx is parsed by its type's parser, then executed against one state
 * view; a rejected tx's writes are reverted and its events dropped, as the chain does; a block's
 * `beginBlock` settles what is due. Test support only; nothing on chain imports it.
 */

export interface TestKey extends KeyPair {
  address: string;
}

export function key(seed: number): TestKey {
  const secret = new Uint8Array(32).fill(0x6b);
  secret[0] = seed >> 8;
  secret[1] = seed & 0xff;
  const pair = keyPairFromSecret(secret);
  return { ...pair, address: addressFromPublicKey(pair.publicKey) };
}

export interface TxEvent {
  type: string;
  data: Record<string, unknown>;
}

export const chainId = 'coffer-crowdfund-unit';
export const startTime = 1_700_000_000_000;
export const blockMs = 1_000;

export const issuer = key(1);
export const producer = key(2);
export const reporter = key(3);
export const distributor = key(4);
export const feeAccount = key(5);
export const outsider = key(6);
export const [ann, ben, cat, dan] = [key(10), key(11), key(12), key(13)];
export const investors = [ann, ben, cat, dan];
export const startingBalance = 1_000_000n;
export const reporterBalance = 100_000_000n;

/** The issue's example: 30% fee to the distributor; recoup; 20% premium; the rest 50/50. */
export const issueExample: DistributionRule = {
  tranches: [
    {
      name: 'distribution fee',
      shareBasisPoints: 3_000,
      recipients: [{ kind: 'account', address: distributor.address, weightBasisPoints: 10_000 }],
    },
    {
      name: 'recoup',
      shareBasisPoints: 10_000,
      cap: { principalBasisPoints: 10_000 },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'premium',
      shareBasisPoints: 10_000,
      cap: { principalBasisPoints: 2_000 },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'profit split',
      shareBasisPoints: 10_000,
      recipients: [
        { kind: 'investors', weightBasisPoints: 5_000 },
        { kind: 'producer', weightBasisPoints: 5_000 },
      ],
    },
  ],
};

export class TxWorld {
  readonly state = new StateView({ get: () => undefined, range: () => [] });
  readonly ledger = new Ledger(this.state);
  height = 1;
  time = startTime;
  private count = 0;
  /** The events of the last tx or block that succeeded (empty after a rejection). */
  events: TxEvent[] = [];
  /** The field a parser's rejection of the last tx named, if any. */
  field: string | undefined;

  /** USD (2 decimals, issued by `issuer`) with the starting balances of the named accounts. */
  constructor() {
    const created = this.ledger.createAsset(issuer.address, { symbol: 'USD', decimals: 2 });
    if (created) throw new Error(`createAsset: ${created}`);
    for (const a of [...investors, producer, outsider]) this.mint(a, startingBalance);
    this.mint(reporter, reporterBalance);
    this.state.release();
  }

  mint(to: TestKey | string, amount: bigint): void {
    const address = typeof to === 'string' ? to : to.address;
    const minted = this.ledger.mint(issuer.address, 'USD', address, amount);
    if (minted) throw new Error(`mint: ${minted}`);
  }

  balance(who: TestKey | string): bigint {
    return this.ledger.balance(typeof who === 'string' ? who : who.address, 'USD');
  }

  freeze(who: TestKey | string, frozen = true): void {
    const address = typeof who === 'string' ? who : who.address;
    const done = this.ledger.setFrozen(issuer.address, 'USD', address, frozen);
    if (done) throw new Error(`setFrozen: ${done}`);
  }

  /** The hash the next tx gets: 16 hex digits of its count, then a fixed tail (64 in all). */
  nextHash(): string {
    return (this.count + 1).toString(16).padStart(16, '0') + 'f11e0000'.repeat(6);
  }

  /** The campaign id the next `campaign.create` gets. */
  nextCampaignId(): string {
    return campaignIdOf(this.nextHash());
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>, hash?: string) {
    const txHash = hash ?? this.nextHash();
    this.count += 1;
    const result = runTx(
      crowdfundTxs,
      {
        chainId,
        height: this.height,
        time: this.time,
        txHash,
        sender: typeof sender === 'string' ? sender : sender.address,
        state: this.state,
        ledger: this.ledger,
      },
      type,
      payload,
    );
    this.events = result.events;
    this.field = result.field;
    if (result.status !== 'ok') return result.status;
    return 'ok';
  }

  /** The next block's `beginBlock` (height + 1, time + blockMs, or the given ones): its events. */
  block(at: { height?: number; time?: number } = {}): TxEvent[] {
    this.height = at.height ?? this.height + 1;
    this.time = at.time ?? this.time + blockMs;
    const events: TxEvent[] = [];
    const ctx: BlockContext = {
      chainId,
      height: this.height,
      time: this.time,
      previousProducer: producer.address,
      previousHash: '00'.repeat(32),
      state: this.state,
      ledger: this.ledger,
      emit: (type, data) => events.push({ type, data }),
    };
    settleDueCampaigns(ctx);
    this.state.release();
    this.events = events;
    return events;
  }

  /** Blocks until `height` (inclusive): every block's events, in order. */
  blocksTo(height: number): TxEvent[] {
    const all: TxEvent[] = [];
    while (this.height < height) all.push(...this.block());
    return all;
  }
}

/** Campaign terms (the crowdfund.test.ts defaults), deadline 13 blocks ahead of `w`. */
export function terms(
  w: TxWorld,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    title: 'The Long Take',
    asset: 'USD',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: w.height + 13 },
    cancelWindow: 3,
    earlyClose: false,
    platformFee: { basisPoints: 500, to: feeAccount.address },
    reporters: [reporter.address],
    distribution: issueExample,
    ...overrides,
  };
}

/** Creates a campaign by `producer` and returns its id (throws on a rejection). */
export function create(w: TxWorld, overrides: Record<string, unknown> = {}): string {
  const id = w.nextCampaignId();
  const created = w.run(producer, 'campaign.create', terms(w, overrides));
  if (created !== 'ok') throw new Error(`campaign.create: ${created}`);
  return id;
}

/** Invests `amount` in `id` from `who` (throws on a rejection). */
export function invest(w: TxWorld, id: string, who: TestKey, amount: bigint | number): void {
  const done = w.run(who, 'campaign.invest', { campaignId: id, amount: String(amount) });
  if (done !== 'ok') throw new Error(`campaign.invest: ${done}`);
}

let reports = 0;
/** Reports `gross` for `id` from `reporter`: 'ok' or the rejection. */
export function report(w: TxWorld, id: string, gross: bigint | number, reportId?: string) {
  reports += 1;
  return w.run(reporter, 'campaign.reportRevenue', {
    campaignId: id,
    reportId: reportId ?? `r-${reports}`,
    periodStart: 0,
    periodEnd: 1,
    grossRevenue: String(gross),
  });
}

// ---- what the txs tests share ---------------------------------------------------------------

export const unknownId = '0123456789abcdef';

/** The whole state (ledger and module): the base is empty, so every key is a write. */
export const stateOf = (w: TxWorld) => [...w.state.writes()];

export const campaignOf = (w: TxWorld, id: string): CampaignRecord => readCampaign(w.state, id)!;

export const positionOf = (w: TxWorld, id: string, who: TestKey): PositionRecord =>
  readPosition(w.state, id, who.address)!;

/** Runs a tx that must be refused with `code`, and checks that it changed nothing. */
export function refused(
  w: TxWorld,
  sender: TestKey,
  type: string,
  payload: Record<string, unknown>,
  code: string,
  message?: string,
): void {
  const before = stateOf(w);
  assert.equal(w.run(sender, type, payload), code, message);
  assert.deepEqual(stateOf(w), before, `${code}: the state is as it was`);
  assert.deepEqual(w.events, [], `${code}: no events`);
}

export const cancelTx = (w: TxWorld, id: string, who: TestKey) =>
  w.run(who, 'campaign.cancelInvestment', { campaignId: id });

export const amendTx = (
  w: TxWorld,
  id: string,
  amended: Record<string, unknown>,
  reconfirmBy?: unknown,
) =>
  w.run(producer, 'campaign.amend', {
    campaignId: id,
    terms: amended,
    ...(reconfirmBy === undefined ? {} : { reconfirmBy }),
  });

/** Whether the due index holds an entry for `id` at a height. */
export const dueAt = (w: TxWorld, id: string, height: number, kind: 'deadline' | 'reconfirm') =>
  w.state.get(crowdfundKeys.due('height', { value: height, id, kind })) !== undefined;

export const types = (w: TxWorld) => w.events.map((e) => e.type);

/** A campaign that closed early (target 1,000 reached by ann): no longer funding. */
export function succeeded(w: TxWorld): string {
  const id = create(w, { target: '1000', earlyClose: true });
  invest(w, id, ann, 1000);
  assert.equal(campaignOf(w, id).status, 'succeeded');
  return id;
}

/** The terms of the default campaign as the record keeps them (reporters sorted, fee set). */
export function defaultTerms(deadlineHeight: number) {
  return {
    title: 'The Long Take',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: deadlineHeight },
    cancelWindow: 3,
    earlyClose: false,
    platformFee: { basisPoints: 500, to: feeAccount.address },
    reporters: [reporter.address],
    distribution: issueExample,
  };
}
