// Movie investment end to end, as issue 6 asks: through the HTTP API of a node process started
// with the dev clock. A campaign that misses its target refunds every investor with no tx from
// anyone; one that reaches it releases the escrow to the producer (less the platform fee), takes
// two box-office reports and pays them out through the waterfall, to the minor unit.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  createClient,
  generateKey,
  importKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import { childEnv, cliPath } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

const hourMs = 3_600_000;
const suiteTimeoutMs = 60_000;

interface Campaign {
  id: string;
  status: string;
  raised: string;
  revenue: string;
  escrow: string;
}

describe('campaigns through the API of a node process', { timeout: suiteTimeoutMs }, () => {
  let node: NodeProcess | undefined;
  let workDir = '';
  let url = '';
  let client: CofferClient;
  let dev: SigningKey;
  const killOnExit = () => node?.killNow();

  const producer = generateKey();
  const distributor = generateKey();
  const platform = generateKey();
  const reporter = generateKey();
  const stranger = generateKey();
  const alice = generateKey();
  const bob = generateKey();
  const carol = generateKey();

  async function http(method: string, route: string, body?: unknown) {
    const response = await fetch(url + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async function ok(key: SigningKey, type: string, payload: Record<string, unknown>) {
    const result = await client.send(key, { type, payload });
    assert.equal(result.status, 'ok', `${type}: ${JSON.stringify(result)}`);
    return result;
  }

  async function usd(key: SigningKey | string): Promise<bigint> {
    const address = typeof key === 'string' ? key : key.address;
    const account = await client.getAccount(address);
    return BigInt(account.balances.find((b) => b.asset === 'USD')?.balance ?? '0');
  }

  async function campaign(id: string): Promise<Campaign> {
    const answer = await http('GET', `/v1/campaigns/${id}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return answer.json as unknown as Campaign;
  }

  /** Moves block time past the deadline; the outcome runs in that block's beginBlock. */
  async function passDeadline() {
    const moved = await http('POST', '/v1/dev/clock', { advanceMs: 2 * hourMs });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    assert.equal(moved.json.blockCut, true);
  }

  async function create(terms: Record<string, unknown>) {
    const now = (await client.health()).blockTime;
    const created = await ok(producer, 'campaign.create', {
      asset: 'USD',
      opensAt: { time: now },
      deadline: { time: now + hourMs },
      cancelWindow: 0,
      earlyClose: false,
      reporters: [reporter.address],
      distribution: {
        tranches: [
          {
            name: 'distribution fee',
            shareBasisPoints: 3_000,
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
      },
      ...terms,
    });
    return created.hash.slice(0, 16);
  }

  before(async () => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-crowdfund-e2e-'));
    const dataDir = path.join(workDir, 'node');
    process.on('exit', killOnExit);
    node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs: 20,
      logLevel: 'warn',
      env: { ...childEnv, COFFER_DEV_CLOCK: '1' },
      startTimeoutMs: 15_000,
    });
    ({ url } = await node.listening());
    client = createClient(url);
    const devFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
      secretKey: string;
    };
    dev = importKey(devFile.secretKey);
    // 1,000.00 USD each to the investors and 5,000.00 to the reporter, who deposits revenue.
    for (const [key, amount] of [
      [alice, '100000'],
      [bob, '100000'],
      [carol, '100000'],
      [reporter, '500000'],
    ] as const) {
      await client.send(dev, txs.transfer({ to: key.address, asset: 'USD', amount }));
    }
  });

  after(async () => {
    await node?.kill();
    process.off('exit', killOnExit);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('refunds every investor exactly when the target is missed, with no tx from anyone', async () => {
    const id = await create({
      title: 'The Long Winter',
      target: '500000',
      minInvestment: '1000',
      maxInvestment: '100000',
    });
    const before = { alice: await usd(alice), carol: await usd(carol) };
    await ok(alice, 'campaign.invest', { campaignId: id, amount: '12345' });
    await ok(carol, 'campaign.invest', { campaignId: id, amount: '30001' });
    await ok(alice, 'campaign.invest', { campaignId: id, amount: '1000' });
    const funding = await campaign(id);
    assert.equal(funding.raised, '43346');
    assert.equal(await usd(funding.escrow), 43_346n);

    // Revenue is reported only once the campaign has succeeded.
    await assert.rejects(
      client.send(reporter, {
        type: 'campaign.reportRevenue',
        payload: {
          campaignId: id,
          reportId: 'early',
          periodStart: 1,
          periodEnd: 2,
          grossRevenue: '100',
        },
      }),
      (error: { code?: string }) => error.code === 'campaign_not_succeeded',
    );

    await passDeadline();
    assert.equal((await campaign(id)).status, 'failed');
    assert.equal(await usd(alice), before.alice, 'alice has every minor unit back');
    assert.equal(await usd(carol), before.carol, 'carol has every minor unit back');
    assert.equal(await usd(funding.escrow), 0n);
    const position = await http('GET', `/v1/campaigns/${id}/investors/${alice.address}`);
    assert.equal(position.json.refunded, '13345');
  });

  it('releases to the producer, then pays two reports through the waterfall', async () => {
    const id = await create({
      title: 'Harbour Lights',
      target: '100000',
      minInvestment: '1000',
      maxInvestment: '100000',
      platformFee: { basisPoints: 500, to: platform.address },
    });
    await ok(alice, 'campaign.invest', { campaignId: id, amount: '60000' });
    await ok(bob, 'campaign.invest', { campaignId: id, amount: '40000' });
    const investors = await http('GET', `/v1/campaigns/${id}/investors`);
    assert.deepEqual(
      investors.json.investors,
      [alice.address, bob.address].sort(),
      'investors in address order',
    );

    await passDeadline();
    assert.equal((await campaign(id)).status, 'succeeded');
    assert.equal(await usd(producer), 95_000n, 'the escrow less the 5% platform fee');
    assert.equal(await usd(platform), 5_000n);

    // Report 1: 1,000.00 -> 300.00 distribution fee, 700.00 recouped 60/40.
    const balances = async () => ({
      alice: await usd(alice),
      bob: await usd(bob),
      producer: await usd(producer),
      distributor: await usd(distributor),
    });
    let start = await balances();
    const report = (reportId: string, grossRevenue: string, key = reporter) =>
      client.send(key, {
        type: 'campaign.reportRevenue',
        payload: { campaignId: id, reportId, periodStart: 0, periodEnd: 1, grossRevenue },
      });
    assert.equal((await report('week-1', '100000')).status, 'ok');
    let now = await balances();
    assert.deepEqual(
      [
        now.distributor - start.distributor,
        now.alice - start.alice,
        now.bob - start.bob,
        now.producer - start.producer,
      ],
      [30_000n, 42_000n, 28_000n, 0n],
    );

    // What report 2 would pay, without a tx, is what it pays.
    const simulated = await http('POST', `/v1/campaigns/${id}/simulate`, { revenue: '150000' });
    assert.equal(simulated.status, 200, JSON.stringify(simulated.json));

    // Report 2: 1,500.00 more; the waterfall carries over: fee 450.00, recoup completes (300.00),
    // premium 200.00, the rest 550.00 split 50/50 between investors (60/40) and the producer.
    start = await balances();
    assert.equal((await report('week-2', '150000')).status, 'ok');
    now = await balances();
    assert.deepEqual(
      [
        now.distributor - start.distributor,
        now.alice - start.alice,
        now.bob - start.bob,
        now.producer - start.producer,
      ],
      [45_000n, 46_500n, 31_000n, 27_500n],
    );
    const byAddress = new Map<string, bigint>();
    for (const line of simulated.json.lines as { address: string; amount: string }[]) {
      byAddress.set(line.address, (byAddress.get(line.address) ?? 0n) + BigInt(line.amount));
    }
    assert.deepEqual(
      [alice, bob, producer, distributor].map((k) => byAddress.get(k.address) ?? 0n),
      [46_500n, 31_000n, 27_500n, 45_000n],
      'simulate predicted the payout',
    );

    // A report applies once; only an authorised reporter reports.
    await assert.rejects(report('week-2', '150000'), (error: { code?: string }) => {
      return error.code === 'duplicate_report';
    });
    await client.send(dev, txs.transfer({ to: stranger.address, asset: 'USD', amount: '1000' }));
    await assert.rejects(report('fake', '1000', stranger), (error: { code?: string }) => {
      return error.code === 'not_reporter';
    });
    assert.equal((await campaign(id)).revenue, '250000');

    // Statements agree with the balances.
    const position = await http('GET', `/v1/campaigns/${id}/investors/${alice.address}`);
    assert.equal(position.json.paidOut, (42_000n + 46_500n).toString());
    const statement = await http('GET', `/v1/campaigns/${id}/statement`);
    assert.equal(statement.status, 200);
    const entries = statement.json.reports as {
      reportId: string;
      tranches: { fill: string; capRemaining: string | null }[];
    }[];
    assert.deepEqual(
      entries.map((e) => [e.reportId, e.tranches.map((t) => [t.fill, t.capRemaining])]),
      [
        [
          'week-1',
          [
            ['30000', null],
            ['70000', '30000'],
            ['0', '20000'],
            ['0', null],
          ],
        ],
        [
          'week-2',
          [
            ['75000', null],
            ['100000', '0'],
            ['20000', '0'],
            ['55000', null],
          ],
        ],
      ],
    );
    const chart = await http('GET', `/v1/campaigns/${id}/chart`);
    assert.equal(chart.status, 200);
    const series = chart.json.series as { cumulativeRevenue: string; tranches: string[] }[];
    assert.deepEqual(
      series.map((point) => [point.cumulativeRevenue, point.tranches]),
      [
        ['100000', ['30000', '70000', '0', '0']],
        ['250000', ['75000', '100000', '20000', '55000']],
      ],
    );
  });

  it('lists campaigns newest first, by producer and status, a page at a time', async () => {
    const all = await http('GET', '/v1/campaigns');
    assert.equal(all.status, 200);
    const listed = all.json.campaigns as { number: number; title: string; status: string }[];
    assert.deepEqual(
      listed.map((c) => [c.number, c.title, c.status]),
      [
        [1, 'Harbour Lights', 'succeeded'],
        [0, 'The Long Winter', 'failed'],
      ],
    );
    assert.equal(all.json.next, null);
    const page = await http('GET', '/v1/campaigns?limit=1');
    assert.equal((page.json.campaigns as unknown[]).length, 1);
    assert.equal(page.json.next, 1);
    const older = await http('GET', `/v1/campaigns?limit=1&before=${String(page.json.next)}`);
    assert.equal((older.json.campaigns as { title: string }[])[0]!.title, 'The Long Winter');
    const failed = await http('GET', `/v1/campaigns?status=failed&producer=${producer.address}`);
    assert.deepEqual(
      (failed.json.campaigns as { title: string }[]).map((c) => c.title),
      ['The Long Winter'],
    );
    const nobody = await http('GET', `/v1/campaigns?producer=${stranger.address}`);
    assert.deepEqual(nobody.json.campaigns, []);
    const bad = await http('GET', '/v1/campaigns?limit=101');
    assert.equal(bad.status, 400);
  });

  it('answers clear errors for unknown campaigns and bad simulations', async () => {
    let answer = await http('GET', '/v1/campaigns/nothex');
    assert.equal(answer.status, 400);
    assert.equal((answer.json.error as { code: string }).code, 'invalid_campaign_id');
    answer = await http('GET', `/v1/campaigns/${'0'.repeat(16)}`);
    assert.equal(answer.status, 404);
    assert.equal((answer.json.error as { code: string }).code, 'campaign_not_found');
    const id = await create({
      title: 'Empty',
      target: '1000',
      minInvestment: '1000',
      maxInvestment: '1000',
    });
    answer = await http('POST', `/v1/campaigns/${id}/simulate`, { revenue: '-5' });
    assert.equal(answer.status, 400);
    assert.equal((answer.json.error as { code: string }).code, 'invalid_amount');
    answer = await http('POST', `/v1/campaigns/${id}/simulate`, { revenue: '100' });
    assert.equal(answer.status, 422);
    assert.equal((answer.json.error as { code: string }).code, 'no_investors');
    answer = await http('GET', `/v1/campaigns/${id}/investors/${alice.address}`);
    assert.equal(answer.status, 404);
    assert.equal((answer.json.error as { code: string }).code, 'position_not_found');
  });
});
