import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fromHex, sign, signingMessage, toHex } from '../../crypto/index.js';
import {
  hashUserId,
  issuanceRequestHash,
  type MemberStatement,
  type TimebankRecord,
} from './index.js';
import { generateKey, hashTx, importKey, signTx, type SigningKey } from '../../sdk/index.js';
import { parseNodeConfig } from '../../node/config.js';
import { CofferNode, type FinalBlock } from '../../node/node.js';
import { IssuanceTracker } from './routes.js';

describe('time bank read API', () => {
  let node: CofferNode;
  let dataDir: string;
  let coordinator: SigningKey;
  const member = generateKey();
  let bankId: string;

  const get = (url: string) => node.app.inject({ method: 'GET', url });

  async function commit(key: SigningKey, type: string, payload: Record<string, unknown>) {
    const account = (await get(`/v1/accounts/${key.address}`)).json<{ nonce: number }>();
    const tx = signTx(
      { chainId: node.chain.chainId, sender: key.address, nonce: account.nonce, type, payload },
      key,
    );
    const res = await node.app.inject({ method: 'POST', url: '/v1/txs?wait=commit', payload: tx });
    assert.equal(res.statusCode, 200, res.body);
    return hashTx(tx);
  }

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-timecredits-api-'));
    const config = parseNodeConfig(
      { dataDir, logLevel: 'silent', blockIntervalMs: 5, idleBlockIntervalMs: 0, port: 0 },
      {},
    );
    node = await CofferNode.open(config);
    coordinator = importKey(toHex(node.init.devAccount!.secretKey));
    await node.listen();
    const hash = await commit(coordinator, 'timebank.create', {
      name: 'Harbour time bank',
      coordinators: [coordinator.address],
      policy: { kind: 'expiry', expiryDays: 90 },
      creditLimitMinutes: '60',
    });
    bankId = hash.slice(0, 16);
    await commit(coordinator, 'timebank.addMember', {
      bankId,
      account: member.address,
      userIdHash: hashUserId(hash, 'mo@example.org'),
    });
    await commit(coordinator, 'timecredits.issue', {
      bankId,
      account: member.address,
      minutes: '600',
      requestId: 'req-1',
    });
  });

  after(async () => {
    await node.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('GET /v1/timebanks/{id} answers the bank', async () => {
    const res = await get(`/v1/timebanks/${bankId}`);
    assert.equal(res.statusCode, 200, res.body);
    const bank = res.json<TimebankRecord>();
    assert.equal(bank.name, 'Harbour time bank');
    assert.equal(bank.issuedMinutes, '600');
    assert.deepEqual(bank.policy, { kind: 'expiry', expiryDays: 90, noticeDays: 7 });
  });

  it('GET .../members/{account}/statement lists lots as of the latest block time', async () => {
    const res = await get(`/v1/timebanks/${bankId}/members/${member.address}/statement`);
    assert.equal(res.statusCode, 200, res.body);
    const statement = res.json<MemberStatement>();
    assert.equal(statement.asOf, node.chain.latest().header.time);
    assert.equal(statement.lots.length, 1);
    const [lot] = statement.lots;
    assert.equal(lot!.minutes, '600');
    assert.equal(lot!.effectiveMinutes, '600');
    assert.equal(lot!.expiresAt, lot!.baseTime + 90 * 86_400_000);
    assert.equal(statement.balanceMinutes, '600');
  });

  it('answers the registry codes for bad or unknown ids', async () => {
    const cases: [string, number, string][] = [
      ['/v1/timebanks/nothex', 400, 'invalid_bank_id'],
      ['/v1/timebanks/0000000000000000', 404, 'timebank_not_found'],
      [`/v1/timebanks/${bankId}/members/nobody/statement`, 400, 'invalid_address'],
      [
        `/v1/timebanks/${bankId}/members/${generateKey().address}/statement`,
        404,
        'member_not_found',
      ],
      [`/v1/timebanks/${bankId}/members/${generateKey().address}`, 404, 'member_not_found'],
      [`/v1/timebanks/${bankId}/lots/x`, 400, 'invalid_lot'],
      [`/v1/timebanks/${bankId}/lots/99`, 404, 'lot_not_found'],
      [`/v1/timebanks/${bankId}/exchanges/01`, 400, 'invalid_exchange_id'],
      [`/v1/timebanks/${bankId}/exchanges/5`, 404, 'exchange_not_found'],
      [`/v1/timebanks/${bankId}/listings/7`, 404, 'listing_not_found'],
      [`/v1/timebanks/${bankId}/listings?limit=0`, 400, 'invalid_request'],
      [`/v1/timebanks/${bankId}/listings?kind=gift`, 400, 'invalid_request'],
      [`/v1/timebanks/${bankId}/alliances/${'0'.repeat(16)}`, 404, 'alliance_not_found'],
      [`/v1/timebanks/${bankId}/issuance-requests/nope`, 404, 'issuance_request_not_found'],
      [
        `/v1/timebanks/${bankId}/members/${member.address}/statement?format=xml`,
        400,
        'invalid_request',
      ],
    ];
    for (const [url, status, code] of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, status, url);
      assert.equal(res.json<{ error: { code: string } }>().error.code, code, url);
    }
  });

  it('GET /v1/timebanks lists the banks newest first, by coordinator, a page at a time', async () => {
    const other = generateKey();
    const second = (
      await commit(coordinator, 'timebank.create', {
        name: 'Second bank',
        coordinators: [other.address],
        policy: { kind: 'none' },
        creditLimitMinutes: '0',
      })
    ).slice(0, 16);
    type Page = { banks: { number: number; id: string; name: string }[]; next: number | null };
    const all = (await get('/v1/timebanks')).json<Page>();
    assert.deepEqual(
      all.banks.map((b) => [b.number, b.id]),
      [
        [1, second],
        [0, bankId],
      ],
    );
    assert.equal(all.next, null);
    const first = (await get('/v1/timebanks?limit=1')).json<Page>();
    assert.deepEqual([first.banks.map((b) => b.id), first.next], [[second], 1]);
    const older = (await get('/v1/timebanks?limit=1&before=1')).json<Page>();
    assert.deepEqual(
      older.banks.map((b) => b.id),
      [bankId],
    );
    const mine = (await get(`/v1/timebanks?coordinator=${coordinator.address}`)).json<Page>();
    assert.deepEqual(
      mine.banks.map((b) => b.id),
      [bankId],
    );
    for (const query of ['limit=0', 'limit=101', 'before=x', 'coordinator=nobody']) {
      const res = await get(`/v1/timebanks?${query}`);
      assert.equal(res.statusCode, 400, query);
    }
  });

  it('GET .../members/{account} answers the member record, identifier hashed', async () => {
    const res = await get(`/v1/timebanks/${bankId}/members/${member.address}`);
    assert.equal(res.statusCode, 200, res.body);
    const record = res.json<{ status: string; userIdHash: string; lots: number[] }>();
    assert.equal(record.status, 'approved');
    assert.match(record.userIdHash, /^[0-9a-f]{64}$/);
    assert.ok(!res.body.includes('mo@example.org'));
    const lot = await get(`/v1/timebanks/${bankId}/lots/${record.lots[0]}`);
    assert.equal(lot.statusCode, 200, lot.body);
    assert.equal(lot.json<{ owner: string }>().owner, member.address);
  });

  it('answers the statement as CSV with ?format=csv', async () => {
    const res = await get(`/v1/timebanks/${bankId}/members/${member.address}/statement?format=csv`);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="statement-/);
    const rows = res.body.trimEnd().split('\r\n');
    assert.ok(rows.length >= 3, res.body);
    assert.ok(
      rows.some((row) => row.includes('600')),
      res.body,
    );
  });

  it('lists no listings of a bank that has none', async () => {
    const res = await get(`/v1/timebanks/${bankId}/listings`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<{ listings: unknown[] }>().listings, []);
  });

  it('answers an issuance request pending at once, then recorded, without the node keeping it', async () => {
    const bank = (await get(`/v1/timebanks/${bankId}`)).json<TimebankRecord>();
    const fields = { requestId: 'async-1', userId: 'mo@example.org', minutes: '30' };
    const hash = issuanceRequestHash({
      chainId: node.chain.chainId,
      bankId,
      requestId: fields.requestId,
      userIdHash: hashUserId(bank.salt, fields.userId),
      minutes: fields.minutes,
    });
    const signature = toHex(
      sign(signingMessage('issuanceRequest', hash), fromHex(coordinator.secretKey)),
    );
    const body = { ...fields, coordinator: coordinator.address, signature };
    const posted = await node.app.inject({
      method: 'POST',
      url: `/v1/timebanks/${bankId}/issuance-requests`,
      payload: body,
    });
    assert.equal(posted.statusCode, 202, posted.body);
    const { txHash } = posted.json<{ status: string; txHash: string }>();
    let status = '';
    for (let i = 0; i < 200 && status !== 'recorded'; i += 1) {
      const res = await get(`/v1/timebanks/${bankId}/issuance-requests/async-1`);
      assert.equal(res.statusCode, 200, res.body);
      status = res.json<{ status: string }>().status;
      assert.ok(status === 'pending' || status === 'recorded', status);
      if (status !== 'recorded') await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(status, 'recorded');
    const again = await node.app.inject({
      method: 'POST',
      url: `/v1/timebanks/${bankId}/issuance-requests`,
      payload: body,
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json<{ txHash: string }>().txHash, txHash);
  });

  it('20 identical issuance requests arriving together make the node sign one tx', async () => {
    const bank = (await get(`/v1/timebanks/${bankId}`)).json<TimebankRecord>();
    const fields = { requestId: 'storm-1', userId: 'mo@example.org', minutes: '5' };
    const hash = issuanceRequestHash({
      chainId: node.chain.chainId,
      bankId,
      requestId: fields.requestId,
      userIdHash: hashUserId(bank.salt, fields.userId),
      minutes: fields.minutes,
    });
    const signature = toHex(
      sign(signingMessage('issuanceRequest', hash), fromHex(coordinator.secretKey)),
    );
    const body = { ...fields, coordinator: coordinator.address, signature };
    const relay = node.init.producer.address;
    const nonceBefore = node.chain.nonceOf(relay);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        node.app.inject({
          method: 'POST',
          url: `/v1/timebanks/${bankId}/issuance-requests?wait=commit`,
          payload: body,
        }),
      ),
    );
    const txHashes = new Set(answers.map((a) => a.json<{ txHash: string }>().txHash));
    assert.equal(txHashes.size, 1, `one instruction tx, not ${txHashes.size}`);
    for (const answer of answers) assert.ok([200, 202].includes(answer.statusCode), answer.body);
    // Wait for the one tx to commit, then count what the relay account signed.
    for (let i = 0; i < 200 && node.chain.nonceOf(relay) === nonceBefore; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(node.chain.nonceOf(relay), nonceBefore + 1, 'the node signed exactly one tx');
  });

  it('GET .../members lists members and applicants in account order, a page at a time', async () => {
    const { salt } = (await get(`/v1/timebanks/${bankId}`)).json<{ salt: string }>();
    const added = [generateKey(), generateKey(), generateKey(), generateKey()];
    for (const [i, key] of added.entries()) {
      await commit(coordinator, 'timebank.addMember', {
        bankId,
        account: key.address,
        userIdHash: hashUserId(salt, `added-${i}@example.org`),
      });
    }
    const applicant = generateKey();
    await commit(applicant, 'timebank.addMember', {
      bankId,
      userIdHash: hashUserId(salt, 'applicant@example.org'),
    });
    type Page = { members: { account: string; status: string }[]; next: string | null };
    const everyone = [member, ...added, applicant].map((key) => key.address).sort();

    const seen: Page['members'] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const res = await get(
        `/v1/timebanks/${bankId}/members?limit=2${after === null ? '' : `&after=${after}`}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<Page>();
      assert.ok(page.members.length <= 2);
      seen.push(...page.members);
      after = page.next;
      if (after === null) break;
      assert.equal(after, page.members.at(-1)!.account, 'a full page continues after its last');
    }
    assert.deepEqual(
      seen.map((m) => m.account),
      everyone,
    );
    assert.equal(seen.find((m) => m.account === applicant.address)!.status, 'pending');

    const pending = (await get(`/v1/timebanks/${bankId}/members?status=pending`)).json<Page>();
    assert.deepEqual(pending, {
      members: [seen.find((m) => m.account === applicant.address)],
      next: null,
    });
    const whole = (await get(`/v1/timebanks/${bankId}/members`)).json<Page>();
    assert.equal(whole.members.length, everyone.length);
    assert.equal(whole.next, null);

    for (const [url, status, code] of [
      [`/v1/timebanks/${bankId}/members?limit=0`, 400, 'invalid_request'],
      [`/v1/timebanks/${bankId}/members?limit=101`, 400, 'invalid_request'],
      [`/v1/timebanks/${bankId}/members?after=nobody`, 400, 'invalid_address'],
      [`/v1/timebanks/${bankId}/members?status=banned`, 400, 'invalid_request'],
      [`/v1/timebanks/${'0'.repeat(16)}/members`, 404, 'timebank_not_found'],
    ] as const) {
      const res = await get(url);
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      assert.equal(res.json<{ error: { code: string } }>().error.code, code, url);
    }
  });

  it('refuses the dev clock on a node started without --dev-clock', async () => {
    const height = node.chain.height();
    const res = await node.app.inject({
      method: 'POST',
      url: '/v1/dev/clock',
      payload: { advanceMs: 86_400_000 },
    });
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'dev_clock_disabled');
    assert.equal(node.clockOffsetMs, 0);
    assert.equal(node.chain.height(), height, 'no block was cut for it');
  });
});

describe('the issuance service tracker', () => {
  const block = (height: number, txs: [string, string][], dropped: string[] = []): FinalBlock => ({
    height,
    dropped,
    receipts: () => txs.map(([hash, status]) => ({ hash, status })),
  });

  it('forgets what commits, remembers recent failures, and stays bounded', () => {
    const tracker = new IssuanceTracker(10, 2);
    tracker.track('b/r1', 'h1');
    tracker.track('b/r2', 'h2');
    tracker.track('b/r3', 'h3');
    tracker.track('b/r4', 'h4');
    assert.equal(tracker.inFlightCount, 4);
    tracker.settle(
      block(7, [
        ['h1', 'ok'],
        ['other', 'ok'],
        ['h2', 'member_not_approved'],
      ]),
    );
    assert.equal(tracker.inFlightTx('b/r1'), undefined);
    assert.deepEqual(tracker.failure('b/r2'), {
      txHash: 'h2',
      height: 7,
      code: 'member_not_approved',
    });
    tracker.settle(block(8, [['h3', 'credit_limit_exceeded']], ['h4']));
    assert.equal(tracker.inFlightCount, 0, 'every settled request is forgotten');
    assert.equal(tracker.failure('b/r4'), undefined, 'a dropped tx is simply gone');
    tracker.track('b/r5', 'h5');
    tracker.settle(block(9, [['h5', 'user_not_found']]));
    assert.equal(tracker.failure('b/r2'), undefined, 'the oldest failure made room');
    assert.equal(tracker.failure('b/r5')?.code, 'user_not_found');
    // Posting a failed request again tracks it afresh.
    tracker.track('b/r5', 'h6');
    assert.equal(tracker.failure('b/r5'), undefined);
    assert.equal(tracker.inFlightTx('b/r5'), 'h6');
  });
});
