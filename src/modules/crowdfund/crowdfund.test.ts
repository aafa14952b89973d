import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';

import {
  genesisTime,
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import {
  decodeTx,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  signTx,
  txSigningMessage,
  type ChainEvent,
  type DecodedTx,
} from '../../chain/index.js';
import { verify } from '../../crypto/index.js';
import { auditLedger, ledgerKeys, type AccountRecord } from '../../ledger/index.js';
import {
  campaignChart,
  campaignEscrow,
  campaignIdOf,
  campaignStatement,
  crowdfundModule,
  crowdfundRejections,
  getCampaign,
  investorPosition,
  listInvestors,
  refundsPerBlockMax,
  simulateCampaign,
  type CampaignRecord,
  type DistributionRule,
  type PayoutOwedRecord,
  type PositionRecord,
} from './index.js';

const chainId = 'coffer-crowdfund';
const registry = new ModuleRegistry([ledgerModule, crowdfundModule]);
const harness = new ModuleTestHarness({ name: 'crowdfund', chainId, registry });
after(() => harness.close());

/** An account of two seed bytes (the crowd needs more than 256) in a secret otherwise 0x5a. */
function account(seed: number): TestAccount {
  const secret = new Uint8Array(32).fill(0x5a);
  secret[0] = seed >> 8;
  secret[1] = seed & 0xff;
  return testAccount(secret);
}
const issuer = account(1);
const producer = account(2);
const reporter = account(3);
const distributor = account(4);
const feeAccount = account(5);
const outsider = account(6);
const [ann, ben, cat, dan] = [account(10), account(11), account(12), account(13)];
const investors = [ann, ben, cat, dan];
/** Enough investors to need two blocks of refunds. */
const crowd = Array.from({ length: refundsPerBlockMax + 1 }, (_, i) => account(1000 + i));

const startingBalance = 1_000_000n;
const reporterBalance = 100_000_000n;
const genesis = harness.genesis({
  assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
  balances: [
    ...[...investors, producer, outsider].map((a) => ({
      address: a.address,
      asset: 'USD',
      amount: startingBalance.toString(),
    })),
    { address: reporter.address, asset: 'USD', amount: reporterBalance.toString() },
    ...crowd.map((a) => ({ address: a.address, asset: 'USD', amount: '1000' })),
  ],
});
const supply = startingBalance * 6n + reporterBalance + 1000n * BigInt(crowd.length);

/** The issue's example: 30% fee to the distributor; recoup; 20% premium; the rest 50/50. */
const issueExample: DistributionRule = {
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

const newChain = () => harness.open(genesis);
type Node = ModuleTestChain;

function balance(node: Node, who: TestAccount | string): bigint {
  const address = typeof who === 'string' ? who : who.address;
  const text = node.store.get(ledgerKeys.account(address));
  if (text === undefined) return 0n;
  return BigInt((JSON.parse(text) as AccountRecord).balances.USD ?? '0');
}

/** Every crowdfund key and every ledger balance: what a failed tx must leave as it was. */
function snapshot(node: Node): unknown {
  const accounts = [...node.store.scan('ledger/account/')].map(([key, text]) => {
    const { nonce: _nonce, ...rest } = JSON.parse(text) as AccountRecord;
    return [key, rest];
  });
  return [[...node.store.scan('crowdfund/')], accounts, [...node.store.scan('ledger/asset/')]];
}

/**
 * The ledger's invariants (supply equals balances, nothing negative) and the module's: each
 * escrow holds exactly what its campaign owes (active principal, blocked refunds, blocked
 * payouts, an unreleased principal), the active positions sum to `raised`, and the blocked
 * payouts on positions and owed records sum to `payoutOwed`, listed under the payees.
 */
function audit(node: Node): void {
  assert.deepEqual(auditLedger((prefix) => node.store.scan(prefix)).problems, []);
  const asset = JSON.parse(node.store.get(ledgerKeys.asset('USD'))!) as { supply: string };
  assert.equal(BigInt(asset.supply), supply, 'no USD is created or destroyed');
  for (const [, text] of [...node.store.scan('crowdfund/campaign/')]) {
    const campaign = JSON.parse(text) as CampaignRecord;
    const active = listInvestors(node.store, campaign.id).reduce(
      (sum, address) => sum + BigInt(investorPosition(node.store, campaign.id, address)!.principal),
      0n,
    );
    assert.equal(active, BigInt(campaign.raised), 'positions sum to raised');
    const owedTo = new Map<string, bigint>();
    for (const [key, value] of node.store.scan(`crowdfund/position/${campaign.id}/`)) {
      const position = JSON.parse(value) as PositionRecord;
      assert.equal(
        BigInt(position.payoutOwed),
        position.payoutOwedByTranche.reduce((sum, a) => sum + BigInt(a), 0n),
        `${key}: owed by tranche`,
      );
      if (position.payoutOwed !== '0') owedTo.set(position.investor, BigInt(position.payoutOwed));
    }
    for (const [, value] of node.store.scan(`crowdfund/payout-owed/${campaign.id}/`)) {
      const record = JSON.parse(value) as PayoutOwedRecord;
      assert.ok(BigInt(record.amount) > 0n, 'no empty owed record');
      owedTo.set(record.address, (owedTo.get(record.address) ?? 0n) + BigInt(record.amount));
    }
    const payoutOwed = [...owedTo.values()].reduce((sum, a) => sum + a, 0n);
    assert.equal(payoutOwed, BigInt(campaign.payoutOwed), 'owed payouts sum to payoutOwed');
    assert.deepEqual(
      campaignStatement(node.store, campaign.id)!.owedPayouts.map((o) => [o.address, o.amount]),
      [...owedTo.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([a, n]) => [a, String(n)]),
      'the statement lists every payee owed',
    );
    const unreleased = campaign.releaseBlocked ? BigInt(campaign.principal!) : 0n;
    const held = campaign.status === 'succeeded' ? 0n : BigInt(campaign.raised);
    assert.equal(
      balance(node, campaign.escrow),
      held + BigInt(campaign.owed) + BigInt(campaign.payoutOwed) + unreleased,
      `escrow of ${campaign.id}`,
    );
  }
}

function terms(node: Node, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'The Long Take',
    asset: 'USD',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: node.chain.height() + 13 },
    cancelWindow: 3,
    earlyClose: false,
    platformFee: { basisPoints: 500, to: feeAccount.address },
    reporters: [reporter.address],
    distribution: issueExample,
    ...overrides,
  };
}

function create(node: Node, overrides: Record<string, unknown> = {}): string {
  const created = node.tx(producer, 'campaign.create', terms(node, overrides));
  assert.deepEqual(node.statuses([created]), ['ok']);
  return campaignIdOf(created.hash);
}

function invest(
  node: Node,
  id: string,
  amounts: (readonly [TestAccount, bigint | number])[],
): string[] {
  const offsets = new Map<string, number>();
  return node.statuses(
    amounts.map(([who, amount]) =>
      node.tx(who, 'campaign.invest', { campaignId: id, amount: amount.toString() }, offsets),
    ),
  );
}

