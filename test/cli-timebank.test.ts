// Time banks from the command line, as a user runs them: the built CLI in its own process against
// a node in another (started with the dev clock, so credits can be made to expire). A coordinator
// creates a bank, two members join and are approved, credits are issued through signed issuance
// requests, an exchange is recorded and confirmed, and statements are read as text, JSON and CSV.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import {
  hashUserId,
  type CofferClient,
  type IssuanceRequestResult,
  type Listing,
  type MemberStatement,
  type SigningKey,
  type Timebank,
} from '../src/sdk/index.js';
import { CliSession, type TxJson } from './support/cli.js';

const passphrase = 'time bank test passphrase';
const runTimeoutMs = 30_000;
const suiteTimeoutMs = 240_000;
const dayMs = 86_400_000;
const hashPattern = /^[0-9a-f]{64}$/;

describe('coffer timebank commands against a node process', { timeout: suiteTimeoutMs }, () => {
  const cli = new CliSession({ name: 'cli-timebank', passphrase, runTimeoutMs });
  const { ok, okJson, fails } = cli;
  let url = '';
  let client: CofferClient;
  let dev: SigningKey;
  let bank = '';
  const addresses: Record<string, string> = {};

  before(async () => {
    await cli.start({ blockIntervalMs: 20, env: { COFFER_DEV_CLOCK: '1' } });
    ({ url, client } = cli);
    dev = await cli.importDevKey();
    addresses.dev = dev.address;
    for (const name of ['coord', 'ann', 'ben']) {
      const key = await okJson<{ address: string }>(['keys', 'new', name]);
      addresses[name] = key.address;
    }
  });

  after(() => cli.close());

  it('creates a bank with an expiry policy and a credit limit, and shows it', async () => {
    const created = await okJson<TxJson & { bankId: string }>([
      'timebank',
      'create',
      'Riverside Time Bank',
      '--expiry-days',
      '30',
      '--notice-days',
      '5',
      '--credit-limit',
      '2:00',
      '--from',
      'coord',
    ]);
    assert.equal(created.status, 'ok');
    assert.match(created.hash, hashPattern);
    assert.equal(created.bankId, created.hash.slice(0, 16));
    bank = created.bankId;

    const shown = await ok(['timebank', 'show', bank]);
    assert.match(shown, new RegExp(`^bank\\s+${bank}$`, 'm'));
    assert.match(shown, /^name\s+Riverside Time Bank$/m);
    assert.match(shown, new RegExp(`^coordinators\\s+${addresses.coord}$`, 'm'));
    assert.match(shown, /^policy\s+credits expire 30 days after issue, notice 5 days ahead$/m);
    assert.match(shown, /^credit limit\s+2:00$/m);
    const record = await okJson<Timebank>(['timebank', 'show', bank]);
    assert.deepEqual(record.policy, { kind: 'expiry', expiryDays: 30, noticeDays: 5 });
    assert.equal(record.creditLimitMinutes, '120');
    assert.match(record.salt, hashPattern);
  });

  it('lists the banks, newest first and by coordinator', async () => {
    const page = await okJson<{ banks: { id: string; name: string }[]; next: number | null }>([
      'timebank',
      'list',
      '--coordinator',
      'coord',
    ]);
    assert.equal(page.banks[0]!.id, bank);
    assert.equal(page.next, null);
    const text = await ok(['timebank', 'list']);
    assert.match(text, /^#\s+BANK\s+MEMBERS\s+ISSUED\s+NAME\s+POLICY$/m);
    assert.match(text, new RegExp(`^\\s*0\\s+${bank}\\s+0\\s+0:00\\s+`, 'm'));
    await fails(['timebank', 'list', '--limit', '500'], 'usage', { exitCode: 2 });
  });

  it('two members join with user ids (hashed with the salt) and a coordinator approves them', async () => {
    const joined = await ok([
      'timebank',
      'join',
      bank,
      '--user-id',
      'ann@example.org',
      '--from',
      'ann',
    ]);
    assert.match(joined, /^applied to join bank/);
    await okJson<TxJson>(['timebank', 'join', bank, '--user-id', 'ben', '--from', 'ben']);
    const pending = await client.timebanks.member(bank, addresses.ann!);
    assert.equal(pending.status, 'pending');
    const { salt } = await client.timebanks.get(bank);
    assert.equal(pending.userIdHash, hashUserId(salt, 'ann@example.org'));

    // Only a coordinator approves.
    await fails(['timebank', 'approve', bank, 'ben', '--from', 'ann'], 'not_coordinator');
    for (const name of ['ann', 'ben']) {
      const approved = await okJson<TxJson>(['timebank', 'approve', bank, name, '--from', 'coord']);
      assert.equal(approved.status, 'ok');
      assert.equal((await client.timebanks.member(bank, addresses[name]!)).status, 'approved');
    }
    await fails(['timebank', 'approve', bank, 'ann', '--from', 'coord'], 'member_already_approved');
    // Listed in account order, a page at a time.
    const sorted = [addresses.ann!, addresses.ben!].sort();
    const first = await ok(['timebank', 'members', bank, '--limit', '1']);
    assert.match(first, new RegExp(`^ACCOUNT +STATUS +BALANCE +DEBT\\n${sorted[0]} +approved `));
    assert.match(
      first,
      new RegExp(`more: coffer timebank members ${bank} --after ${sorted[0]}\\n$`),
    );
    const page = await okJson<{ members: { account: string }[]; next: string | null }>([
      'timebank',
      'members',
      bank,
      '--after',
      sorted[0]!,
    ]);
    assert.deepEqual(
      page.members.map((m) => m.account),
      [sorted[1]],
    );
    assert.equal(page.next, null);
    await fails(['timebank', 'members', bank, '--status', 'gone'], 'usage', { exitCode: 2 });
  });

  it('issues through an issuance request signed by the coordinator; a retry with its id is recorded once', async () => {
    const issued = await okJson<IssuanceRequestResult>([
      'timebank',
      'issue',
      bank,
      '10',
      '--user-id',
      'ann@example.org',
      '--key',
      'coord',
    ]);
    assert.equal(issued.status, 'recorded');
    assert.match(issued.requestId, /^req-[0-9a-f]{16}$/);
    assert.equal(issued.account, addresses.ann);
    assert.equal(issued.minutes, '600');
    assert.equal(typeof issued.lot, 'number');
    assert.match(issued.txHash, hashPattern);

    const args = [
      'timebank',
      'issue',
      bank,
      '1:30',
      '--user-id',
      'ben',
      '--key',
      'coord',
      '--request-id',
      'ben-welcome',
    ];
    const text = await ok(args);
    assert.match(text, /^issued 1:30 in bank/);
    assert.match(text, /^request id\s+ben-welcome$/m);
    assert.match(text, new RegExp(`^account\\s+${addresses.ben}$`, 'm'));
    assert.match(text, /^hours\s+1:30$/m);
    const first = /^tx\s+([0-9a-f]{64})$/m.exec(text)![1];
    const retried = await okJson<IssuanceRequestResult>(args);
    assert.equal(retried.txHash, first, 'the retry answers the recorded request');
    assert.equal((await client.timebanks.get(bank)).issuedMinutes, '690');

    const looked = await okJson<IssuanceRequestResult>([
      'timebank',
      'issuance',
      bank,
      'ben-welcome',
    ]);
    assert.equal(looked.status, 'recorded');
    assert.equal(looked.txHash, first);
  });

  it('refuses an issuance signed by a member who is not a coordinator, with the code (exit 1)', async () => {
    const reason = await fails(
      ['timebank', 'issue', bank, '5', '--user-id', 'ann@example.org', '--key', 'ann'],
      'not_coordinator',
    );
    assert.match(reason, /request req-[0-9a-f]{16}/);
    await fails(
      ['timebank', 'issue', bank, '1', '--user-id', 'nobody', '--key', 'coord'],
      'user_not_found',
    );
    assert.equal((await client.timebanks.get(bank)).issuedMinutes, '690');
  });

  it('records an exchange, both parties confirm, the hours move; a second confirmation is refused', async () => {
    const recorded = await okJson<TxJson & { exchange: number }>([
      'timebank',
      'exchange',
      bank,
      '3',
      '--to',
      'ann',
      '--offer',
      'Garden work',
      '--from',
      'ben',
    ]);
    assert.equal(recorded.status, 'ok');
    assert.equal(recorded.exchange, 0);
    const pending = await client.timebanks.exchange(bank, 0);
    assert.deepEqual(
      [pending.provider, pending.recipient, pending.minutes, pending.offer, pending.status],
      [addresses.ben, addresses.ann, '180', 'Garden work', 'pending'],
    );
    const confirmed = await ok(['timebank', 'confirm', bank, '0', '--from', 'ann']);
    assert.match(confirmed, /^confirmed exchange 0: both parties confirmed, the hours moved$/m);
    assert.equal((await client.timebanks.exchange(bank, 0)).status, 'completed');
    await fails(['timebank', 'confirm', bank, '0', '--from', 'ann'], 'already_confirmed');
    await fails(['timebank', 'confirm', bank, '0', '--from', 'coord'], 'not_exchange_party');
  });

  it('reads statements as text, JSON and CSV', async () => {
    const text = await ok(['timebank', 'statement', bank, 'ann']);
    assert.match(text, new RegExp(`^statement of ${addresses.ann} in bank ${bank} as of `));
    assert.match(text, /^balance\s+7:00$/m);
    assert.match(text, /^received\s+3:00$/m);
    assert.match(text, /^LOT\s+HOURS\s+BASE TIME\s+AGE\s+EXPIRES\s+ORIGIN$/m);
    assert.match(text, /^\s*\d+\s+7:00\s+\S+Z\s+0d\s+\S+Z\s+issue:req-[0-9a-f]{16}$/m);

    const ben = await okJson<MemberStatement>(['timebank', 'statement', bank, addresses.ben!]);
    assert.equal(ben.balanceMinutes, '270');
    assert.equal(ben.givenMinutes, '180');
    assert.equal(ben.netMinutes, '270');
    // The 3 hours from ann keep her lot's base time and origin.
    const ann = await client.timebanks.statement(bank, addresses.ann!);
    const annLot = ann.lots[0]!;
    const moved = ben.lots.find((l) => l.minutes === '180')!;
    assert.equal(moved.baseTime, annLot.baseTime);
    assert.equal(moved.origin, annLot.origin);

    const csv = await ok(['timebank', 'statement', bank, 'ben', '--csv']);
    const rows = csv.trimEnd().split(/\r?\n/);
    assert.equal(
      rows[0],
      'lot,origin,baseTime,ageDays,expiresAt,minutes,effectiveMinutes,hours,expired',
    );
    assert.ok(
      rows.some((row) => row.includes('issue:ben-welcome') && row.includes(',90,90,1:30,')),
    );
    assert.ok(rows.some((row) => row.startsWith(',balance,') && row.includes(',270,270,4:30,')));

    await fails(['timebank', 'statement', bank, 'ben', '--csv', '--json'], 'usage', {
      exitCode: 2,
    });
    await fails(['timebank', 'statement', bank], 'usage', { exitCode: 2 });
  });

  it('posts an offer and lists it', async () => {
    const posted = await okJson<TxJson & { listing: number }>([
      'timebank',
      'offer',
      bank,
      'Bicycle repair',
      '--hours',
      '1.5',
      '--category',
      'repairs',
      '--from',
      'ben',
    ]);
    assert.equal(posted.listing, 0);
    const listed = await ok(['timebank', 'listings', bank, '--kind', 'offer']);
    assert.match(listed, /^#\s+KIND\s+HOURS\s+CATEGORY\s+STATUS\s+TITLE\s+OWNER$/m);
    assert.match(listed, /^0\s+offer\s+1:30\s+repairs\s+open\s+Bicycle repair\s+cof1/m);
    const page = await okJson<{ listings: Listing[]; next: number | null }>([
      'timebank',
      'listings',
      bank,
      '--kind',
      'request',
    ]);
    assert.deepEqual(page, { listings: [], next: null });
  });

  it('credits lapse past their expiry: the statement shows none left and the pool holds them', async () => {
    const response = await fetch(`${url}/v1/dev/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: 31 * dayMs }),
    });
    assert.equal(response.status, 200, await response.text());
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if ((await client.timebanks.get(bank)).poolMinutes === '690') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const text = await ok(['timebank', 'statement', bank, 'ann']);
    assert.match(text, /^balance\s+0:00$/m);
    assert.match(text, /^no lots$/m);
    const shown = await ok(['timebank', 'show', bank]);
    assert.match(shown, /^pool\s+11:30 /m);
  });

  it('coordinators, payments to many, listings closed, policy changes, alliances and transfers across', async () => {
    // A second coordinator; the last one cannot be removed.
    await okJson<TxJson>(['timebank', 'add-coordinator', bank, 'dev', '--from', 'coord']);
    await okJson<TxJson>(['timebank', 'remove-coordinator', bank, 'dev', '--from', 'dev']);
    await fails(
      ['timebank', 'remove-coordinator', bank, 'coord', '--from', 'coord'],
      'last_coordinator',
    );

    // The coordinator, a member too, pays two members from its credits in one tx.
    await okJson<TxJson>([
      'timebank',
      'add-member',
      bank,
      'coord',
      '--user-id',
      'coordinator',
      '--from',
      'coord',
    ]);
    await okJson<TxJson>(['timebank', 'approve', bank, 'coord', '--from', 'coord']);
    await okJson<IssuanceRequestResult>([
      'timebank',
      'issue',
      bank,
      '4',
      '--user-id',
      'coordinator',
      '--key',
      'coord',
    ]);
    const paid = await ok([
      'timebank',
      'pay',
      bank,
      'ann=1:15',
      `${addresses.ben}=45m`,
      '--from',
      'coord',
    ]);
    assert.match(paid, /^paid 2:00 to 2 members of bank/);
    const ann = await client.timebanks.statement(bank, addresses.ann!);
    assert.equal(ann.gotMinutes, '75');
    assert.equal((await client.timebanks.statement(bank, addresses.coord!)).sentMinutes, '120');

    // A request, closed by its owner; closing again is refused.
    const posted = await okJson<TxJson & { listing: number }>([
      'timebank',
      'request',
      bank,
      'Lift to the station',
      '--hours',
      '0:45',
      '--category',
      'transport',
      '--from',
      'ann',
    ]);
    await okJson<TxJson>([
      'timebank',
      'close-listing',
      bank,
      String(posted.listing),
      '--from',
      'ann',
    ]);
    assert.equal((await client.timebanks.listing(bank, posted.listing)).status, 'closed');
    await fails(
      ['timebank', 'close-listing', bank, String(posted.listing), '--from', 'ann'],
      'listing_closed',
    );

    // Policy and credit limit, by a coordinator only.
    await fails(
      ['timebank', 'set-policy', bank, '--no-policy', '--from', 'ann'],
      'not_coordinator',
    );
    const changed = await ok([
      'timebank',
      'set-policy',
      bank,
      '--demurrage-bp',
      '250',
      '--period-days',
      '30',
      '--credit-limit',
      '0',
      '--from',
      'coord',
    ]);
    assert.match(changed, /policy: demurrage 2\.50% every 30 days; credit limit 0:00/);
    const record = await client.timebanks.get(bank);
    assert.deepEqual(record.policy, {
      kind: 'demurrage',
      ratePerPeriodBasisPoints: 250,
      periodDays: 30,
    });
    assert.equal(record.creditLimitMinutes, '0');

    // An alliance with a second bank; hours cross 1:1 and keep their base time.
    const partner = (
      await okJson<{ bankId: string }>(['timebank', 'create', 'Hillside', '--from', 'ben'])
    ).bankId;
    await okJson<TxJson>([
      'timebank',
      'add-member',
      partner,
      'ann',
      '--user-id',
      'ann@example.org',
      '--from',
      'ben',
    ]);
    await fails(
      ['timebank', 'send-across', bank, partner, '30m', '--to', 'ann', '--from', 'ann'],
      'alliance_not_active',
    );
    await okJson<TxJson>(['timebank', 'alliance', 'propose', bank, partner, '--from', 'coord']);
    await fails(
      ['timebank', 'alliance', 'accept', bank, partner, '--from', 'coord'],
      'own_alliance_proposal',
    );
    await okJson<TxJson>(['timebank', 'alliance', 'accept', partner, bank, '--from', 'ben']);
    assert.equal((await client.timebanks.alliance(bank, partner)).status, 'active');
    const sent = await ok([
      'timebank',
      'send-across',
      bank,
      partner,
      '30m',
      '--to',
      'ann',
      '--from',
      'ann',
    ]);
    assert.match(sent, /^sent 0:30 from bank/);
    const there = await okJson<MemberStatement>(['timebank', 'statement', partner, 'ann']);
    assert.equal(there.balanceMinutes, '30');
    assert.match(there.lots[0]!.origin, new RegExp(`^alliance:${bank}/`));
    await okJson<TxJson>(['timebank', 'alliance', 'end', bank, partner, '--from', 'coord']);
    assert.equal((await client.timebanks.alliance(partner, bank)).status, 'ended');
  });

  it('refuses a bad command line with exit 2: hours, bank ids, numbers, missing options', async () => {
    const cases: [string[], RegExp][] = [
      [['timebank', 'issue', bank, '1:75', '--user-id', 'ben', '--key', 'coord'], /"1:75"/],
      [['timebank', 'issue', bank, '0.01', '--user-id', 'ben', '--key', 'coord'], /whole/],
      [['timebank', 'issue', bank, '0', '--user-id', 'ben', '--key', 'coord'], /more than 0:00/],
      [['timebank', 'exchange', bank, 'two', '--to', 'ann', '--from', 'ben'], /H:MM/],
      [['timebank', 'pay', bank, 'ann:1', '--from', 'coord'], /ACCOUNT=HOURS/],
      [['timebank', 'pay', bank, 'ann=-1', '--from', 'coord'], /"-1"/],
      [['timebank', 'create', 'X', '--credit-limit', '1h', '--from', 'coord'], /--credit-limit/],
      [['timebank', 'show', 'ABCDEF0123456789'], /16 lowercase hex/],
      [['timebank', 'confirm', bank, 'first', '--from', 'ann'], /EXCHANGE/],
      [['timebank', 'issue', bank, '1', '--key', 'coord'], /--user-id is required/],
      [
        ['timebank', 'issue', bank, '1', '--user-id', 'b', '--key', 'coord', '--request-id', 'a b'],
        /--request-id/,
      ],
      [
        ['timebank', 'create', 'X', '--expiry-days', '3', '--demurrage-bp', '1', '--from', 'coord'],
        /one policy/,
      ],
      [['timebank', 'alliance', 'propose', bank, bank, '--from', 'coord'], /another bank/],
      [['timebank', 'set-policy', bank, '--from', 'coord'], /give a policy/],
    ];
    for (const [args, message] of cases) {
      const reason = await fails(args, 'usage', { exitCode: 2 });
      assert.match(reason, message, args.join(' '));
    }
    // Named alone, a group is a command line without a command: its list on stderr, exit 2.
    const alone = await cli.run(['timebank', 'alliance']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /alliance propose BANK PARTNER --from NAME/);
    assert.match(alone.stderr, /\ncoffer: usage: coffer timebank alliance needs a command; /);
    const group = await ok(['timebank', 'alliance', '--help']);
    assert.match(group, /alliance propose BANK PARTNER --from NAME/);
    assert.match(group, /alliance end/);
    const unknown = await fails(['timebank', 'alliance', 'renew', bank], 'usage', { exitCode: 2 });
    assert.match(unknown, /unknown command timebank alliance renew/);
  });
  it('an issuance request the node refuses as a duplicate of itself is done (exit 0, its record); another request under the id is refused', async () => {
    // In a cluster, a retry that reaches another validator while the first relay is in flight
    // makes that validator relay the request too; the relay tx that loses fails in its block with
    // duplicate_request, and its validator answers that code (409) with its failed tx, although
    // the request is recorded. A stand-in for that validator in front of the node: it lets the
    // node record the request, then answers as the losing validator does.
    let duplicates = 0;
    const server = http.createServer((request, response) => {
      void (async () => {
        let body = '';
        for await (const chunk of request) body += (chunk as Buffer).toString('utf8');
        const post = request.method === 'POST';
        const upstream = await fetch(url + request.url!, {
          method: request.method!,
          headers: { 'content-type': 'application/json' },
          ...(post ? { body } : {}),
        });
        const answer = await upstream.text();
        if (post && upstream.status === 200) {
          duplicates += 1;
          const { txHash } = JSON.parse(answer) as IssuanceRequestResult;
          response.writeHead(409, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              error: {
                code: 'duplicate_request',
                message: 'An issuance with this requestId was already recorded for the time bank.',
                field: 'requestId',
              },
              txHash: txHash.replace(/^./, (c) => (c === '0' ? '1' : '0')),
            }),
          );
          return;
        }
        response.writeHead(upstream.status, { 'content-type': 'application/json' });
        response.end(answer);
      })().catch((error: unknown) => {
        response.writeHead(502);
        response.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const lost = { nodeUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
    const issue = (requestId: string, hours = '0:45', userId = 'ben') =>
      ['timebank', 'issue', bank, hours, '--user-id', userId, '--key', 'coord'].concat([
        '--request-id',
        requestId,
      ]);
    const issued = async () => BigInt((await client.timebanks.get(bank)).issuedMinutes);
    try {
      const before = await issued();
      const answered = await okJson<IssuanceRequestResult>(issue('raced-1'), lost);
      const recorded = await client.timebanks.issuance(bank, 'raced-1');
      assert.deepEqual(
        [answered.status, answered.requestId, answered.txHash, answered.account, answered.minutes],
        ['recorded', 'raced-1', recorded.txHash, addresses.ben, '45'],
      );
      assert.equal(answered.lot, recorded.lot);
      const text = await ok(issue('raced-2'), lost);
      assert.match(
        text,
        new RegExp(
          `^issued 0:45 in bank ${bank} once: request raced-2 was already recorded, and this retry added nothing$`,
          'm',
        ),
      );
      assert.match(text, /^request id\s+raced-2$/m);
      assert.equal(duplicates, 2, 'both were answered duplicate_request');
      assert.equal((await issued()) - before, 90n, 'each issued once');

      // Another request under a recorded id is refused, saying what the id holds.
      const [hours, member] = await Promise.all([
        fails(issue('raced-1', '1'), 'duplicate_request'),
        fails(issue('raced-1', '0:45', 'ann@example.org'), 'duplicate_request'),
      ]);
      assert.match(
        hours,
        /^request raced-1 is already recorded in bank \w+ for 0:45, not 1:00 \(tx [0-9a-f]{64}\): a retry must repeat the same --user-id and HOURS, and another issuance needs another --request-id$/,
      );
      assert.match(member, /is already recorded in bank \w+ for another member \(tx /);
      assert.equal((await issued()) - before, 90n);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
