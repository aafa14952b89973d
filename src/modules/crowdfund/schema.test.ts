import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { z } from 'zod';
import {
  genesisTime,
  ModuleTestHarness,
  testAccount,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry } from '../../chain/index.js';
import { isAddress } from '../../crypto/index.js';
import { escrowAddress } from '../../ledger/index.js';
import {
  campaignChart,
  campaignStatement,
  getCampaign,
  investorPosition,
  listCampaigns,
  listInvestors,
  simulateCampaign,
} from './queries.js';
import {
  campaignChartSchema,
  campaignEscrow,
  campaignIdOf,
  campaignInvestorsSchema,
  campaignPageSchema,
  campaignPositionSchema,
  campaignSchema,
  campaignSimulationSchema,
  campaignStatementSchema,
  crowdfundPayloads,
  isText,
  parseDistribution,
  reportersMax,
  titleBytesMax,
} from './schema.js';
import { crowdfundModule } from './index.js';

/*
 * The payload schemas against the parser they replaced, and the route schemas against what the
 * queries answer. `reference` is the old hand-written parser (txs.ts before issue 15), kept here
 * as the model the schemas must match: same accepted values, same code, same field.
 */

type Parsed = { value: Record<string, unknown> } | { code: string; field?: string };
type Read = (v: unknown) => unknown;
const no = (code: string) => ({ rejected: code });
const isNo = (v: unknown): v is { rejected: string } =>
  typeof v === 'object' && v !== null && 'rejected' in v;

function plain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const wholeFrom = (v: unknown, min: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min;
const amountPattern = /^(0|[1-9][0-9]{0,38})$/;
const positive = (v: unknown) =>
  typeof v === 'string' && amountPattern.test(v) && BigInt(v) > 0n && BigInt(v) <= 2n ** 127n - 1n;

function point(v: unknown) {
  if (!plain(v) || Object.keys(v).length !== 1) return no('invalid_schedule_point');
  if ('height' in v && wholeFrom(v.height, 1)) return { height: v.height };
  if ('time' in v && wholeFrom(v.time, 0)) return { time: v.time };
  return no('invalid_schedule_point');
}
function fee(v: unknown) {
  if (v === undefined || v === null) return null;
  if (!plain(v) || Object.keys(v).length !== 2) return no('invalid_platform_fee');
  const { basisPoints, to } = v;
  if (!Number.isSafeInteger(basisPoints) || (basisPoints as number) < 1) {
    return no('invalid_platform_fee');
  }
  if ((basisPoints as number) > 10_000 || !isAddress(to)) return no('invalid_platform_fee');
  return { basisPoints, to };
}
const read = {
  campaignId: (v: unknown) =>
    typeof v === 'string' && /^[0-9a-f]{16}$/.test(v) ? v : no('invalid_campaign_id'),
  title: (v: unknown) => (isText(v, titleBytesMax) ? v : no('invalid_title')),
  asset: (v: unknown) =>
    typeof v === 'string' && /^[A-Z][A-Z0-9]{1,11}$/.test(v) ? v : no('invalid_symbol'),
  amount: (v: unknown) => (positive(v) ? v : no('invalid_amount')),
  point,
  cancelWindow: (v: unknown) => (wholeFrom(v, 0) ? v : no('invalid_cancel_window')),
  earlyClose: (v: unknown) => (typeof v === 'boolean' ? v : no('invalid_early_close')),
  platformFee: fee,
  reporters: (v: unknown) =>
    Array.isArray(v) &&
    v.length >= 1 &&
    v.length <= reportersMax &&
    v.every((a) => isAddress(a)) &&
    new Set(v).size === v.length
      ? [...v].sort()
      : no('invalid_reporters'),
  distribution: (v: unknown) => {
    const rule = parseDistribution(v);
    return typeof rule === 'string' ? no(rule) : rule;
  },
  reportId: (v: unknown) =>
    typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : no('invalid_report_id'),
  periodTime: (v: unknown) => (wholeFrom(v, 0) ? v : no('invalid_period')),
};
const termReaders: Record<string, Read> = {
  title: read.title,
  target: read.amount,
  minInvestment: read.amount,
  maxInvestment: read.amount,
  opensAt: read.point,
  deadline: read.point,
  cancelWindow: read.cancelWindow,
  earlyClose: read.earlyClose,
  platformFee: read.platformFee,
  reporters: read.reporters,
  distribution: read.distribution,
};

/** The old `payloadParser`: unknown fields first, then each field in order, named on refusal. */
function parser(fields: Record<string, Read>) {
  return (payload: Record<string, unknown>): Parsed => {
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(fields, key)) return { code: 'unknown_field', field: key };
    }
    const value: Record<string, unknown> = {};
    for (const [key, r] of Object.entries(fields)) {
      const result = r(payload[key]);
      if (isNo(result)) return { code: result.rejected, field: key };
      if (result !== undefined) value[key] = result;
    }
    return { value };
  };
}
const optional =
  (r: Read): Read =>
  (v) =>
    v === undefined ? undefined : r(v);