let reports = 0;
function report(node: Node, id: string, gross: bigint | number, reportId?: string): DecodedTx {
  reports += 1;
  return node.tx(reporter, 'campaign.reportRevenue', {
    campaignId: id,
    reportId: reportId ?? `box-office-${reports}`,
    periodStart: genesisTime,
    periodEnd: genesisTime + 7 * 86_400_000,
    grossRevenue: gross.toString(),
  });
}

const types = (events: ChainEvent[]) => events.map((e) => e.type);

describe('campaign.create', () => {
  it('records the terms, the producer, the escrow and an empty position', () => {
    const node = newChain();
    const created = node.tx(producer, 'campaign.create', terms(node));
    const block = node.produce([created]);
    assert.equal(block.receipts[0]!.status, 'ok');
    const id = campaignIdOf(created.hash);
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.producer, producer.address);
    assert.equal(campaign.escrow, campaignEscrow(id));
    assert.equal(campaign.status, 'funding');
    assert.deepEqual(campaign.deadline, { height: 13 });
    assert.deepEqual(campaign.distribution, issueExample);
    assert.deepEqual(types(block.receipts[0]!.events), ['campaign.created']);
  });

  it('rejects bad payloads at admission, naming the rule', () => {
    const node = newChain();
    const base = terms(node);
    const cases: [Record<string, unknown>, string][] = [
      [{ title: '' }, 'invalid_title'],
      [{ asset: 'usd' }, 'invalid_symbol'],
      [{ target: '0' }, 'invalid_amount'],
      [{ minInvestment: '1.5' }, 'invalid_amount'],
      [{ deadline: { height: 0 } }, 'invalid_schedule_point'],
      [{ deadline: { height: 5, time: 5 } }, 'invalid_schedule_point'],
      [{ opensAt: { day: 5 } }, 'invalid_schedule_point'],
      [{ cancelWindow: -1 }, 'invalid_cancel_window'],
      [{ earlyClose: 'yes' }, 'invalid_early_close'],
      [{ platformFee: { basisPoints: 0, to: feeAccount.address } }, 'invalid_platform_fee'],
      [{ platformFee: { basisPoints: 10_001, to: feeAccount.address } }, 'invalid_platform_fee'],
      [{ reporters: [] }, 'invalid_reporters'],
      [{ reporters: [reporter.address, reporter.address] }, 'invalid_reporters'],
      [{ reporters: crowd.slice(0, 11).map((a) => a.address) }, 'invalid_reporters'],
      [{ distribution: { tranches: [] } }, 'invalid_tranche_count'],
      [{ minInvestment: '2000', maxInvestment: '1000' }, 'invalid_investment_limits'],
      [{ extra: true }, 'unknown_field'],
    ];
    for (const [override, code] of cases) {
      assert.equal(harness.parseStatus('campaign.create', { ...base, ...override }), code, code);
    }
    assert.equal(harness.parseStatus('campaign.create', base), undefined);
  });

  it('checks the schedule and the asset against the chain', () => {
    const node = newChain();
    node.until(5);
    const at = (overrides: Record<string, unknown>) =>
      node.run(producer, 'campaign.create', terms(node, overrides));
    assert.equal(at({ asset: 'EUR' }), 'asset_not_found');
    const h = node.chain.height();
    assert.equal(at({ deadline: { time: genesisTime + 10 ** 8 } }), 'invalid_schedule', 'clocks');
    assert.equal(at({ deadline: { height: h + 1 } }), 'invalid_schedule', 'deadline reached');
    assert.equal(at({ opensAt: { height: h + 20 } }), 'invalid_schedule', 'opens after');
    assert.equal(at({ deadline: { height: h + 10_000_100 } }), 'invalid_schedule', 'too far');
    assert.equal(at({ cancelWindow: h + 50 }), 'invalid_schedule', 'window past the start');
    assert.equal(getCampaign(node.store, 'x'), undefined);
    assert.deepEqual([...node.store.scan('crowdfund/')], [], 'nothing written');
  });
});

describe('investing and cancelling', () => {
  it('moves funds to escrow within [min, max] per investor, from opensAt until the deadline', () => {
    const node = newChain();
    const id = create(node, { opensAt: { height: 3 } });
    const escrow = campaignEscrow(id);
    const before = snapshot(node);
    assert.deepEqual(invest(node, id, [[ann, 5000]]), ['campaign_not_open']);
    assert.deepEqual(snapshot(node), before, 'a rejected tx changes nothing');
    assert.deepEqual(
      invest(node, id, [
        [ann, 999],
        [ben, 100_001],
        [ann, 60_000],
        [ann, 40_001],
        [ben, 2_000_000],
      ]),
      [
        'investment_below_minimum',
        'investment_above_maximum',
        'ok',
        'investment_above_maximum',
        'investment_above_maximum',
      ],
    );
    assert.deepEqual(invest(node, id, [[ann, 1]]), ['ok'], 'a top-up only needs 1 unit');
    assert.equal(balance(node, escrow), 60_001n);
    assert.equal(balance(node, ann), startingBalance - 60_001n);
    assert.equal(getCampaign(node.store, id)!.raised, '60001');
    const position = investorPosition(node.store, id, ann.address)!;
    assert.equal(position.principal, '60001');
    assert.equal(position.invested, '60001');
    assert.equal(
      harness.parseStatus('campaign.invest', { campaignId: id, amount: '0' }),
      'invalid_amount',
    );
    assert.equal(
      node.run(ann, 'campaign.invest', { campaignId: '0123456789abcdef', amount: '5' }),
      'campaign_not_found',
    );
    audit(node);
  });

  it('cancellation refunds the whole total until the window before the deadline', () => {
    const node = newChain();
    const id = create(node); // deadline at height 13, cancel window 3: cancel until height 9
    invest(node, id, [
      [ann, 30_000],
      [ben, 20_000],
    ]);
    invest(node, id, [[ann, 5_000]]);
    assert.equal(
      node.run(cat, 'campaign.cancelInvestment', { campaignId: id }),
      'position_not_found',
    );
    const block = node.produce([node.tx(ann, 'campaign.cancelInvestment', { campaignId: id })]);
    assert.equal(block.receipts[0]!.status, 'ok');
    assert.ok(types(block.receipts[0]!.events).includes('campaign.investmentCancelled'));
    assert.equal(balance(node, ann), startingBalance, 'refunded to the unit');
    assert.deepEqual(listInvestors(node.store, id), [ben.address]);
    assert.equal(investorPosition(node.store, id, ann.address)!.refunded, '35000');
    node.until(10); // the block at height 10 is inside the window
    const before = snapshot(node);
    assert.equal(
      node.run(ben, 'campaign.cancelInvestment', { campaignId: id }),
      'cancel_window_closed',
    );
    assert.deepEqual(snapshot(node), before);
    assert.equal(balance(node, campaignEscrow(id)), 20_000n);
    audit(node);
  });

  it('a cancellation just before the window opens is accepted', () => {
    const node = newChain();
    const id = create(node);
    invest(node, id, [[ann, 30_000]]);
    node.until(9);
    assert.equal(node.run(ann, 'campaign.cancelInvestment', { campaignId: id }), 'ok');
  });
});

