// Movie investment campaigns from the command line, as a user runs them: the built CLI in its own
// process against a node in another, cutting an idle block every 100 ms so a height deadline comes
// with no tx from anyone. A campaign misses its target and refunds every investor to the unit; one
// reaches it (after an amendment its investor reconfirms), closes early, releases the escrow less
// the platform fee, and takes two revenue reports paid by the waterfall, checked to the
// minor unit against balances, positions, the statement and a simulation made before. A payout to
// an investor the issuer froze stays owed in the escrow, shown by position and statement, until
// claimed after the unfreeze.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  txs,
  type Campaign,
  type CampaignChart,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatement,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import { CliSession, type TxJson } from './support/cli.js';

const passphrase = 'campaign test passphrase';
const runTimeoutMs = 30_000;
const suiteTimeoutMs = 300_000;
const hashPattern = /^[0-9a-f]{64}$/;
const dayMs = 86_400_000;

describe('coffer campaign commands against a node process', { timeout: suiteTimeoutMs }, () => {
  const cli = new CliSession({ name: 'cli-campaign', passphrase, runTimeoutMs });
  const { ok, okJson, fails } = cli;
  let client: CofferClient;
  let dev: SigningKey;
  let film = '';
  const addresses: Record<string, string> = {};

  /** USD balance in minor units. */
  async function usd(name: string): Promise<bigint> {
    const account = await client.getAccount(addresses[name] ?? name);
    return BigInt(account.balances.find((b) => b.asset === 'USD')?.balance ?? '0');
  }

  async function balances(names: string[]): Promise<Record<string, bigint>> {
    const out: Record<string, bigint> = {};
    for (const name of names) out[name] = await usd(name);
    return out;
  }

  async function waitForStatus(id: string, status: string): Promise<Campaign> {
    for (let attempt = 0; attempt < 1_200; attempt += 1) {
      const campaign = await client.campaigns.get(id);
      if (campaign.status === status) return campaign;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`campaign ${id} did not reach ${status}`);
  }

  before(async () => {
    await cli.start({ blockIntervalMs: 20, env: { COFFER_IDLE_BLOCK_INTERVAL_MS: '100' } });
    ({ client } = cli);
    dev = await cli.importDevKey();
    addresses.dev = dev.address;
    for (const name of [
      'producer',
      'ann',
      'ben',
      'cat',
      'reporter',
      'distributor',
      'platform',
      'maker',
      'dan',
      'eve',
      'fay',
    ]) {
      const key = await okJson<{ address: string }>(['keys', 'new', name]);
      addresses[name] = key.address;
    }
    // The dev account holds 1,000,000.00 USD: fund the investors and the reporter.
    for (const name of ['ann', 'ben', 'cat', 'reporter', 'dan', 'eve', 'fay']) {
      await client.send(
        dev,
        txs.transfer({ to: addresses[name]!, asset: 'USD', amount: '500000' }),
      );
    }
  });

  after(() => cli.close());

  // The campaign that misses its target waits for its height deadline while the next tests run:
  // its investors and producer are its own, so their balances are its alone.
  let missed = { id: '', escrow: '', before: {} as Record<string, bigint> };

  it('a campaign with a height deadline takes investments and a cancellation', async () => {
    const before = await balances(['dan', 'eve', 'fay', 'maker']);
    const created = await okJson<TxJson & { campaignId: string; escrow: string }>([
      'campaign',
      'create',
      'Short of target',
      '--asset',
      'USD',
      '--target',
      '5000',
      '--min',
      '10',
      '--max',
      '4000',
      // 25 s of idle blocks: room for the invest and cancel commands on a loaded machine.
      '--deadline',
      '+250',
      '--cancel-window',
      '5',
      '--reporter',
      'reporter',
      '--investor-share',
      '5000',
      '--from',
      'maker',
    ]);
    assert.equal(created.status, 'ok');
    assert.match(created.hash, hashPattern);
    assert.equal(created.campaignId, created.hash.slice(0, 16));
    const id = created.campaignId;
    const record = await client.campaigns.get(id);
    assert.equal(record.escrow, created.escrow);
    assert.ok('height' in record.deadline);
    assert.equal(record.target, '500000');
    assert.equal(record.cancelWindow, 5);

    const invested = await okJson<TxJson & { total: string; raised: string }>([
      'campaign',
      'invest',
      id,
      '100.25',
      '--from',
      'dan',
    ]);
    assert.deepEqual([invested.total, invested.raised], ['10025', '10025']);
    const text = await ok(['campaign', 'invest', id, '150', '--from', 'eve']);
    assert.match(text, new RegExp(`^invested 150\\.00 USD in campaign ${id}$`, 'm'));
    assert.match(text, /^raised\s+250\.25 USD of 5000\.00 USD$/m);
    // Below the minimum: refused by the node.
    await fails(['campaign', 'invest', id, '5', '--from', 'fay'], 'investment_below_minimum');
    await okJson<TxJson>(['campaign', 'invest', id, '50', '--from', 'fay']);
    assert.equal(await usd('fay'), before.fay! - 5000n);
    const cancelled = await ok(['campaign', 'cancel', id, '--from', 'fay']);
    assert.match(cancelled, /^cancelled your investment/);
    assert.equal(await usd('fay'), before.fay!, 'a cancellation refunds at once');
    assert.deepEqual((await client.campaigns.investors(id)).investors, [
      ...[addresses.dan!, addresses.eve!].sort(),
    ]);
    assert.equal(await usd(created.escrow), 25_025n);
    missed = { id, escrow: created.escrow, before };
  });

  it('a campaign reaches its target after an amendment is reconfirmed, closes early and releases less the fee', async () => {
    const deadline = new Date(Date.now() + 30 * dayMs).toISOString();
    const created = await okJson<TxJson & { campaignId: string }>([
      'campaign',
      'create',
      'The Long Take',
      '--asset',
      'USD',
      '--target',
      '1000',
      '--min',
      '100',
      '--max',
      '800',
      '--deadline',
      deadline,
      '--cancel-window',
      '48h',
      '--early-close',
      '--fee',
      '250:platform',
      '--reporter',
      'reporter',
      '--reporter',
      'dev',
      '--distribution-fee',
      '3000:distributor',
      '--premium',
      '2000',
      '--investor-share',
      '5000',
      '--from',
      'producer',
    ]);
    film = created.campaignId;
    const record = await client.campaigns.get(film);
    assert.deepEqual(record.reporters, [addresses.reporter!, addresses.dev!].sort());
    assert.deepEqual(record.platformFee, { basisPoints: 250, to: addresses.platform });
    assert.equal(record.cancelWindow, 48 * 3_600_000);
    assert.deepEqual(
      record.distribution.tranches.map((t) => [t.name, t.shareBasisPoints, t.cap]),
      [
        ['distribution fee', 3000, undefined],
        ['recoup', 10_000, { principalBasisPoints: 10_000 }],
        ['premium', 10_000, { principalBasisPoints: 2000 }],
        ['profit', 10_000, undefined],
      ],
    );

    await okJson<TxJson>(['campaign', 'invest', film, '600', '--from', 'ann']);
    await fails(['campaign', 'invest', film, '900', '--from', 'ben'], 'investment_above_maximum');
    // Only the producer amends; once anyone invested, investors must reconfirm.
    await fails(
      ['campaign', 'amend', film, '--title', 'Hijacked', '--from', 'ann'],
      'not_producer',
    );
    await fails(
      [
        'campaign',
        'amend',
        film,
        '--title',
        "The Long Take (director's cut)",
        '--from',
        'producer',
      ],
      'invalid_reconfirm_by',
    );
    const reconfirmBy = new Date(Date.now() + 10 * dayMs).toISOString();
    const amended = await ok([
      'campaign',
      'amend',
      film,
      '--title',
      "The Long Take (director's cut)",
      '--reconfirm-by',
      reconfirmBy,
      '--from',
      'producer',
    ]);
    assert.match(amended, /^amended title of campaign/);
    const pending = await okJson<CampaignPosition>(['campaign', 'position', film, 'ann']);
    assert.equal(pending.reconfirmation, 'pending');
    await okJson<TxJson>(['campaign', 'reconfirm', film, '--from', 'ann']);
    assert.equal((await client.campaigns.get(film)).reconfirmation, null);

    const producerBefore = await usd('producer');
    const closing = await ok(['campaign', 'invest', film, '400', '--from', 'ben']);
    assert.match(
      closing,
      /; the target is reached: the campaign closed and the escrow went to the producer$/m,
    );
    assert.match(closing, /^raised\s+1000\.00 USD of 1000\.00 USD$/m);
    const campaign = await client.campaigns.get(film);
    assert.equal(campaign.status, 'succeeded');
    assert.equal(campaign.title, "The Long Take (director's cut)");
    assert.deepEqual([campaign.principal, campaign.fee], ['100000', '2500']);
    assert.equal(await usd('producer'), producerBefore + 97_500n);
    assert.equal(await usd('platform'), 2_500n);
    assert.equal(await usd(campaign.escrow), 0n);
    const shown = await ok(['campaign', 'show', film]);
    assert.match(shown, /^status\s+succeeded$/m);
    assert.match(shown, /^platform fee\s+2\.5% to cof1/m);
    assert.match(shown, /^cancel until\s+48h before the deadline$/m);
    assert.match(
      shown,
      /^ {2}1\. distribution fee: 30% of what remains -> cof1\S+$/m,
      'the distribution fee tranche',
    );
  });

  it('two revenue reports are paid by the waterfall, to the minor unit, as simulated', async () => {
    const names = ['ann', 'ben', 'producer', 'distributor', 'reporter'];
    const start = await balances(names);

    // The simulation of the first report, before it: who gets what per tranche.
    const simulatedText = await ok(['campaign', 'simulate', film, '2000']);
    assert.match(simulatedText, /^a report of 2000\.00 USD on campaign \S+ now would pay/);
    assert.match(simulatedText, /^1\s+distribution fee\s+600\.00\s+600\.00\s+-\s+-$/m);
    assert.match(simulatedText, /^2\s+recoup\s+1000\.00\s+1000\.00\s+1000\.00\s+0\.00$/m);
    assert.match(simulatedText, /^3\s+premium\s+200\.00\s+200\.00\s+200\.00\s+0\.00$/m);
    assert.match(simulatedText, /^4\s+profit\s+200\.00\s+200\.00\s+-\s+-$/m);
    assert.match(
      simulatedText,
      new RegExp(`^2\\s+recoup\\s+investor\\s+${addresses.ann}\\s+600\\.00$`, 'm'),
    );
    const simulated = await okJson<CampaignSimulation>(['campaign', 'simulate', film, '2000']);

    const first = await okJson<TxJson & { report: number; byClass: Record<string, string> }>([
      'campaign',
      'report',
      film,
      '2000',
      '--report-id',
      'week-1',
      '--period',
      '2026-01-02..2026-01-09',
      '--from',
      'reporter',
    ]);
    assert.equal(first.report, 0);
    assert.deepEqual(first.byClass, { investors: '130000', producer: '10000', accounts: '60000' });
    const afterFirst = await balances(names);
    // Fee 30% = 600.00; recoup 1000.00 (600/400); premium 20% of principal = 200.00 (120/80);
    // the 200.00 left split 50/50: investors 100.00 (60/40), producer 100.00.
    const expectedFirst: Record<string, bigint> = {
      ann: 60_000n + 12_000n + 6_000n,
      ben: 40_000n + 8_000n + 4_000n,
      producer: 10_000n,
      distributor: 60_000n,
      reporter: -200_000n,
    };
    for (const name of names) {
      assert.equal(afterFirst[name]! - start[name]!, expectedFirst[name], name);
    }
    for (const transfer of simulated.transfers) {
      const name = Object.keys(addresses).find((n) => addresses[n] === transfer.address)!;
      assert.equal(BigInt(transfer.amount), expectedFirst[name], `simulated ${name}`);
    }

    // A second report of an odd amount: only the fee and profit tranches are left to fill, and the
    // profit increment of 700.01 splits 210.00 / 140.00 / 350.01 by the largest remainder.
    const second = await ok([
      'campaign',
      'report',
      film,
      '1000.01',
      '--report-id',
      'week-2',
      '--period',
      '2026-01-09..2026-01-16',
      '--from',
      'dev',
    ]);
    assert.match(second, /^reported 1000\.01 USD for campaign \S+ \(week-2\) and paid it out$/m);
    assert.match(second, /^cumulative\s+3000\.01 USD$/m);
    const afterSecond = await balances(names);
    const expectedSecond: Record<string, bigint> = {
      ann: 21_000n,
      ben: 14_000n,
      producer: 35_001n,
      distributor: 30_000n,
      reporter: 0n,
    };
    for (const name of names) {
      assert.equal(afterSecond[name]! - afterFirst[name]!, expectedSecond[name], name);
    }

    // Positions and the statement agree with the balances.
    const ann = await okJson<CampaignPosition>(['campaign', 'position', film, 'ann']);
    assert.equal(ann.paidOut, String(78_000 + 21_000));
    assert.equal(ann.net, String(99_000 - 60_000));
    assert.deepEqual(
      ann.payouts.map((p) => [p.reportId, p.total]),
      [
        ['week-1', '78000'],
        ['week-2', '21000'],
      ],
    );
    assert.deepEqual(
      ann.paidOutByTranche.map((t) => [t.name, t.amount]),
      [
        ['distribution fee', '0'],
        ['recoup', '60000'],
        ['premium', '12000'],
        ['profit', '27000'],
      ],
    );
    const ben = await okJson<CampaignPosition>(['campaign', 'position', film, 'ben']);
    assert.equal(ben.paidOut, String(52_000 + 14_000));
    const annText = await ok(['campaign', 'position', film, 'ann']);
    assert.match(annText, /^paid out\s+990\.00 USD$/m);
    assert.match(annText, /^net\s+390\.00 USD$/m);
    assert.match(annText, /^\s*1\s+week-2\s+profit\s+210\.00$/m);

    const statement = await okJson<CampaignStatement>(['campaign', 'statement', film]);
    assert.equal(statement.cumulativeRevenue, '300001');
    assert.deepEqual(
      statement.reports.map((r) => [r.reportId, r.grossRevenue, r.byClass]),
      [
        ['week-1', '200000', { investors: '130000', producer: '10000', accounts: '60000' }],
        ['week-2', '100001', { investors: '35000', producer: '35001', accounts: '30000' }],
      ],
    );
    const investorsPaid = statement.reports.reduce(
      (sum, r) => sum + BigInt(r.byClass.investors),
      0n,
    );
    assert.equal(investorsPaid, BigInt(ann.paidOut) + BigInt(ben.paidOut));
    assert.deepEqual(
      statement.tranches.map((t) => [t.name, t.fill, t.capRemaining]),
      [
        ['distribution fee', '90000', null],
        ['recoup', '100000', '0'],
        ['premium', '20000', '0'],
        ['profit', '90001', null],
      ],
    );
    const statementText = await ok(['campaign', 'statement', film]);
    assert.match(
      statementText,
      /^1\s+week-2\s+2026-01-09\.\.2026-01-16\s+1000\.01\s+3000\.01\s+350\.00\s+350\.01\s+300\.00$/m,
    );
    assert.match(statementText, /^4\s+profit\s+900\.01\s+-\s+-$/m);
    const chart = await okJson<CampaignChart>(['campaign', 'chart', film]);
    assert.deepEqual(chart.series.at(-1)!.classes, {
      investors: '165000',
      producer: '45001',
      accounts: '90000',
    });
    assert.match(await ok(['campaign', 'chart', film]), /^1\s+2026-01-16\s+3000\.01\s+/m);

    // A report id is applied once; only a reporter reports.
    await fails(
      [
        'campaign',
        'report',
        film,
        '5',
        '--report-id',
        'week-2',
        '--period',
        '2026-01-09..2026-01-16',
        '--from',
        'reporter',
      ],
      'duplicate_report',
    );
    const reason = await fails(
      [
        'campaign',
        'report',
        film,
        '5',
        '--report-id',
        'week-3',
        '--period',
        '2026-01-16..2026-01-23',
        '--from',
        'ann',
      ],
      'not_reporter',
    );
    assert.match(reason, /included at height \d+; its nonce is spent/);
    assert.equal((await client.campaigns.get(film)).reportCount, 2);
    assert.equal(await usd('ann'), afterSecond.ann, 'a refused report moves nothing');
  });

  it('a payout to a frozen investor stays owed, shown in position and statement, until claimed', async () => {
    const created = await okJson<TxJson & { campaignId: string; escrow: string }>([
      'campaign',
      'create',
      'Frozen Frame',
      '--asset',
      'USD',
      '--target',
      '100',
      '--min',
      '1',
      '--max',
      '100',
      '--deadline',
      '+5000',
      '--early-close',
      '--reporter',
      'reporter',
      '--investor-share',
      '5000',
      '--from',
      'producer',
    ]);
    const id = created.campaignId;
    await okJson<TxJson>(['campaign', 'invest', id, '60', '--from', 'ann']);
    await okJson<TxJson>(['campaign', 'invest', id, '40', '--from', 'ben']);
    assert.equal((await client.campaigns.get(id)).status, 'succeeded');

    // The issuer of USD (the dev key) freezes ben before the report.
    const frozen = await client.send(dev, txs.freeze({ symbol: 'USD', account: addresses.ben! }));
    assert.equal(frozen.status, 'ok', JSON.stringify(frozen));
    const benBefore = await usd('ben');
    // Recoup 100.00 (60/40), then 200.00 split 50/50: investors 100.00 (60/40), producer 100.00.
    await okJson<TxJson>([
      'campaign',
      'report',
      id,
      '300',
      '--report-id',
      'frozen-1',
      '--period',
      '2026-02-01..2026-02-08',
      '--from',
      'reporter',
    ]);
    assert.equal(await usd('ben'), benBefore, 'a frozen investor is paid nothing');
    assert.equal(await usd(created.escrow), 8_000n, 'its payout stays in the escrow');

    const position = await okJson<CampaignPosition>(['campaign', 'position', id, 'ben']);
    assert.equal(position.payoutOwed, '8000');
    const benText = await ok(['campaign', 'position', id, 'ben']);
    assert.match(
      benText,
      new RegExp(`^owed payouts\\s+80\\.00 USD \\(.*coffer campaign claim ${id}\\)$`, 'm'),
    );
    assert.match(benText, /^\s*0\s+frozen-1\s+recoup\s+40\.00\s+owed$/m);
    assert.match(benText, /^recoup\s+0\.00\s+40\.00$/m);
    const annText = await ok(['campaign', 'position', id, 'ann']);
    assert.doesNotMatch(annText, /owed/i, 'nothing owed to ann');
    assert.match(annText, /^paid out\s+120\.00 USD$/m);

    const statementText = await ok(['campaign', 'statement', id]);
    assert.match(statementText, /^owed payouts\s+80\.00 USD \(to claim\)$/m);
    assert.doesNotMatch(statementText, /^owed refunds/m);
    assert.match(
      statementText,
      /^0\s+frozen-1\s+2026-02-01\.\.2026-02-08\s+300\.00\s+300\.00\s+200\.00\s+100\.00\s+0\.00\s+80\.00$/m,
    );
    assert.match(statementText, new RegExp(`^owed \\(.*coffer campaign claim ${id}\\)$`, 'm'));
    assert.match(
      statementText,
      new RegExp(`^${addresses.ben}\\s+80\\.00\\s+80\\.00\\s+0\\.00$`, 'm'),
    );

    // Claiming while frozen is refused; after the unfreeze the claim pays it to the minor unit.
    await cli.refused(['campaign', 'claim', id, '--from', 'ben'], 'account_frozen');
    assert.equal(await usd('ben'), benBefore);
    const thawed = await client.send(dev, txs.unfreeze({ symbol: 'USD', account: addresses.ben! }));
    assert.equal(thawed.status, 'ok', JSON.stringify(thawed));
    const claimed = await ok(['campaign', 'claim', id, '--from', 'ben']);
    assert.match(claimed, /^claimed \(campaign /);
    assert.equal(await usd('ben'), benBefore + 8_000n);
    assert.equal(await usd(created.escrow), 0n);

    const paid = await ok(['campaign', 'position', id, 'ben']);
    assert.doesNotMatch(paid, /owed/i);
    assert.match(paid, /^paid out\s+80\.00 USD$/m);
    const settled = await ok(['campaign', 'statement', id]);
    assert.doesNotMatch(settled, /owed/i);
    assert.match(
      settled,
      /^0\s+frozen-1\s+2026-02-01\.\.2026-02-08\s+300\.00\s+300\.00\s+200\.00\s+100\.00\s+0\.00$/m,
    );
  });

  it('a distribution file is sent as written and the node checks it; claim with nothing owed is refused', async () => {
    const rule = {
      tranches: [
        {
          name: 'sales agent',
          shareBasisPoints: 1000,
          cap: { amount: '50000' },
          recipients: [
            { kind: 'account', address: addresses.distributor, weightBasisPoints: 10_000 },
          ],
        },
        {
          name: 'split',
          shareBasisPoints: 10_000,
          recipients: [
            { kind: 'investors', weightBasisPoints: 7000 },
            { kind: 'producer', weightBasisPoints: 3000 },
          ],
        },
      ],
    };
    const file = path.join(cli.workDir, 'waterfall.json');
    fs.writeFileSync(file, JSON.stringify(rule));
    const args = [
      'campaign',
      'create',
      'From a file',
      '--asset',
      'USD',
      '--target',
      '100',
      '--min',
      '1',
      '--max',
      '100',
      '--deadline',
      '+1000',
      '--reporter',
      'reporter',
      '--from',
      'producer',
    ];
    const created = await okJson<{ campaignId: string }>([...args, '--distribution', file]);
    const record = await client.campaigns.get(created.campaignId);
    assert.deepEqual(record.distribution, rule);
    const shown = await ok(['campaign', 'show', created.campaignId]);
    assert.match(
      shown,
      /^ {2}1\. sales agent: 10% of what remains, up to 500\.00 USD -> cof1\S+$/m,
    );
    assert.match(shown, /^ {2}2\. split: all that remains -> investors 70%, producer 30%$/m);

    // A rule that leaves revenue unassigned is the node's to refuse.
    const broken = path.join(cli.workDir, 'broken.json');
    fs.writeFileSync(
      broken,
      JSON.stringify({ tranches: [{ ...rule.tranches[1], shareBasisPoints: 9000 }] }),
    );
    await fails([...args, '--distribution', broken], 'distribution_leaves_remainder');
    const notJson = path.join(cli.workDir, 'not.json');
    fs.writeFileSync(notJson, '{tranches');
    await fails([...args, '--distribution', notJson], 'invalid_file');
    await fails(
      [...args, '--distribution', path.join(cli.workDir, 'missing.json')],
      'invalid_file',
    );

    await fails(['campaign', 'claim', created.campaignId, '--from', 'ann'], 'nothing_to_claim');
    await fails(['campaign', 'cancel', created.campaignId, '--from', 'ann'], 'position_not_found');
  });

  it('refuses a bad command line with exit 2; an amount the asset cannot hold with exit 1', async () => {
    const base = ['campaign', 'create', 'X', '--asset', 'USD', '--target', '10', '--min', '1'];
    const create = [...base, '--max', '5', '--reporter', 'reporter', '--from', 'producer'];
    const cases: [string[], RegExp][] = [
      [['campaign', 'show', 'ABCDEF0123456789'], /16 lowercase hex/],
      [['campaign', 'invest', 'nope', '10', '--from', 'ann'], /CAMPAIGN/],
      [[...create, '--deadline', 'tomorrow', '--investor-share', '5000'], /--deadline is height:N/],
      [[...create, '--deadline', '2026-03-01T18:00', '--investor-share', '5000'], /ISO date/],
      [[...create, '--deadline', 'height:0', '--investor-share', '5000'], /from 1/],
      [[...create, '--deadline', '+10', '--investor-share', '10001'], /--investor-share/],
      [[...create, '--deadline', '+10'], /give the distribution/],
      [[...create, '--deadline', '+10', '--premium', '100'], /--investor-share BP is required/],
      [
        [...create, '--deadline', '+10', '--investor-share', '1', '--distribution', 'x.json'],
        /not both/,
      ],
      [[...create, '--deadline', '+10', '--investor-share', '1', '--fee', '250'], /BP:ADDRESS/],
      [
        [...create, '--deadline', '+10', '--investor-share', '1', '--cancel-window', '48h'],
        /number of blocks/,
      ],
      [
        [...base, '--max', '5', '--deadline', '+10', '--investor-share', '1', '--from', 'producer'],
        /--reporter ADDRESS is required/,
      ],
      [
        [
          'campaign',
          'report',
          film,
          '5',
          '--report-id',
          'a b',
          '--period',
          '2026-01-01..2026-01-02',
          '--from',
          'reporter',
        ],
        /--report-id/,
      ],
      [
        [
          'campaign',
          'report',
          film,
          '5',
          '--report-id',
          'w',
          '--period',
          '2026-01-02..2026-01-01',
          '--from',
          'reporter',
        ],
        /before TO/,
      ],
      [
        [
          'campaign',
          'report',
          film,
          '5',
          '--report-id',
          'w',
          '--period',
          '2026-01-02',
          '--from',
          'reporter',
        ],
        /FROM\.\.TO/,
      ],
      [['campaign', 'amend', film, '--from', 'producer'], /at least one term/],
      [
        ['campaign', 'amend', film, '--early-close', '--no-early-close', '--from', 'producer'],
        /one of/,
      ],
      [['campaign', 'simulate', film], /wrong number of arguments/],
      [['campaign', 'position', film], /name the ACCOUNT/],
    ];
    for (const [args, message] of cases) {
      const reason = await fails(args, 'usage', { exitCode: 2 });
      assert.match(reason, message, args.join(' '));
    }
    const unknown = await fails(['campaign', 'fund', film], 'usage', { exitCode: 2 });
    assert.match(unknown, /unknown command campaign fund/);
    // As for send: an amount is checked against the asset's decimals, and refused (exit 1).
    const reason = await fails(['campaign', 'simulate', film, '1.001'], 'invalid_amount');
    assert.match(reason, /3 digits after the point, and USD has 2 decimals/);
    await fails(['campaign', 'invest', film, 'ten', '--from', 'ann'], 'invalid_amount');
  });

  it('the campaign that missed its target at the height deadline refunds every investor exactly', async () => {
    const { id, before } = missed;
    const created = { escrow: missed.escrow };
    const failed = await waitForStatus(id, 'failed');
    assert.equal(failed.raised, '0');
    assert.deepEqual(await balances(['dan', 'eve', 'fay', 'maker']), before);
    assert.equal(await usd(created.escrow), 0n);
    const position = await okJson<CampaignPosition>(['campaign', 'position', id, 'dan']);
    assert.deepEqual(
      [position.status, position.invested, position.refunded, position.principal],
      ['failed', '10025', '10025', '0'],
    );
    const shown = await ok(['campaign', 'show', id]);
    assert.match(shown, /^status\s+failed$/m);
    assert.match(shown, /^target\s+5000\.00 USD$/m);
    assert.match(shown, /^cancel until\s+5 blocks before the deadline$/m);
    assert.match(
      shown,
      /^ {2}1\. recoup: all that remains, up to 100% of principal -> investors$/m,
    );
    assert.match(shown, /^ {2}2\. profit: all that remains -> investors 50%, producer 50%$/m);
    await fails(['campaign', 'invest', id, '10', '--from', 'dan'], 'campaign_not_funding');
  });

  it('lists the campaigns newest first, filtered, a page at a time', async () => {
    type Page = {
      campaigns: { number: number; id: string; status: string; producer: string }[];
      next: number | null;
    };
    const all = await okJson<Page>(['campaign', 'list', '--limit', '100']);
    assert.ok(all.campaigns.length >= 3, JSON.stringify(all));
    const numbers = all.campaigns.map((c) => c.number);
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => b - a),
      'newest first',
    );
    const first = await okJson<Page>(['campaign', 'list', '--limit', '1']);
    assert.equal(first.campaigns[0]!.number, numbers[0]);
    assert.equal(first.next, numbers[0]);
    const second = await okJson<Page>([
      'campaign',
      'list',
      '--limit',
      '1',
      '--before',
      String(first.next),
    ]);
    assert.equal(second.campaigns[0]!.number, numbers[1]);
    const failed = await okJson<Page>([
      'campaign',
      'list',
      '--status',
      'failed',
      '--producer',
      'maker',
    ]);
    assert.ok(failed.campaigns.length >= 1);
    assert.ok(failed.campaigns.every((c) => c.status === 'failed'));
    const text = await ok(['campaign', 'list']);
    assert.match(text, /^#\s+CAMPAIGN\s+STATUS\s+RAISED\s+TARGET\s+TITLE/);
    assert.match(text, / USD /);
    await fails(['campaign', 'list', '--status', 'won'], 'usage', { exitCode: 2 });
    await fails(['campaign', 'list', '--limit', '0'], 'usage', { exitCode: 2 });
  });
});