const amendTerms = parser(
  Object.fromEntries(
    Object.entries(termReaders).map(([key, r]) => [
      key,
      key === 'platformFee' ? (v: unknown) => (v === undefined ? undefined : fee(v)) : optional(r),
    ]),
  ),
);

const reference: Record<string, (payload: Record<string, unknown>) => Parsed> = {
  'campaign.create': (payload) => {
    const parsed = parser({ ...termReaders, asset: read.asset })(payload);
    if ('code' in parsed) return parsed;
    const { minInvestment, maxInvestment } = parsed.value as Record<string, string>;
    return BigInt(minInvestment!) > BigInt(maxInvestment!)
      ? { code: 'invalid_investment_limits', field: 'minInvestment' }
      : parsed;
  },
  'campaign.invest': parser({ campaignId: read.campaignId, amount: read.amount }),
  'campaign.cancelInvestment': parser({ campaignId: read.campaignId }),
  'campaign.amend': parser({
    campaignId: read.campaignId,
    terms: (v) => {
      if (!plain(v) || Object.keys(v).length === 0) return no('invalid_amendment');
      const terms = amendTerms(v);
      return 'code' in terms ? no(terms.code) : terms.value;
    },
    reconfirmBy: optional(read.point),
  }),
  'campaign.reconfirm': parser({ campaignId: read.campaignId }),
  'campaign.claim': parser({ campaignId: read.campaignId }),
  'campaign.reportRevenue': (payload) => {
    const parsed = parser({
      campaignId: read.campaignId,
      reportId: read.reportId,
      periodStart: read.periodTime,
      periodEnd: read.periodTime,
      grossRevenue: read.amount,
    })(payload);
    if ('code' in parsed) return parsed;
    return (parsed.value.periodStart as number) < (parsed.value.periodEnd as number)
      ? parsed
      : { code: 'invalid_period', field: 'periodEnd' };
  },
};

const registry = new ModuleRegistry([crowdfundModule]);

/** What the node runs now, as it sees a payload (after a JSON round trip): value, or code and field. */
function parse(type: string, payload: Record<string, unknown>): Parsed {
  const run = registry.parserFor(type);
  assert.ok(run, type);
  const parsed = run(JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);
  if ('value' in parsed) return { value: parsed.value as Record<string, unknown> };
  return { code: parsed.code, ...(parsed.field === undefined ? {} : { field: parsed.field }) };
}

const [a1, a2, a3] = [1, 2, 3].map((n) => testAccount(new Uint8Array(32).fill(n)).address) as [
  string,
  string,
  string,
];
const rule = {
  tranches: [
    {
      name: 'fee',
      shareBasisPoints: 3000,
      recipients: [{ kind: 'account', address: a1, weightBasisPoints: 10_000 }],
    },
    {
      name: 'recoup',
      shareBasisPoints: 10_000,
      cap: { principalBasisPoints: 10_000 },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'rest',
      shareBasisPoints: 10_000,
      recipients: [
        { kind: 'investors', weightBasisPoints: 5000 },
        { kind: 'producer', weightBasisPoints: 5000 },
      ],
    },
  ],
};