describe('the outcome at the deadline, with no tx from anyone', () => {
  it('a missed target refunds every investor exactly at the deadline block', () => {
    const node = newChain();
    const id = create(node);
    invest(node, id, [
      [ann, 30_000],
      [ben, 20_000],
    ]);
    invest(node, id, [[ann, 7_777]]);
    node.until(13);
    assert.equal(getCampaign(node.store, id)!.status, 'funding', 'not before the deadline');
    const block = node.produce([]);
    assert.equal(block.block.header.height, 13);
    assert.equal(getCampaign(node.store, id)!.status, 'failed');
    assert.deepEqual(
      types(block.blockEvents).filter((t) => t.startsWith('campaign.')),
      ['campaign.failed', 'campaign.refunded', 'campaign.refunded'],
    );
    for (const who of investors) assert.equal(balance(node, who), startingBalance);
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    assert.equal(investorPosition(node.store, id, ann.address)!.refunded, '37777');
    assert.equal(
      node.run(ann, 'campaign.invest', { campaignId: id, amount: '5000' }),
      'campaign_not_funding',
    );
    audit(node);
  });

  it('a deadline in block time closes at the first block at or past it', () => {
    const node = newChain();
    const deadline = genesisTime + 60_000;
    const id = create(node, { opensAt: { time: genesisTime }, deadline: { time: deadline } });
    invest(node, id, [[ann, 100_000]]);
    node.produce([], deadline - 1);
    assert.equal(getCampaign(node.store, id)!.status, 'funding');
    node.produce([], deadline + 5_000);
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.status, 'succeeded');
    assert.equal(campaign.fee, '5000');
    assert.equal(balance(node, producer), startingBalance + 95_000n);
    assert.equal(balance(node, feeAccount), 5_000n);
    audit(node);
  });

  it('a reached target releases the escrow less the platform fee; early close when allowed', () => {
    const node = newChain();
    const late = create(node);
    const early = create(node, { earlyClose: true });
    invest(node, late, [
      [ann, 60_000],
      [ben, 40_000],
    ]);
    assert.equal(getCampaign(node.store, late)!.status, 'funding', 'no early close by default');
    const receipts = node.produce([
      node.tx(cat, 'campaign.invest', { campaignId: early, amount: '100000' }),
    ]).receipts;
    assert.ok(types(receipts[0]!.events).includes('campaign.succeeded'));
    assert.equal(getCampaign(node.store, early)!.status, 'succeeded');
    assert.equal(
      node.run(dan, 'campaign.invest', { campaignId: early, amount: '5000' }),
      'campaign_not_funding',
    );
    node.until(14);
    assert.equal(getCampaign(node.store, late)!.status, 'succeeded');
    // Two releases of 95,000 and two fees of 5,000.
    assert.equal(balance(node, producer), startingBalance + 190_000n);
    assert.equal(balance(node, feeAccount), 10_000n);
    assert.equal(balance(node, campaignEscrow(late)), 0n);
    audit(node);
  });

  it(`carries refunds past ${refundsPerBlockMax} per block over to the next block`, () => {
    const node = newChain();
    const id = create(node, { minInvestment: '1000', target: '100000000' });
    const statuses = invest(
      node,
      id,
      crowd.map((a) => [a, 1000] as [TestAccount, number]),
    );
    assert.ok(statuses.every((s) => s === 'ok'));
    node.until(13);
    const first = node.produce([]);
    assert.equal(first.blockEvents.filter((e) => e.type === 'campaign.refunded').length, 250);
    assert.equal(getCampaign(node.store, id)!.status, 'refunding');
    assert.equal(listInvestors(node.store, id).length, crowd.length - refundsPerBlockMax);
    const refundedFirst = crowd.filter((a) => balance(node, a) === 1000n).length;
    assert.equal(refundedFirst, refundsPerBlockMax);
    audit(node);
    const second = node.produce([]);
    assert.equal(second.blockEvents.filter((e) => e.type === 'campaign.refunded').length, 1);
    assert.equal(getCampaign(node.store, id)!.status, 'failed');
    assert.ok(
      crowd.every((a) => balance(node, a) === 1000n),
      'every investor refunded',
    );
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    audit(node);
  });

  it('a frozen investor is owed its refund and claims it once unfrozen', () => {
    const node = newChain();
    const id = create(node);
    invest(node, id, [
      [ann, 30_000],
      [ben, 20_000],
    ]);
    assert.equal(node.run(issuer, 'asset.freeze', { symbol: 'USD', account: ben.address }), 'ok');
    node.until(14);
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.status, 'failed');
    assert.equal(campaign.owed, '20000');
    assert.equal(investorPosition(node.store, id, ben.address)!.owed, '20000');
    assert.equal(node.run(ben, 'campaign.claim', { campaignId: id }), 'account_frozen');
    assert.equal(node.run(ann, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    node.run(issuer, 'asset.unfreeze', { symbol: 'USD', account: ben.address });
    assert.equal(node.run(ben, 'campaign.claim', { campaignId: id }), 'ok');
    assert.equal(balance(node, ben), startingBalance);
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    audit(node);
  });
});

