import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { ModuleRegistry } from '../../chain/index.js';
import { CryptoInputError } from '../../crypto/index.js';
import * as moduleApi from './index.js';
import type { CofferClient } from '../../sdk/client.js';
import {
  atHeight,
  atTime,
  campaignEscrow,
  campaignIdOf,
  campaignTxs,
  minorUnitsMax,
  recoupWaterfall,
  waterfall,
  type CampaignTermsInput,
  type DistributionRule,
  type SchedulePoint,
} from './client.js';
import { rejection, startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { txs } from '../../sdk/tx.js';

const registry = new ModuleRegistry([moduleApi.crowdfundModule]);

/** What the node runs on a payload of `type`: the module's parser, found through the registry. */
function parse(tx: { type: string; payload: Record<string, unknown> }) {
  const parser = registry.parserFor(tx.type);
  assert.ok(parser, `the module defines ${tx.type}`);
  // As the node sees it: the payload after a JSON round trip.
  return parser(JSON.parse(JSON.stringify(tx.payload)) as Record<string, unknown>);
}

function parsedValue(tx: { type: string; payload: Record<string, unknown> }): unknown {
  const parsed = parse(tx);
  assert.ok(
    'value' in parsed,
    `${tx.type} ${JSON.stringify(tx.payload)}: ${JSON.stringify(parsed)}`,
  );
  return parsed.value;
}

function fieldError(field: string) {
  return (error: unknown) => error instanceof CryptoInputError && error.field === field;
}

const campaignId = '0123456789abcdef';
const alice = generateKey().address;
const bob = generateKey().address;
const distributor = generateKey().address;

const issueExample = recoupWaterfall({
  distributionFee: { basisPoints: 3000, to: distributor },
  premiumBasisPoints: 2000,
  investorsShareBasisPoints: 5000,
});

const terms: CampaignTermsInput = {
  title: 'The Long Take',
  target: 100_000n,
  minInvestment: '1000',
  maxInvestment: 50_000n,
  opensAt: atHeight(1),
  deadline: atHeight(500),
  cancelWindow: 10,
  earlyClose: true,
  platformFee: { basisPoints: 250, to: alice },
  reporters: [bob, alice],
  distribution: issueExample,
};

describe('campaign tx builders', () => {
  const built = [
    campaignTxs.create({ ...terms, asset: 'USD' }),
    campaignTxs.create({
      ...terms,
      platformFee: undefined,
      opensAt: atTime(new Date('2026-01-01T00:00:00Z')),
      deadline: atTime(Date.parse('2026-03-01T00:00:00Z')),
      cancelWindow: 48 * 3_600_000,
      earlyClose: false,
      distribution: recoupWaterfall({ investorsShareBasisPoints: 10_000 }),
      asset: 'EUR',
    }),
    campaignTxs.invest({ campaignId, amount: 5000n }),
    campaignTxs.cancelInvestment({ campaignId }),
    campaignTxs.amend({ campaignId, terms: { title: 'Retitled', target: '90000' } }),
    campaignTxs.amend({
      campaignId,
      terms: { platformFee: null, deadline: atHeight(600) },
      reconfirmBy: atHeight(550),
    }),
    campaignTxs.reconfirm({ campaignId }),
    campaignTxs.claim({ campaignId }),
    campaignTxs.reportRevenue({
      campaignId,
      reportId: 'week-1',
      periodStart: 1_700_000_000_000,
      periodEnd: 1_700_604_800_000,
      grossRevenue: 12_345n,
    }),
  ];

  it('every builder names a tx type of the module, and the module parses its payload', () => {
    assert.deepEqual(
      [...new Set(built.map((tx) => tx.type))].sort(),
      registry.txTypes().filter((t) => t.startsWith('campaign.')),
      'one builder per tx type of the module',
    );
    for (const tx of built) parsedValue(tx);
  });

  it('amounts travel as decimal strings; undefined fields are left out, a null fee kept', () => {
    assert.deepEqual(campaignTxs.invest({ campaignId, amount: 7450n }), {
      type: 'campaign.invest',
      payload: { campaignId, amount: '7450' },
    });
    const created = campaignTxs.create({ ...terms, platformFee: undefined, asset: 'USD' });
    assert.ok(!('platformFee' in created.payload));
    assert.equal(created.payload.target, '100000');
    const amended = campaignTxs.amend({ campaignId, terms: { platformFee: null } });
    assert.deepEqual(amended.payload, { campaignId, terms: { platformFee: null } });
    assert.deepEqual(parsedValue(amended), { campaignId, terms: { platformFee: null } });
  });

  it('the module refuses what it should: rules the builders can express but only the node checks', () => {
    const cases: [{ type: string; payload: Record<string, unknown> }, string][] = [
      [
        campaignTxs.create({
          ...terms,
          asset: 'USD',
          distribution: waterfall([
            {
              name: 'all',
              shareBasisPoints: 5000,
              recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
            },
          ]),
        }),
        'distribution_leaves_remainder',
      ],
      [
        campaignTxs.create({
          ...terms,
          asset: 'USD',
          distribution: waterfall([
            {
              name: 'split',
              shareBasisPoints: 10_000,
              recipients: [
                { kind: 'investors', weightBasisPoints: 5000 },
                { kind: 'producer', weightBasisPoints: 4000 },
              ],
            },
          ]),
        }),
        'invalid_tranche_weights',
      ],
      [campaignTxs.create({ ...terms, asset: 'USD', reporters: [] }), 'invalid_reporters'],
      [
        campaignTxs.create({ ...terms, asset: 'USD', minInvestment: 9n, maxInvestment: 8n }),
        'invalid_investment_limits',
      ],
      [
        campaignTxs.reportRevenue({
          campaignId,
          reportId: 'has space',
          periodStart: 1,
          periodEnd: 2,
          grossRevenue: 1n,
        }),
        'invalid_report_id',
      ],
      [
        campaignTxs.reportRevenue({
          campaignId,
          reportId: 'r',
          periodStart: 2,
          periodEnd: 2,
          grossRevenue: 1n,
        }),
        'invalid_period',
      ],
      [campaignTxs.amend({ campaignId, terms: {} }), 'invalid_amendment'],
    ];
    for (const [tx, code] of cases) {
      const parsed = parse(tx);
      assert.ok('code' in parsed && parsed.code === code, `${tx.type}: ${JSON.stringify(parsed)}`);
    }
  });

  it('builders refuse amounts, ids and basis points they cannot write, naming the field', () => {
    assert.throws(() => campaignTxs.invest({ campaignId, amount: 0n }), fieldError('amount'));
    assert.throws(() => campaignTxs.invest({ campaignId, amount: '1.5' }), fieldError('amount'));
    assert.throws(() => campaignTxs.invest({ campaignId, amount: '01' }), fieldError('amount'));
    assert.throws(
      () => campaignTxs.invest({ campaignId, amount: minorUnitsMax + 1n }),
      fieldError('amount'),
    );
    assert.throws(
      () => campaignTxs.invest({ campaignId: 'ABCDEF0123456789', amount: 1n }),
      fieldError('campaignId'),
    );
    assert.throws(
      () => campaignTxs.create({ ...terms, target: -1n, asset: 'USD' }),
      fieldError('target'),
    );
    assert.throws(
      () =>
        campaignTxs.reportRevenue({
          campaignId,
          reportId: 'r',
          periodStart: 1,
          periodEnd: 2,
          grossRevenue: '0',
        }),
      fieldError('grossRevenue'),
    );
    assert.throws(
      () => recoupWaterfall({ investorsShareBasisPoints: 10_001 }),
      fieldError('investorsShareBasisPoints'),
    );
    assert.throws(
      () =>
        recoupWaterfall({
          investorsShareBasisPoints: 1,
          distributionFee: { basisPoints: 1, to: 'x' },
        }),
      fieldError('distributionFee.to'),
    );
    assert.throws(
      () =>
        waterfall([
          {
            name: 't',
            shareBasisPoints: 1.5,
            recipients: [{ kind: 'producer', weightBasisPoints: 1 }],
          },
        ]),
      fieldError('tranches[0].shareBasisPoints'),
    );
    assert.throws(() => atHeight(0), fieldError('height'));
    assert.throws(() => atTime(new Date('nonsense')), fieldError('time'));
  });

  it('the campaign id and escrow are those of the module', () => {
    const hash = 'c0'.repeat(32);
    assert.equal(campaignIdOf(hash), moduleApi.campaignIdOf(hash));
    assert.equal(campaignIdOf(hash), 'c0c0c0c0c0c0c0c0');
    assert.throws(() => campaignIdOf('C0'.repeat(32)), fieldError('createTxHash'));
    assert.throws(() => campaignEscrow('nope'), fieldError('campaignId'));
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{16}$/), (id) => {
        assert.equal(campaignEscrow(id), moduleApi.campaignEscrow(id));
      }),
    );
  });

  it("recoupWaterfall is the issue's example, and the module's waterfall pays it as the issue says", () => {
    assert.deepEqual(moduleApi.parseDistribution(issueExample), issueExample);
    const producer = generateKey().address;
    // 100,000 of principal (60/40) and 1,000,000 of revenue: a fee of 300,000; 100,000 recouped;
    // a premium of 20,000; the 580,000 left split 50/50.
    const result = moduleApi.simulate(
      { producer, distribution: issueExample },
      [
        { investor: alice, principal: 60_000n },
        { investor: bob, principal: 40_000n },
      ],
      0n,
      1_000_000n,
    );
    assert.deepEqual(
      result.tranches.map((t) => [t.name, t.amount]),
      [
        ['distribution fee', 300_000n],
        ['recoup', 100_000n],
        ['premium', 20_000n],
        ['profit', 580_000n],
      ],
    );
    assert.deepEqual(result.byClass, {
      investors: 410_000n,
      producer: 290_000n,
      accounts: 300_000n,
    });
    const byAddress = Object.fromEntries(result.transfers.map((t) => [t.address, t.amount]));
    assert.equal(byAddress[alice], 60_000n + 12_000n + 174_000n);
    assert.equal(byAddress[bob], 40_000n + 8_000n + 116_000n);
    // Investors taking all the profit: the producer is left out rather than weighted zero.
    const allToInvestors = recoupWaterfall({ investorsShareBasisPoints: 10_000 });
    assert.deepEqual(allToInvestors.tranches.at(-1)!.recipients, [
      { kind: 'investors', weightBasisPoints: 10_000 },
    ]);
    assert.deepEqual(moduleApi.parseDistribution(allToInvestors), allToInvestors);
  });
});