/** Values near and far from each field's rules, the valid ones among them. */
const anyValue = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1,
    1.5,
    2 ** 53,
    '',
    ' ',
    '0',
    '1',
    '01',
    '7450',
    '1.5',
    '-5',
    'x',
    'USD',
    'usd',
    '0123456789abcdef',
    '0123456789ABCDEF',
    'report-1',
    'a b',
    'Title\u0001',
    'é'.repeat(61),
    'x'.repeat(120),
    (2n ** 127n - 1n).toString(),
    (2n ** 127n).toString(),
    a1,
    a1.toUpperCase(),
    [],
    [a1],
    [a2, a1],
    [a1, a1],
    [a1, 'nope'],
    {},
    { height: 1 },
    { height: 0 },
    { time: 0 },
    { time: 5, height: 5 },
    { day: 1 },
    { basisPoints: 250, to: a1 },
    { basisPoints: 0, to: a1 },
    { basisPoints: 10_001, to: a1 },
    { basisPoints: 250, to: a1, extra: 1 },
    rule,
    { tranches: [] },
    { tranches: rule.tranches.slice(1) },
    { tranches: [rule.tranches[2]] },
    { tranches: [{ ...rule.tranches[2], shareBasisPoints: 5000 }] },
    { tranches: [{ ...rule.tranches[2], cap: { amount: '0' } }] },
    { title: 'New' },
    { asset: 'EUR' },
    { target: '5', platformFee: null },
    { deadline: { height: 0 } },
    { reporters: [a2, a1], minInvestment: 'x' },
  ),
  fc.integer({ min: -3, max: 20_000 }),
  fc.string({ maxLength: 8 }),
);

const bases: Record<string, Record<string, unknown>> = {
  'campaign.create': {
    title: 'The Long Take',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '50000',
    opensAt: { height: 1 },
    deadline: { height: 500 },
    cancelWindow: 10,
    earlyClose: true,
    platformFee: { basisPoints: 250, to: a1 },
    reporters: [a3, a2],
    distribution: rule,
    asset: 'USD',
  },
  'campaign.invest': { campaignId: '0123456789abcdef', amount: '7450' },
  'campaign.cancelInvestment': { campaignId: '0123456789abcdef' },
  'campaign.amend': {
    campaignId: '0123456789abcdef',
    terms: { title: 'Renamed', platformFee: null, reporters: [a2, a1] },
    reconfirmBy: { height: 400 },
  },
  'campaign.reconfirm': { campaignId: '0123456789abcdef' },
  'campaign.claim': { campaignId: '0123456789abcdef' },
  'campaign.reportRevenue': {
    campaignId: '0123456789abcdef',
    reportId: 'week-1',
    periodStart: 1,
    periodEnd: 2,
    grossRevenue: '100',
  },
};

/** A base payload with a few fields replaced, removed or added (in the terms too). */
function mutated(type: string) {
  const base = bases[type]!;
  const keys = [...Object.keys(base), 'extra', 'terms'];
  const edit = fc.record({
    key: fc.constantFrom(...keys),
    inTerms: fc.boolean(),
    termKey: fc.constantFrom(...Object.keys(termReaders), 'asset', 'extra'),
    value: fc.option(anyValue, { nil: undefined }),
  });
  return fc.array(edit, { maxLength: 3 }).map((edits) => {
    const payload: Record<string, unknown> = structuredClone(base);
    for (const edit of edits) {
      const { key, inTerms, termKey } = edit;
      // A copy: the values are shared constants, which an edit of the terms must not change.
      const value: unknown = structuredClone(edit.value);
      if (inTerms && plain(payload.terms)) {
        if (value === undefined) delete payload.terms[termKey];
        else payload.terms[termKey] = value;
      } else if (value === undefined) delete payload[key];
      else payload[key] = value;
    }
    return payload;
  });
}