describe('frozen accounts never stop a block', () => {
  it('a frozen producer or escrow defers the release until the producer claims it', () => {
    const node = newChain();
    const id = create(node);
    invest(node, id, [[ann, 100_000]]);
    for (const address of [producer.address, campaignEscrow(id)]) {
      assert.equal(node.run(issuer, 'asset.freeze', { symbol: 'USD', account: address }), 'ok');
    }
    node.until(14);
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.status, 'succeeded');
    assert.equal(campaign.releaseBlocked, true);
    assert.equal(balance(node, campaignEscrow(id)), 100_000n);
    assert.equal(node.run(producer, 'campaign.claim', { campaignId: id }), 'account_frozen');
    assert.equal(node.run(ann, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    node.run(issuer, 'asset.unfreeze', { symbol: 'USD', account: producer.address });
    assert.equal(node.run(producer, 'campaign.claim', { campaignId: id }), 'account_frozen');
    node.run(issuer, 'asset.unfreeze', { symbol: 'USD', account: campaignEscrow(id) });
    assert.equal(node.run(producer, 'campaign.claim', { campaignId: id }), 'ok');
    assert.equal(balance(node, producer), startingBalance + 95_000n);
    assert.equal(balance(node, feeAccount), 5_000n);
    assert.equal(getCampaign(node.store, id)!.releaseBlocked, false);
    assert.equal(node.run(producer, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    audit(node);
  });
});

describe('amendments and reconfirmation', () => {
  it('only the producer amends; before any investment the amendment applies at once', () => {
    const node = newChain();
    const id = create(node);
    const amend = { campaignId: id, terms: { target: '50000', title: 'The Longer Take' } };
    assert.equal(node.run(outsider, 'campaign.amend', amend), 'not_producer');
    assert.equal(node.run(producer, 'campaign.amend', amend), 'ok');
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.target, '50000');
    assert.equal(campaign.title, 'The Longer Take');
    assert.equal(campaign.reconfirmation, null);
    assert.equal(
      harness.parseStatus('campaign.amend', { campaignId: id, terms: {} }),
      'invalid_amendment',
    );
    assert.equal(
      harness.parseStatus('campaign.amend', { campaignId: id, terms: { target: '-1' } }),
      'invalid_amount',
    );
    const escrowFee = { platformFee: { basisPoints: 100, to: campaignEscrow(id) } };
    assert.equal(
      node.run(producer, 'campaign.amend', { campaignId: id, terms: escrowFee }),
      'invalid_recipient',
    );
  });

  it('an amended deadline moves the outcome; the old point passes without effect', () => {
    const node = newChain();
    const id = create(node); // deadline at height 13
    assert.equal(
      node.run(producer, 'campaign.amend', {
        campaignId: id,
        terms: { deadline: { height: 16 } },
      }),
      'ok',
    );
    invest(node, id, [[ann, 30_000]]);
    node.until(14);
    assert.equal(getCampaign(node.store, id)!.status, 'funding', 'height 13 is no longer due');
    assert.equal(node.run(ann, 'campaign.invest', { campaignId: id, amount: '1000' }), 'ok');
    node.until(16);
    const block = node.produce([]);
    assert.equal(block.block.header.height, 16);
    assert.equal(getCampaign(node.store, id)!.status, 'failed');
    assert.equal(balance(node, ann), startingBalance);
    assert.deepEqual([...node.store.scan('crowdfund/due/')], [], 'the index is empty');
    audit(node);
  });

  it('after the first investment, investors must reconfirm; those who do not are refunded', () => {
    const node = newChain();
    const id = create(node, { deadline: { height: 30 } });
    invest(node, id, [
      [ann, 30_000],
      [ben, 20_000],
      [cat, 10_000],
    ]);
    const amend = (extra: Record<string, unknown>) =>
      node.run(producer, 'campaign.amend', {
        campaignId: id,
        terms: { minInvestment: '15000' },
        ...extra,
      });
    assert.equal(amend({}), 'invalid_reconfirm_by', 'required once anyone invested');
    assert.equal(amend({ reconfirmBy: { height: 31 } }), 'invalid_reconfirm_by', 'after deadline');
    assert.equal(amend({ reconfirmBy: { time: genesisTime + 10 ** 6 } }), 'invalid_reconfirm_by');
    assert.equal(amend({ reconfirmBy: { height: 12 } }), 'ok');
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.minInvestment, '15000', 'the amended terms apply');
    assert.deepEqual(campaign.reconfirmation, { version: 1, by: { height: 12 }, pending: 3 });
    assert.equal(investorPosition(node.store, id, ann.address)!.reconfirmation, 'pending');
    assert.equal(amend({ reconfirmBy: { height: 14 } }), 'reconfirmation_open');

    assert.equal(node.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.equal(investorPosition(node.store, id, ann.address)!.reconfirmation, 'confirmed');
    assert.equal(node.run(ann, 'campaign.reconfirm', { campaignId: id }), 'nothing_to_reconfirm');
    assert.equal(
      node.run(cat, 'campaign.reconfirm', { campaignId: id }),
      'position_outside_terms',
      '10,000 is below the new minimum',
    );
    assert.equal(node.run(dan, 'campaign.reconfirm', { campaignId: id }), 'position_not_found');
    node.until(12);
    const block = node.produce([]); // height 12: ben and cat did not reconfirm
    assert.deepEqual(
      block.blockEvents.filter((e) => e.type === 'campaign.refunded').map((e) => e.data.investor),
      [ben.address, cat.address].sort(),
    );
    assert.equal(balance(node, ben), startingBalance);
    assert.equal(balance(node, cat), startingBalance);
    const after = getCampaign(node.store, id)!;
    assert.equal(after.reconfirmation, null);
    assert.equal(after.raised, '30000');
    assert.deepEqual(listInvestors(node.store, id), [ann.address]);
    assert.equal(node.run(ben, 'campaign.reconfirm', { campaignId: id }), 'position_not_found');
    audit(node);
  });

  it('the outcome waits until every investor who did not reconfirm is refunded', () => {
    const node = newChain();
    const deadline = genesisTime + 1_000_000;
    const id = create(node, {
      opensAt: { time: genesisTime },
      deadline: { time: deadline },
      cancelWindow: 0,
      target: '1000',
    });
    assert.ok(
      invest(
        node,
        id,
        crowd.map((a) => [a, 1000] as const),
      ).every((s) => s === 'ok'),
    );
    const amend = {
      campaignId: id,
      terms: { title: 'Renamed' },
      reconfirmBy: { time: deadline - 1 },
    };
    assert.equal(node.run(producer, 'campaign.amend', amend), 'ok');
    // One block past both points: the sweep refunds 250 and the outcome waits for the last.
    const first = node.produce([], deadline + 1);
    assert.equal(first.blockEvents.filter((e) => e.type === 'campaign.refunded').length, 250);
    assert.equal(getCampaign(node.store, id)!.status, 'funding');
    node.produce([]);
    const campaign = getCampaign(node.store, id)!;
    assert.equal(campaign.status, 'failed', 'nobody reconfirmed, so nothing was raised');
    assert.equal(balance(node, producer), startingBalance, 'no release of refundable money');
    assert.ok(crowd.every((a) => balance(node, a) === 1000n));
    audit(node);
  });

  it('investing again within the new limits reconfirms; a lower target may close early', () => {
    const node = newChain();
    const id = create(node, { earlyClose: true, deadline: { height: 40 } });
    invest(node, id, [
      [ann, 30_000],
      [ben, 20_000],
    ]);
    assert.equal(
      node.run(producer, 'campaign.amend', {
        campaignId: id,
        terms: { target: '55000', minInvestment: '25000' },
        reconfirmBy: { height: 20 },
      }),
      'ok',
    );
    assert.equal(node.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    // cat takes the total to the target, but ben has not reconfirmed: no early close yet.
    assert.equal(node.run(cat, 'campaign.invest', { campaignId: id, amount: '25000' }), 'ok');
    assert.equal(getCampaign(node.store, id)!.raised, '75000');
    assert.equal(getCampaign(node.store, id)!.status, 'funding', 'ben has not reconfirmed');
    assert.equal(investorPosition(node.store, id, cat.address)!.reconfirmation, 'confirmed');
    const receipts = node.produce([
      node.tx(ben, 'campaign.invest', { campaignId: id, amount: '5000' }),
    ]).receipts;
    assert.deepEqual(
      types(receipts[0]!.events).filter((t) => t.startsWith('campaign.')),
      ['campaign.invested', 'campaign.reconfirmed', 'campaign.succeeded'],
    );
    assert.equal(getCampaign(node.store, id)!.principal, '80000');
    audit(node);
  });
});

describe('revenue reports and payouts', () => {
  /** A campaign funded 60,000 by ann and 40,000 by ben, succeeded at height 13. */
  function funded(node: Node): string {
    const id = create(node);
    invest(node, id, [
      [ann, 60_000],
      [ben, 40_000],
    ]);
    node.until((getCampaign(node.store, id)!.deadline as { height: number }).height + 1);
    assert.equal(getCampaign(node.store, id)!.status, 'succeeded');
    return id;
  }

  it('only an authorised reporter of a succeeded campaign reports', () => {
    const node = newChain();
    const pending = create(node);
    assert.equal(node.statuses([report(node, pending, 1000)])[0], 'campaign_not_succeeded');
    // The target reached, the deadline ahead: the rejection says the campaign has not closed.
    const reached = create(node);
    assert.deepEqual(invest(node, reached, [[ann, 100_000]]), ['ok']);
    assert.equal(getCampaign(node.store, reached)!.status, 'funding');
    const before = snapshot(node);
    assert.equal(node.statuses([report(node, reached, 1000)])[0], 'campaign_not_closed');
    assert.deepEqual(snapshot(node), before);
    node.until((getCampaign(node.store, reached)!.deadline as { height: number }).height + 1);
    assert.equal(getCampaign(node.store, reached)!.status, 'succeeded');
    assert.equal(node.statuses([report(node, reached, 1000)])[0], 'ok');
    const id = funded(node);
    const forged = node.tx(outsider, 'campaign.reportRevenue', {
      campaignId: id,
      reportId: 'forged',
      periodStart: 0,
      periodEnd: 1,
      grossRevenue: '1000',
    });
    const beforeForged = snapshot(node);
    assert.deepEqual(node.statuses([forged]), ['not_reporter']);
    assert.deepEqual(snapshot(node), beforeForged);
    assert.equal(
      harness.parseStatus('campaign.reportRevenue', {
        campaignId: id,
        reportId: 'r',
        periodStart: 5,
        periodEnd: 5,
        grossRevenue: '1',
      }),
      'invalid_period',
    );
    assert.equal(
      harness.parseStatus('campaign.reportRevenue', {
        campaignId: id,
        reportId: 'has space',
        periodStart: 1,
        periodEnd: 5,
        grossRevenue: '1',
      }),
      'invalid_report_id',
    );
  });

  it('end to end: one campaign fails and refunds; one succeeds and pays two reports out', () => {
    const node = newChain();
    const doomed = create(node);
    assert.deepEqual(invest(node, doomed, [[cat, 99_999]]), ['ok']);
    const id = funded(node);
    const lost = getCampaign(node.store, doomed)!;
    assert.equal(lost.status, 'failed', 'one unit short of the target');
    assert.equal(balance(node, cat), startingBalance, 'refunded exactly');
    assert.equal(balance(node, campaignEscrow(doomed)), 0n);
    assert.equal(node.statuses([report(node, doomed, 1_000)])[0], 'campaign_not_succeeded');
    const preview = simulateCampaign(node.store, id, 100_000n);
    assert.ok(typeof preview === 'object');
    const first = node.produce([report(node, id, 100_000, 'week-1')]);
    assert.equal(first.receipts[0]!.status, 'ok');
    // Report 1: 30,000 to the distributor; 70,000 recouped 42,000 / 28,000.
    assert.equal(balance(node, distributor), 30_000n);
    assert.equal(balance(node, ann), startingBalance - 60_000n + 42_000n);
    assert.equal(balance(node, ben), startingBalance - 40_000n + 28_000n);
    assert.deepEqual(
      preview.transfers,
      first.receipts[0]!.events.filter((e) => e.type === 'campaign.paidOut').map((e) => ({
        address: e.data.address,
        amount: e.data.amount,
      })),
      'the simulation is what the report paid',
    );
    node.produce([report(node, id, 150_000, 'week-2')]);
    // Report 2: +45,000 fee; +30,000 recoup; 20,000 premium; 55,000 split 50/50.
    assert.equal(balance(node, distributor), 75_000n);
    assert.equal(balance(node, ann), startingBalance - 60_000n + 42_000n + 46_500n);
    assert.equal(balance(node, ben), startingBalance - 40_000n + 28_000n + 31_000n);
    assert.equal(balance(node, producer), startingBalance + 95_000n + 27_500n);
    assert.equal(balance(node, reporter), reporterBalance - 250_000n);
    assert.equal(balance(node, campaignEscrow(id)), 0n);

    const position = investorPosition(node.store, id, ann.address)!;
    assert.equal(position.paidOut, '88500');
    assert.equal(position.net, '28500');
    assert.deepEqual(
      position.paidOutByTranche.map((t) => t.amount),
      ['0', '60000', '12000', '16500'],
    );
    assert.deepEqual(
      position.payouts.map((p) => [p.reportId, p.total, p.tranches.map((t) => t.amount)]),
      [
        ['week-1', '42000', ['42000']],
        ['week-2', '46500', ['18000', '12000', '16500']],
      ],
    );
    const statement = campaignStatement(node.store, id)!;
    assert.deepEqual(
      statement.reports.map((r) => [r.cumulativeRevenue, r.tranches.map((t) => t.fill)]),
      [
        ['100000', ['30000', '70000', '0', '0']],
        ['250000', ['75000', '100000', '20000', '55000']],
      ],
    );
    assert.deepEqual(
      statement.tranches.map((t) => t.capRemaining),
      [null, '0', '0', null],
    );
    // The position now: each tranche's fill, and what the latest report (week-2) gave it.
    assert.deepEqual(
      statement.tranches.map((t) => [t.fill, t.amount]),
      statement.reports[1]!.tranches.map((t) => [t.fill, t.amount]),
    );
    assert.notDeepEqual(
      statement.tranches.map((t) => t.amount),
      ['0', '0', '0', '0'],
    );
    const chart = campaignChart(node.store, id)!;
    assert.deepEqual(
      chart.trancheNames,
      issueExample.tranches.map((t) => t.name),
    );
    assert.deepEqual(
      chart.series.map((p) => [p.cumulativeRevenue, p.classes]),
      [
        ['100000', { investors: '70000', producer: '0', accounts: '30000' }],
        ['250000', { investors: '147500', producer: '27500', accounts: '75000' }],
      ],
    );
    audit(node);
  });

  it('a report applied twice is rejected the second time and changes nothing', () => {
    const node = newChain();
    const id = funded(node);
    assert.deepEqual(node.statuses([report(node, id, 12_345, 'dup')]), ['ok']);
    const before = snapshot(node);
    assert.deepEqual(node.statuses([report(node, id, 12_345, 'dup')]), ['duplicate_report']);
    assert.deepEqual(snapshot(node), before);
    assert.equal(getCampaign(node.store, id)!.reportCount, 1);
  });

  it('a report the reporter cannot fund is rejected whole', () => {
    const node = newChain();
    const id = funded(node);
    const before = snapshot(node);
    assert.deepEqual(node.statuses([report(node, id, reporterBalance + 1n)]), [
      'insufficient_funds',
    ]);
    assert.deepEqual(snapshot(node), before);
  });
});

describe('a frozen recipient never stops a revenue report', () => {
  /** Ann and Ben invest 50,000 each; the campaign closes early (fee 5,000, released 95,000). */
  function halves(node: Node): string {
    const id = create(node, { earlyClose: true });
    invest(node, id, [
      [ann, 50_000],
      [ben, 50_000],
    ]);
    assert.equal(getCampaign(node.store, id)!.status, 'succeeded');
    return id;
  }
  const freeze = (node: Node, who: string) =>
    assert.equal(node.run(issuer, 'asset.freeze', { symbol: 'USD', account: who }), 'ok');
  const unfreeze = (node: Node, who: string) =>
    assert.equal(node.run(issuer, 'asset.unfreeze', { symbol: 'USD', account: who }), 'ok');
  const claim = (node: Node, who: TestAccount, id: string) =>
    node.run(who, 'campaign.claim', { campaignId: id });

  // 500,000: 150,000 to the distributor; 100,000 recouped; 20,000 premium; 230,000 split 50/50.
  // Ann and Ben are due 50,000 + 10,000 + 57,500 = 117,500 each, the producer 115,000.
  const due = 117_500n;

  it('a frozen investor: the others are paid exactly, its share stays owed until it claims', () => {
    const node = newChain();
    const id = halves(node);
    freeze(node, ann.address);
    const annBefore = balance(node, ann);
    const block = node.produce([report(node, id, 500_000, 'week-1')]);
    const receipt = block.receipts[0]!;
    assert.equal(receipt.status, 'ok');
    assert.equal(balance(node, ann), annBefore, 'nothing reached the frozen account');
    assert.equal(balance(node, ben), startingBalance - 50_000n + due);
    assert.equal(balance(node, distributor), 150_000n);
    assert.equal(balance(node, producer), startingBalance + 95_000n + 115_000n);
    assert.equal(balance(node, campaignEscrow(id)), due, 'the escrow holds what Ann is owed');
    const blocked = receipt.events.filter((e) => e.type === 'campaign.payoutBlocked');
    assert.deepEqual(
      blocked.map((e) => [e.data.address, e.data.amount, e.data.code]),
      [[ann.address, String(due), 'account_frozen']],
    );
    assert.ok(
      !receipt.events.some((e) => e.type === 'campaign.paidOut' && e.data.address === ann.address),
    );
    assert.equal(getCampaign(node.store, id)!.payoutOwed, String(due));

    const position = investorPosition(node.store, id, ann.address)!;
    assert.equal(position.paidOut, '0');
    assert.equal(position.payoutOwed, String(due));
    assert.deepEqual(
      position.payoutOwedByTranche.map((t) => t.amount),
      ['0', '50000', '10000', '57500'],
    );
    assert.deepEqual(
      position.payouts.map((p) => [p.reportId, p.total, p.blocked]),
      [['week-1', String(due), true]],
    );
    assert.equal(investorPosition(node.store, id, ben.address)!.payouts[0]!.blocked, false);
    const statement = campaignStatement(node.store, id)!;
    const entry = statement.reports[0]!;
    assert.deepEqual(entry.byClass, {
      investors: '235000',
      producer: '115000',
      accounts: '150000',
    });
    assert.equal(entry.paid, String(500_000n - due));
    assert.equal(entry.blocked, String(due));
    assert.deepEqual(entry.blockedByClass, {
      investors: String(due),
      producer: '0',
      accounts: '0',
    });
    assert.equal(statement.payoutsOwed, String(due));
    assert.deepEqual(statement.owedPayouts, [
      { address: ann.address, amount: String(due), investor: String(due), other: '0' },
    ]);
    audit(node);

    const before = snapshot(node);
    assert.equal(claim(node, ann, id), 'account_frozen', 'refused while frozen');
    assert.deepEqual(snapshot(node), before);
    assert.equal(claim(node, ben, id), 'nothing_to_claim');
    unfreeze(node, ann.address);
    const claimed = node.produce([node.tx(ann, 'campaign.claim', { campaignId: id })]);
    assert.equal(claimed.receipts[0]!.status, 'ok');
    assert.deepEqual(
      claimed.receipts[0]!.events.filter((e) => e.type.startsWith('campaign.')).map((e) => [
        e.type,
        e.data.amount,
      ]),
      [['campaign.payoutClaimed', String(due)]],
    );
    assert.equal(balance(node, ann), annBefore + due, 'paid to the unit');
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    const after = investorPosition(node.store, id, ann.address)!;
    assert.equal(after.paidOut, String(due));
    assert.equal(after.payoutOwed, '0');
    assert.deepEqual(
      after.paidOutByTranche.map((t) => t.amount),
      ['0', '50000', '10000', '57500'],
    );
    assert.deepEqual(campaignStatement(node.store, id)!.owedPayouts, []);
    assert.equal(claim(node, ann, id), 'nothing_to_claim', 'claimed once');
    audit(node);
  });

  it('a frozen producer and distributor are owed across reports and claim what they are owed', () => {
    const node = newChain();
    const id = halves(node);
    freeze(node, producer.address);
    freeze(node, distributor.address);
    const producerBefore = balance(node, producer);
    assert.deepEqual(node.statuses([report(node, id, 100_000, 'week-1')]), ['ok']);
    assert.deepEqual(node.statuses([report(node, id, 400_000, 'week-2')]), ['ok']);
    // The two reports cover the same 500,000: the same totals as one report.
    assert.equal(balance(node, ann), startingBalance - 50_000n + due);
    assert.equal(balance(node, ben), startingBalance - 50_000n + due);
    assert.equal(balance(node, producer), producerBefore);
    assert.equal(balance(node, distributor), 0n);
    assert.equal(balance(node, campaignEscrow(id)), 265_000n);
    const statement = campaignStatement(node.store, id)!;
    assert.deepEqual(
      statement.owedPayouts.map((o) => [o.address, o.amount]).sort(),
      [
        [distributor.address, '150000'],
        [producer.address, '115000'],
      ].sort(),
    );
    assert.deepEqual(
      statement.reports.map((r) => [r.paid, r.blocked]),
      [
        ['70000', '30000'],
        ['165000', '235000'],
      ],
    );
    assert.ok(statement.reports[1]!.lines.every((l) => l.blocked === true));
    audit(node);
    assert.equal(claim(node, distributor, id), 'account_frozen');
    unfreeze(node, distributor.address);
    assert.equal(claim(node, distributor, id), 'ok');
    assert.equal(balance(node, distributor), 150_000n);
    assert.equal(claim(node, producer, id), 'account_frozen');
    unfreeze(node, producer.address);
    assert.equal(claim(node, producer, id), 'ok');
    assert.equal(balance(node, producer), producerBefore + 115_000n);
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    assert.equal(getCampaign(node.store, id)!.payoutOwed, '0');
    audit(node);
  });

  it('a claim pays the producer its payouts while its release waits on a frozen fee account', () => {
    const node = newChain();
    const id = create(node, { earlyClose: true });
    freeze(node, feeAccount.address);
    invest(node, id, [
      [ann, 50_000],
      [ben, 50_000],
    ]);
    assert.equal(getCampaign(node.store, id)!.releaseBlocked, true);
    freeze(node, producer.address);
    assert.deepEqual(node.statuses([report(node, id, 500_000)]), ['ok']);
    unfreeze(node, producer.address);
    audit(node);
    const block = node.produce([node.tx(producer, 'campaign.claim', { campaignId: id })]);
    assert.equal(block.receipts[0]!.status, 'ok');
    assert.deepEqual(
      types(block.receipts[0]!.events).filter((t) => t.startsWith('campaign.')),
      ['campaign.payoutClaimed'],
    );
    assert.equal(balance(node, producer), startingBalance + 115_000n);
    assert.equal(getCampaign(node.store, id)!.releaseBlocked, true, 'the release still waits');
    assert.equal(claim(node, producer, id), 'account_frozen', 'only the release is left');
    audit(node);
    unfreeze(node, feeAccount.address);
    assert.equal(claim(node, producer, id), 'ok');
    assert.equal(balance(node, producer), startingBalance + 115_000n + 95_000n);
    assert.equal(balance(node, feeAccount), 5_000n);
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    audit(node);
  });

  it('a frozen escrow refuses the report whole; the same report goes through after', () => {
    const node = newChain();
    const id = halves(node);
    freeze(node, campaignEscrow(id));
    const before = snapshot(node);
    assert.deepEqual(node.statuses([report(node, id, 500_000, 'week-1')]), ['account_frozen']);
    assert.deepEqual(snapshot(node), before, 'nothing moved, nothing recorded');
    unfreeze(node, campaignEscrow(id));
    assert.deepEqual(node.statuses([report(node, id, 500_000, 'week-1')]), ['ok']);
    assert.equal(balance(node, ann), startingBalance - 50_000n + due);
    assert.equal(balance(node, campaignEscrow(id)), 0n);
    audit(node);
  });

  it('an investor who is also a fixed account is owed both shares and claims them at once', () => {
    const node = newChain();
    const rule: DistributionRule = {
      tranches: [
        {
          name: 'fee',
          shareBasisPoints: 1_000,
          recipients: [{ kind: 'account', address: ann.address, weightBasisPoints: 10_000 }],
        },
        {
          name: 'rest',
          shareBasisPoints: 10_000,
          recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
        },
      ],
    };
    const id = create(node, { earlyClose: true, distribution: rule });
    invest(node, id, [
      [ann, 50_000],
      [ben, 50_000],
    ]);
    freeze(node, ann.address);
    assert.deepEqual(node.statuses([report(node, id, 10_000)]), ['ok']);
    assert.deepEqual(campaignStatement(node.store, id)!.owedPayouts, [
      { address: ann.address, amount: '5500', investor: '4500', other: '1000' },
    ]);
    audit(node);
    unfreeze(node, ann.address);
    const annBefore = balance(node, ann);
    assert.equal(claim(node, ann, id), 'ok');
    assert.equal(balance(node, ann), annBefore + 5_500n);
    assert.equal(investorPosition(node.store, id, ann.address)!.paidOut, '4500');
    audit(node);
  });
});

describe('nobody withdraws escrow', () => {
  it('a transfer out of the escrow cannot be signed, and no tx type releases it', () => {
    const node = newChain();
    const id = create(node);
    invest(node, id, [[ann, 50_000]]);
    const escrow = campaignEscrow(id);
    // Whatever key signs it, a tx with the escrow as sender does not verify.
    for (const key of [outsider, producer]) {
      const forged = decodeTx(
        signTx(
          {
            chainId,
            type: 'ledger.transfer',
            sender: escrow,
            nonce: 0,
            payload: { to: key.address, asset: 'USD', amount: '50000' },
          },
          key.secretKey,
        ),
        chainId,
        registry.parserFor,
      );
      assert.ok(!isRejection(forged));
      assert.equal(
        verify(forged.signatureBytes, txSigningMessage(forged.hashBytes), forged.publicKey),
        false,
      );
    }
    assert.deepEqual(
      registry.txTypes().filter((t) => t.startsWith('campaign.')),
      [
        'campaign.amend',
        'campaign.cancelInvestment',
        'campaign.claim',
        'campaign.create',
        'campaign.invest',
        'campaign.reconfirm',
        'campaign.reportRevenue',
      ],
    );
    // The producer cannot claim before success, nor the investor another's position.
    assert.equal(node.run(producer, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    assert.equal(node.run(outsider, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    assert.equal(
      node.run(producer, 'campaign.cancelInvestment', { campaignId: id }),
      'position_not_found',
    );
    assert.equal(balance(node, escrow), 50_000n);
  });

  it('every rejection the module returns has a message', () => {
    const source = ['./txs.ts', './txs-revenue.ts', './settlement.ts']
      .map((file) => fs.readFileSync(new URL(file, import.meta.url), 'utf8'))
      .join('\n');
    // Every code is snake_case with at least one underscore ('done' and 'wait' are internal).
    const codes = [...source.matchAll(/return '([a-z]+_[a-z_]+)'/g)].map((m) => m[1]!);
    assert.ok(codes.length > 30);
    const ledger = ['account_frozen', 'asset_not_found'];
    for (const code of codes) {
      assert.ok(code in crowdfundRejections || ledger.includes(code), code);
    }
  });
});

/**
 * Random valid rules over ann..dan's campaign: up to 5 tranches, the last taking the rest. A fixed
 * account is the distributor, or Ann (an investor who is also paid as an account).
 */
const ruleArb: fc.Arbitrary<DistributionRule> = fc
  .array(
    fc.record({
      share: fc.integer({ min: 1, max: 9_999 }),
      cap: fc.option(
        fc.oneof(
          fc.integer({ min: 1, max: 30_000 }).map((p) => ({ principalBasisPoints: p })),
          fc.integer({ min: 1, max: 200_000 }).map((a) => ({ amount: a.toString() })),
        ),
        { nil: undefined },
      ),
      kinds: fc.uniqueArray(fc.constantFrom('investors', 'producer', 'account'), {
        minLength: 1,
        maxLength: 3,
      }),
      first: fc.integer({ min: 1, max: 9_998 }),
      account: fc.constantFrom(distributor.address, ann.address),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((specs) => ({
    tranches: specs.map((spec, index) => {
      const isLast = index === specs.length - 1;
      const n = spec.kinds.length;
      // Weights summing to 10000: the first gets `first` (or all), the others share the rest.
      const weights =
        n === 1
          ? [10_000]
          : [spec.first, ...Array.from({ length: n - 1 }, () => 0)].map((w, k) =>
              k === 0 ? w : 0,
            );
      if (n > 1) {
        const rest = 10_000 - spec.first;
        for (let k = 1; k < n; k++) weights[k] = Math.floor(rest / (n - 1));
        weights[1]! += rest - weights.slice(1).reduce((s, w) => s + w, 0);
      }
      const recipients = spec.kinds.map((kind, k) =>
        kind === 'account'
          ? { kind, address: spec.account, weightBasisPoints: weights[k]! }
          : { kind, weightBasisPoints: weights[k]! },
      );
      return {
        name: `tranche ${index}`,
        shareBasisPoints: isLast ? 10_000 : spec.share,
        ...(isLast || spec.cap === undefined ? {} : { cap: spec.cap }),
        recipients,
      };
    }),
  }));

const scenarioArb = fc.record({
  rule: ruleArb,
  investments: fc.array(
    fc.record({ who: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: 1, max: 50_000 }) }),
    { minLength: 1, maxLength: 6 },
  ),
  reachTarget: fc.boolean(),
  feeBasisPoints: fc.integer({ min: 0, max: 2_000 }),
  reports: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
  /** Accounts the issuer freezes before the deadline (indexes into `freezable`). */
  frozen: fc.subarray([0, 1, 2, 3, 4, 5, 6]),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** Who the issuer may freeze in a scenario: the investors, the producer and the payees. */
const freezable = [...investors, producer, distributor, feeAccount];

/**
 * Runs a scenario on a fresh chain. `spread`: each investment in its own block and all reports in
 * one; otherwise all investments in one block and each report in its own. `freeze`: the issuer
 * freezes `scenario.frozen` before the deadline and unfreezes them after the reports, and then
 * everyone claims what it is owed.
 */
function play(scenario: Scenario, spread: boolean, freeze = false) {
  const node = newChain();
  const total = scenario.investments.reduce((s, i) => s + i.amount, 0);
  const id = create(node, {
    target: String(scenario.reachTarget ? total : total + 1),
    minInvestment: '1',
    maxInvestment: '1000000',
    deadline: { height: 20 },
    platformFee:
      scenario.feeBasisPoints === 0
        ? null
        : { basisPoints: scenario.feeBasisPoints, to: feeAccount.address },
    distribution: scenario.rule,
  });
  const investTxs = scenario.investments.map((i) => [investors[i.who]!, i.amount] as const);
  if (spread) for (const [who, amount] of investTxs) invest(node, id, [[who, amount]]);
  else invest(node, id, [...investTxs]);
  const frozen = freeze ? scenario.frozen.map((k) => freezable[k]!.address) : [];
  const setFrozen = (type: string) => {
    const offsets = new Map<string, number>();
    const txs = frozen.map((account) => node.tx(issuer, type, { symbol: 'USD', account }, offsets));
    if (txs.length > 0) assert.ok(node.statuses(txs).every((s) => s === 'ok'));
  };
  setFrozen('asset.freeze');
  node.until(21);
  const campaign = getCampaign(node.store, id)!;
  const paid: bigint[] = [];
  if (campaign.status === 'succeeded') {
    const offsets = new Map<string, number>();
    const sign = (gross: number, n: number) =>
      node.tx(
        reporter,
        'campaign.reportRevenue',
        {
          campaignId: id,
          reportId: `r${n}`,
          periodStart: n,
          periodEnd: n + 1,
          grossRevenue: String(gross),
        },
        offsets,
      );
    // Signed as they go, so each block's txs carry the reporter's next nonces.
    const blocks = spread
      ? [node.produce(scenario.reports.map(sign))]
      : scenario.reports.map((gross, n) => {
          offsets.clear();
          return node.produce([sign(gross, n)]);
        });
    for (const block of blocks) {
      for (const receipt of block.receipts) {
        assert.equal(receipt.status, 'ok');
        let sum = 0n;
        for (const event of receipt.events) {
          if (event.type !== 'campaign.paidOut' && event.type !== 'campaign.payoutBlocked') {
            continue;
          }
          const amount = event.data.amount as string;
          assert.match(amount, /^[1-9][0-9]*$/, 'a payout is a positive integer');
          assert.equal(
            event.type === 'campaign.payoutBlocked',
            frozen.includes(event.data.address as string),
            'blocked exactly when frozen',
          );
          sum += BigInt(amount);
        }
        paid.push(sum);
      }
    }
  }
  if (freeze) {
    audit(node);
    setFrozen('asset.unfreeze');
    for (const who of [...freezable, reporter]) {
      const status = node.run(who, 'campaign.claim', { campaignId: id });
      assert.ok(status === 'ok' || status === 'nothing_to_claim', status);
    }
  }
  return { node, id, campaign: getCampaign(node.store, id)!, paid };
}

describe('properties through the chain', () => {
  it('exact payouts and refunds, conservation, idempotent reports, any block split, freezes', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const a = play(scenario, false);
        const b = play(scenario, true);
        // Freezes only delay: once unfrozen and claimed, everyone holds what it holds without.
        const c = play(scenario, false, true);
        for (const { node, id, campaign, paid } of [a, b, c]) {
          audit(node);
          assert.equal(balance(node, campaignEscrow(id)), 0n, 'the escrow ends empty');
          if (!scenario.reachTarget) {
            assert.equal(campaign.status, 'failed');
            for (const who of investors) {
              assert.equal(balance(node, who), startingBalance, 'refunded to the unit');
            }
            continue;
          }
          assert.equal(campaign.status, 'succeeded');
          assert.deepEqual(paid, scenario.reports.map(BigInt), 'each report pays out exactly');
          const statement = campaignStatement(node.store, id)!;
          for (const [n, entry] of statement.reports.entries()) {
            const classes = Object.values(entry.byClass).reduce((s, v) => s + BigInt(v), 0n);
            assert.equal(classes, BigInt(scenario.reports[n]!));
          }
          // Applying a report again changes nothing.
          const before = snapshot(node);
          const again = node.tx(reporter, 'campaign.reportRevenue', {
            campaignId: id,
            reportId: 'r0',
            periodStart: 0,
            periodEnd: 1,
            grossRevenue: String(scenario.reports[0]),
          });
          assert.deepEqual(node.statuses([again]), ['duplicate_report']);
          assert.deepEqual(snapshot(node), before);
        }
        // The same txs in another block split: the same balances and positions.
        const everyone = [...investors, producer, reporter, distributor, feeAccount];
        for (const other of [b, c]) {
          for (const who of everyone) {
            assert.equal(balance(a.node, who), balance(other.node, who), 'same balance');
          }
          for (const who of investors) {
            const position = investorPosition(other.node.store, other.id, who.address);
            assert.deepEqual(
              investorPosition(a.node.store, a.id, who.address)?.paidOutByTranche,
              position?.paidOutByTranche,
            );
            assert.equal(position?.payoutOwed ?? '0', '0');
          }
          assert.deepEqual(
            campaignStatement(a.node.store, a.id)!.tranches,
            campaignStatement(other.node.store, other.id)!.tranches,
          );
          assert.equal(campaignStatement(other.node.store, other.id)!.payoutsOwed, '0');
        }
      }),
      { numRuns: 15 },
    );
  });
});