describe('property: what the builders write, the module reads back unchanged', () => {
  const address = fc.constantFrom(alice, bob, distributor, generateKey().address);
  const amount = fc.bigInt({ min: 1n, max: minorUnitsMax });
  const basisPoints = fc.integer({ min: 1, max: 10_000 });
  const point = fc.oneof(
    fc.integer({ min: 1, max: 2 ** 40 }).map((height): SchedulePoint => ({ height })),
    fc.integer({ min: 0, max: 2 ** 50 }).map((time): SchedulePoint => ({ time })),
  );
  const rule: fc.Arbitrary<DistributionRule> = fc
    .record({
      fee: fc.option(fc.record({ basisPoints: fc.integer({ min: 1, max: 9999 }), to: address }), {
        nil: undefined,
      }),
      recoup: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      premium: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
      investors: fc.integer({ min: 0, max: 10_000 }),
    })
    .map((r) =>
      recoupWaterfall({
        distributionFee: r.fee,
        recoupBasisPoints: r.recoup,
        premiumBasisPoints: r.premium,
        investorsShareBasisPoints: r.investors,
      }),
    );
  const createInput = fc
    .record({
      title: fc.string({ minLength: 1, maxLength: 30 }).filter((t) => moduleApi.isText(t, 120)),
      asset: fc.constantFrom('USD', 'EUR', 'GBP'),
      target: amount,
      limits: fc.tuple(amount, amount),
      opensAt: point,
      deadline: point,
      cancelWindow: fc.integer({ min: 0, max: 2 ** 40 }),
      earlyClose: fc.boolean(),
      platformFee: fc.option(fc.record({ basisPoints, to: address }), { nil: undefined }),
      reporters: fc.uniqueArray(address, { minLength: 1, maxLength: 4 }),
      distribution: rule,
    })
    .map(({ limits: [a, b], platformFee, ...rest }) => ({
      ...rest,
      // fast-check's records have no prototype; the parser's do.
      platformFee: platformFee === undefined ? undefined : { ...platformFee },
      minInvestment: a < b ? a : b,
      maxInvestment: a < b ? b : a,
    }));

  it('campaign.create', () => {
    fc.assert(
      fc.property(createInput, (input) => {
        assert.deepEqual(parsedValue(campaignTxs.create(input)), {
          ...input,
          target: input.target.toString(),
          minInvestment: input.minInvestment.toString(),
          maxInvestment: input.maxInvestment.toString(),
          platformFee: input.platformFee ?? null,
          reporters: [...input.reporters].sort(),
        });
      }),
      { numRuns: 300 },
    );
  });

  it('campaign.amend, invest and reportRevenue', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{16}$/),
        createInput,
        fc.uniqueArray(
          fc.constantFrom(
            'title',
            'target',
            'opensAt',
            'deadline',
            'cancelWindow',
            'earlyClose',
            'platformFee',
            'reporters',
            'distribution',
          ),
          { minLength: 1 },
        ),
        fc.option(point, { nil: undefined }),
        amount,
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (id, input, keys, reconfirmBy, money, reportId, start) => {
          // An amendment that names no term is refused (invalid_amendment): not this property.
          fc.pre(keys.some((k) => input[k as keyof typeof input] !== undefined));
          const picked = Object.fromEntries(
            keys.map((k) => [k, input[k as keyof typeof input]]),
          ) as Partial<CampaignTermsInput>;
          const amended = parsedValue(
            campaignTxs.amend({ campaignId: id, terms: picked, reconfirmBy }),
          ) as { terms: Record<string, unknown> };
          for (const key of keys) {
            const sent = input[key as keyof typeof input];
            const expected =
              key === 'target'
                ? input.target.toString()
                : key === 'reporters'
                  ? [...(sent as string[])].sort()
                  : key === 'platformFee'
                    ? (sent ?? null)
                    : sent;
            // An undefined fee is left out of the payload, so the amendment does not name it.
            if (key === 'platformFee' && sent === undefined) {
              assert.ok(!(key in amended.terms));
            } else {
              assert.deepEqual(amended.terms[key], expected, key);
            }
          }
          assert.deepEqual(parsedValue(campaignTxs.invest({ campaignId: id, amount: money })), {
            campaignId: id,
            amount: money.toString(),
          });
          const report = {
            campaignId: id,
            reportId,
            periodStart: start,
            periodEnd: start + 1,
            grossRevenue: money.toString(),
          };
          assert.deepEqual(parsedValue(campaignTxs.reportRevenue(report)), report);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('client.campaigns against a real node', { timeout: 60_000 }, () => {
  let testNode: TestNode;
  let client: CofferClient;
  let dev: SigningKey;
  let id = '';
  const producer = generateKey();
  const ann = generateKey();
  const ben = generateKey();
  const reporter = generateKey();

  async function balance(address: string): Promise<bigint> {
    const account = await client.getAccount(address);
    return BigInt(account.balances.find((b) => b.asset === 'USD')?.balance ?? '0');
  }

  before(async () => {
    testNode = await startTestNode('sdk-campaigns');
    ({ client, dev } = testNode);
    for (const key of [ann, ben, reporter]) {
      await client.send(dev, txs.transfer({ to: key.address, asset: 'USD', amount: '10000000' }));
    }
    const { height } = await client.health();
    const created = await client.send(
      producer,
      campaignTxs.create({
        title: 'SDK test film',
        asset: 'USD',
        target: 100_000n,
        minInvestment: 1_000n,
        maxInvestment: 80_000n,
        opensAt: atHeight(Math.max(1, height)),
        deadline: atHeight(height + 10_000),
        cancelWindow: 5,
        earlyClose: true,
        reporters: [reporter.address],
        distribution: issueExample,
      }),
    );
    id = campaignIdOf(created.hash);
  });

  after(async () => {
    await testNode.close();
  });

  it('reads the campaign with its escrow, and the investors as they invest', async () => {
    const campaign = await client.campaigns.get(id);
    assert.equal(campaign.id, id);
    assert.equal(campaign.producer, producer.address);
    assert.equal(campaign.escrow, campaignEscrow(id));
    assert.equal(campaign.status, 'funding');
    assert.deepEqual(campaign.distribution, issueExample);
    assert.deepEqual(await client.campaigns.investors(id), { campaignId: id, investors: [] });

    await client.send(ann, campaignTxs.invest({ campaignId: id, amount: 60_000n }));
    // Before success, a simulation runs over the positions as they stand.
    const early = await client.campaigns.simulate(id, '1000');
    assert.equal(early.principal, '60000');
    await client.send(ben, campaignTxs.invest({ campaignId: id, amount: '40000' }));
    const investors = await client.campaigns.investors(id);
    assert.deepEqual(investors.investors, [ann.address, ben.address].sort());
    const closed = await client.campaigns.get(id);
    assert.equal(closed.status, 'succeeded', 'early close at the target');
    assert.equal(closed.principal, '100000');
    assert.equal(await balance(producer.address), 100_000n);
  });

  it('simulate answers what a report pays; the report then pays exactly that', async () => {
    const simulation = await client.campaigns.simulate(id, 1_000_000n);
    assert.equal(simulation.cumulativeAfter, '1000000');
    assert.deepEqual(
      simulation.tranches.map((t) => [t.name, t.amount]),
      [
        ['distribution fee', '300000'],
        ['recoup', '100000'],
        ['premium', '20000'],
        ['profit', '580000'],
      ],
    );
    const before = new Map<string, bigint>();
    for (const t of simulation.transfers) before.set(t.address, await balance(t.address));
    await client.send(
      reporter,
      campaignTxs.reportRevenue({
        campaignId: id,
        reportId: 'opening-weekend',
        periodStart: Date.parse('2026-01-02T00:00:00Z'),
        periodEnd: Date.parse('2026-01-05T00:00:00Z'),
        grossRevenue: 1_000_000n,
      }),
    );
    for (const t of simulation.transfers) {
      assert.equal(await balance(t.address), before.get(t.address)! + BigInt(t.amount), t.address);
    }

    const position = await client.campaigns.position(id, ann.address);
    assert.equal(position.principal, '60000');
    assert.equal(position.paidOut, String(60_000 + 12_000 + 174_000));
    assert.deepEqual(
      position.payouts.map((p) => [p.reportId, p.total]),
      [['opening-weekend', '246000']],
    );
    assert.equal(position.net, '186000');
    const statement = await client.campaigns.statement(id);
    assert.equal(statement.cumulativeRevenue, '1000000');
    assert.equal(statement.reports.length, 1);
    assert.deepEqual(statement.reports[0]!.byClass, {
      investors: '410000',
      producer: '290000',
      accounts: '300000',
    });
    const chart = await client.campaigns.chart(id);
    assert.deepEqual(chart.trancheNames, ['distribution fee', 'recoup', 'premium', 'profit']);
    assert.deepEqual(chart.series[0]!.tranches, ['300000', '100000', '20000', '580000']);
  });

  it("errors carry the API's code, field and status", async () => {
    const cases: [Promise<unknown>, string, number][] = [
      [client.campaigns.get('0000000000000000'), 'campaign_not_found', 404],
      [client.campaigns.get('nope'), 'invalid_campaign_id', 400],
      [client.campaigns.position(id, generateKey().address), 'position_not_found', 404],
      [client.campaigns.statement('ffffffffffffffff'), 'campaign_not_found', 404],
      [
        client.send(
          ann,
          campaignTxs.reportRevenue({
            campaignId: id,
            reportId: 'not-mine',
            periodStart: 1,
            periodEnd: 2,
            grossRevenue: 1n,
          }),
        ),
        'not_reporter',
        422,
      ],
    ];
    for (const [call, code, status] of cases) {
      const error = await rejection(call);
      assert.deepEqual({ code: error.code, status: error.status }, { code, status });
    }
    // Bad input is the SDK's own error, before any request.
    await assert.rejects(client.campaigns.simulate(id, '-5'), fieldError('revenue'));
  });
});