describe('payload schemas: what the old parser accepted, with the same code and field', () => {
  it('every base payload parses to what the old parser made of it', () => {
    for (const [type, payload] of Object.entries(bases)) {
      const parsed = parse(type, payload);
      assert.ok('value' in parsed, `${type}: ${JSON.stringify(parsed)}`);
      assert.deepEqual(parsed, reference[type]!(payload), type);
    }
  });

  for (const type of Object.keys(crowdfundPayloads)) {
    it(`${type}: property, against the old parser`, () => {
      fc.assert(
        fc.property(mutated(type), (payload) => {
          const expected = reference[type]!(JSON.parse(JSON.stringify(payload)) as never);
          assert.deepEqual(parse(type, payload), expected, JSON.stringify(payload));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('table: rejections in precedence order', () => {
    const create = bases['campaign.create']!;
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['campaign.create', { ...create, extra: 1, title: '' }, 'unknown_field', 'extra'],
      ['campaign.create', { ...create, title: '', target: '0' }, 'invalid_title', 'title'],
      ['campaign.create', { ...create, asset: 'usd' }, 'invalid_symbol', 'asset'],
      [
        'campaign.create',
        { ...create, minInvestment: '9', maxInvestment: '8' },
        'invalid_investment_limits',
        'minInvestment',
      ],
      [
        'campaign.create',
        { ...create, distribution: { tranches: [rule.tranches[0]] } },
        'distribution_leaves_remainder',
        'distribution',
      ],
      [
        'campaign.amend',
        { campaignId: '0123456789abcdef', terms: { title: '', asset: 'EUR' } },
        'unknown_field',
        'terms',
      ],
      [
        'campaign.amend',
        { campaignId: '0123456789abcdef', terms: { deadline: {}, title: '' } },
        'invalid_title',
        'terms',
      ],
      [
        'campaign.amend',
        { campaignId: '0123456789abcdef', terms: {} },
        'invalid_amendment',
        'terms',
      ],
      [
        'campaign.reportRevenue',
        { ...bases['campaign.reportRevenue'], periodStart: 2, periodEnd: 2 },
        'invalid_period',
        'periodEnd',
      ],
    ];
    for (const [type, payload, code, field] of cases) {
      assert.deepEqual(parse(type, payload), { code, field }, `${type} ${code}`);
    }
  });

  it('an absent platform fee is null at creation and absent at amendment', () => {
    const { platformFee: _fee, ...noFee } = bases['campaign.create']!;
    const created = parse('campaign.create', noFee);
    assert.ok('value' in created);
    assert.equal(created.value.platformFee, null);
    const amended = parse('campaign.amend', {
      campaignId: '0123456789abcdef',
      terms: { title: 'x' },
    });
    assert.ok('value' in amended);
    assert.deepEqual(amended.value.terms, { title: 'x' });
  });
});

describe('the one campaign id and escrow', () => {
  it("the escrow is the ledger's escrowAddress('crowdfund', id); the id the hash's first 16 digits", () => {
    assert.equal(campaignIdOf('c0'.repeat(32)), 'c0c0c0c0c0c0c0c0');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{16}$/), (id) => {
        assert.equal(campaignEscrow(id), escrowAddress('crowdfund', id));
      }),
    );
  });
});

describe('route schemas list every field the queries answer', () => {
  const registry = new ModuleRegistry([ledgerModule, crowdfundModule]);
  const harness = new ModuleTestHarness({ name: 'crowdfund-schema', chainId: 'cf', registry });
  after(() => harness.close());
  const account = (n: number): TestAccount => testAccount(new Uint8Array(32).fill(0x40 + n));
  const [issuer, producer, reporter, distributor, ann, ben] = [1, 2, 3, 4, 5, 6].map(account) as [
    TestAccount,
    TestAccount,
    TestAccount,
    TestAccount,
    TestAccount,
    TestAccount,
  ];

  /** Parses `value` strictly: an unlisted field fails, as a dropped field would on the wire. */
  function covers(schema: z.ZodType, value: unknown, what: string) {
    const result = schema.safeParse(value);
    assert.ok(result.success, `${what}: ${JSON.stringify(result.error?.issues)}`);
  }

  it('a campaign with payouts, blocked lines, owed amounts and a reconfirmation round', () => {
    const node = harness.open(
      harness.genesis({
        assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
        balances: [producer, reporter, ann, ben].map((a) => ({
          address: a.address,
          asset: 'USD',
          amount: '10000000',
        })),
      }),
    );
    const terms = (earlyClose: boolean) => ({
      title: 'Schema film',
      asset: 'USD',
      target: '100000',
      minInvestment: '1000',
      maxInvestment: '100000',
      opensAt: { height: 1 },
      deadline: { height: node.chain.height() + 100 },
      cancelWindow: 3,
      earlyClose,
      platformFee: { basisPoints: 500, to: distributor.address },
      reporters: [reporter.address],
      distribution: {
        tranches: [
          {
            name: 'fee',
            shareBasisPoints: 3000,
            recipients: [
              { kind: 'account', address: distributor.address, weightBasisPoints: 10_000 },
            ],
          },
          {
            name: 'recoup',
            shareBasisPoints: 10_000,
            cap: { principalBasisPoints: 10_000 },
            recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
          },
          {
            name: 'rest',
            shareBasisPoints: 10_000,
            recipients: [
              { kind: 'investors', weightBasisPoints: 5000 },
              { kind: 'producer', weightBasisPoints: 5000 },
            ],
          },
        ],
      },
    });
    const created = node.tx(producer, 'campaign.create', terms(true));
    assert.deepEqual(node.statuses([created]), ['ok']);
    const id = campaignIdOf(created.hash);
    const offsets = new Map<string, number>();
    assert.deepEqual(
      node.statuses([
        node.tx(ann, 'campaign.invest', { campaignId: id, amount: '60000' }, offsets),
        node.tx(ben, 'campaign.invest', { campaignId: id, amount: '40000' }, offsets),
      ]),
      ['ok', 'ok'],
    );
    assert.equal(getCampaign(node.store, id)!.status, 'succeeded');
    for (const frozen of [ben, distributor]) {
      assert.equal(
        node.run(issuer, 'asset.freeze', { symbol: 'USD', account: frozen.address }),
        'ok',
      );
    }
    const report = {
      campaignId: id,
      reportId: 'week-1',
      periodStart: genesisTime,
      periodEnd: genesisTime + 1,
      grossRevenue: '500000',
    };
    assert.equal(node.run(reporter, 'campaign.reportRevenue', report), 'ok');

    // A second campaign, still funding, in a reconfirmation round.
    const second = node.tx(producer, 'campaign.create', terms(false));
    assert.deepEqual(node.statuses([second]), ['ok']);
    const secondId = campaignIdOf(second.hash);
    assert.equal(node.run(ann, 'campaign.invest', { campaignId: secondId, amount: '5000' }), 'ok');
    assert.equal(
      node.run(producer, 'campaign.amend', {
        campaignId: secondId,
        terms: { title: 'Renamed', platformFee: null },
        reconfirmBy: { height: node.chain.height() + 50 },
      }),
      'ok',
    );
    assert.notEqual(getCampaign(node.store, secondId)!.reconfirmation, null);

    const statement = campaignStatement(node.store, id)!;
    assert.ok(statement.reports[0]!.lines.some((line) => line.blocked === true));
    assert.ok(statement.owedPayouts.length > 0);
    for (const campaignId of [id, secondId]) {
      covers(
        campaignSchema,
        { ...getCampaign(node.store, campaignId)!, escrow: campaignEscrow(campaignId) },
        'campaign',
      );
      covers(
        campaignInvestorsSchema,
        { campaignId, investors: listInvestors(node.store, campaignId) },
        'investors',
      );
      for (const investor of listInvestors(node.store, campaignId)) {
        covers(
          campaignPositionSchema,
          investorPosition(node.store, campaignId, investor),
          'position',
        );
      }
      covers(campaignStatementSchema, campaignStatement(node.store, campaignId), 'statement');
      covers(campaignChartSchema, campaignChart(node.store, campaignId), 'chart');
      covers(
        campaignSimulationSchema,
        simulateCampaign(node.store, campaignId, 12_345n),
        'simulation',
      );
    }
    const pending = investorPosition(node.store, secondId, ann.address)!;
    assert.equal(pending.reconfirmation, 'pending');
    covers(campaignPageSchema, listCampaigns(node.store, { limit: 10 }), 'list');
  });
});
