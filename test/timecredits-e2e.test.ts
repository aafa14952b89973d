// Time credits end to end, as issue 5 asks: through the HTTP API of a node process started with
// the dev clock. Create a bank, approve two members, issue 10 hours through an issuance request,
// exchange 3, let the credits expire by cutting blocks past the expiry, and read the statement.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { signingMessage, sign, toHex } from '../src/crypto/index.js';
import { hashUserId, issuanceRequestHash } from '../src/modules/timecredits/index.js';
import {
  createClient,
  generateKey,
  type CofferClient,
  type EventMessage,
  type SigningKey,
  type Subscription,
} from '../src/sdk/index.js';
import { childEnv, cliPath } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

const dayMs = 86_400_000;
const suiteTimeoutMs = 60_000;

interface Bank {
  id: string;
  salt: string;
  coordinators: string[];
  issuedMinutes: string;
  poolMinutes: string;
}

interface Statement {
  balanceMinutes: string;
  effectiveBalanceMinutes: string;
  givenMinutes: string;
  receivedMinutes: string;
  lots: { lot: number; minutes: string; baseTime: number; expiresAt: number | null }[];
}

describe('time credits through the API of a node process', { timeout: suiteTimeoutMs }, () => {
  let node: NodeProcess | undefined;
  let workDir = '';
  let url = '';
  let chainId = '';
  let client: CofferClient;
  let subscription: Subscription | undefined;
  const events: EventMessage[] = [];
  const killOnExit = () => node?.killNow();

  const coordinator = generateKey();
  const ann = generateKey();
  const ben = generateKey();
  const stranger = generateKey();
  const annId = 'ann@example.org';
  const benId = 'ben';

  async function http(method: string, route: string, body?: unknown) {
    const response = await fetch(url + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      type,
      text,
      json: type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  }

  async function ok(key: SigningKey, type: string, payload: Record<string, unknown>) {
    const result = await client.send(key, { type, payload });
    assert.equal(result.status, 'ok', `${type}: ${JSON.stringify(result)}`);
    return result;
  }

  function signedRequest(
    bank: Bank,
    signer: SigningKey,
    fields: { requestId: string; userId: string; minutes: string },
  ) {
    const hash = issuanceRequestHash({
      chainId,
      bankId: bank.id,
      requestId: fields.requestId,
      userIdHash: hashUserId(bank.salt, fields.userId),
      minutes: fields.minutes,
    });
    const signature = sign(
      signingMessage('issuanceRequest', hash),
      Buffer.from(signer.secretKey, 'hex'),
    );
    return { ...fields, coordinator: signer.address, signature: toHex(signature) };
  }

  async function statement(bank: Bank, key: SigningKey): Promise<Statement> {
    const answer = await http('GET', `/v1/timebanks/${bank.id}/members/${key.address}/statement`);
    assert.equal(answer.status, 200, answer.text);
    return answer.json as unknown as Statement;
  }

  before(async () => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-timecredits-e2e-'));
    process.on('exit', killOnExit);
    node = NodeProcess.spawn({
      cliPath,
      dataDir: path.join(workDir, 'node'),
      blockIntervalMs: 20,
      logLevel: 'warn',
      env: { ...childEnv, COFFER_DEV_CLOCK: '1' },
      startTimeoutMs: 15_000,
    });
    ({ url } = await node.listening());
    client = createClient(url);
    chainId = (await client.health()).chainId;
    await new Promise<void>((resolve) => {
      subscription = client.subscribe(
        { types: ['timecredits.'] },
        (message) => {
          if (message.kind === 'event') events.push(message);
        },
        { onOpen: () => resolve() },
      );
    });
  });

  after(async () => {
    subscription?.close();
    await node?.kill();
    process.off('exit', killOnExit);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('creates a bank, issues 10 hours by request, exchanges 3, lets them expire and states it', async () => {
    // A bank whose credits lapse two days after issuance, with notice one day ahead.
    const created = await ok(coordinator, 'timebank.create', {
      name: 'Riverside Time Bank',
      coordinators: [coordinator.address],
      policy: { kind: 'expiry', expiryDays: 2, noticeDays: 1 },
      creditLimitMinutes: '0',
    });
    const bankId = created.hash.slice(0, 16);
    const bank = (await http('GET', `/v1/timebanks/${bankId}`)).json as unknown as Bank;
    assert.equal(bank.id, bankId);

    // Two members apply with their salted identifier hashes; the coordinator approves them.
    for (const [key, userId] of [
      [ann, annId],
      [ben, benId],
    ] as const) {
      await ok(key, 'timebank.addMember', { bankId, userIdHash: hashUserId(bank.salt, userId) });
      await ok(coordinator, 'timebank.approveMember', { bankId, account: key.address });
    }
    const member = await http('GET', `/v1/timebanks/${bankId}/members/${ann.address}`);
    assert.equal(member.json?.status, 'approved');
    assert.ok(!member.text.includes(annId), 'the identifier is never stored in clear');

    // The issuance request: {userId, K} signed by the coordinator; the node submits the tx.
    const request = signedRequest(bank, coordinator, {
      requestId: 'req-0001',
      userId: annId,
      minutes: '600',
    });
    const issued = await http(
      'POST',
      `/v1/timebanks/${bankId}/issuance-requests?wait=commit`,
      request,
    );
    assert.equal(issued.status, 200, issued.text);
    const record = issued.json as {
      status: string;
      txHash: string;
      account: string;
      lot: number;
      minutes: string;
      height: number;
    };
    assert.equal(record.status, 'recorded');
    assert.equal(record.account, ann.address);
    assert.equal(record.minutes, '600');
    // request id -> tx hash -> lot, and the tx is on chain with its proof.
    const lookedUp = await http('GET', `/v1/timebanks/${bankId}/issuance-requests/req-0001`);
    assert.equal(lookedUp.json?.txHash, record.txHash);
    const tx = await client.getTx(record.txHash);
    assert.equal(tx.status === undefined ? tx.receipt.status : tx.status, 'ok');
    const lot = (await http('GET', `/v1/timebanks/${bankId}/lots/${record.lot}`)).json as {
      owner: string;
      amount: string;
      baseTime: number;
      expiresAt: number;
    };
    const issueBlock = await client.getBlock(record.height);
    assert.equal(lot.owner, ann.address);
    assert.equal(lot.amount, '600');
    assert.equal(
      lot.baseTime,
      issueBlock.header.time,
      'the base time is the block time of the record',
    );
    assert.equal(lot.expiresAt, issueBlock.header.time + 2 * dayMs);
    // A retry of the same request answers the record; the same id for other minutes is refused.
    const retried = await http('POST', `/v1/timebanks/${bankId}/issuance-requests`, request);
    assert.equal(retried.status, 200);
    assert.equal(retried.json?.txHash, record.txHash);
    const reused = await http(
      'POST',
      `/v1/timebanks/${bankId}/issuance-requests`,
      signedRequest(bank, coordinator, { requestId: 'req-0001', userId: annId, minutes: '60' }),
    );
    assert.equal(reused.status, 409);

    // Ben gives 3 hours of help to Ann; both confirm; 180 minutes move, keeping the base time.
    await ok(ben, 'timecredits.recordExchange', {
      bankId,
      recipient: ann.address,
      minutes: '180',
      offer: 'Garden work',
    });
    await ok(ann, 'timecredits.confirmExchange', { bankId, exchange: 0 });
    const exchange = await http('GET', `/v1/timebanks/${bankId}/exchanges/0`);
    assert.equal(exchange.json?.status, 'completed');
    let annStatement = await statement(bank, ann);
    let benStatement = await statement(bank, ben);
    assert.equal(annStatement.balanceMinutes, '420');
    assert.equal(annStatement.receivedMinutes, '180');
    assert.equal(benStatement.balanceMinutes, '180');
    assert.equal(benStatement.givenMinutes, '180');
    assert.deepEqual(
      benStatement.lots.map((l) => [l.minutes, l.baseTime]),
      [['180', issueBlock.header.time]],
    );

    // A day and a half later the notice fires for both lots; past two days they lapse.
    const advance = async (ms: number) => {
      const moved = await http('POST', '/v1/dev/clock', { advanceMs: ms });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.json?.blockCut, true);
      return moved.json as { height: number; blockTime: number };
    };
    await advance(1.5 * dayMs);
    await waitFor(() => events.filter((e) => e.type === 'timecredits.expiring').length === 2);
    assert.equal((await statement(bank, ann)).balanceMinutes, '420', 'not expired yet');
    const past = await advance(dayMs);
    assert.ok(past.blockTime > issueBlock.header.time + 2 * dayMs);
    await waitFor(() => events.filter((e) => e.type === 'timecredits.expired').length === 2);
    const expired = events.filter((e) => e.type === 'timecredits.expired');
    assert.deepEqual(
      expired.map((e) => e.data.minutes).sort(),
      ['180', '420'],
      JSON.stringify(expired),
    );

    annStatement = await statement(bank, ann);
    benStatement = await statement(bank, ben);
    assert.equal(annStatement.balanceMinutes, '0');
    assert.deepEqual(annStatement.lots, []);
    assert.equal(benStatement.balanceMinutes, '0');
    assert.equal(benStatement.givenMinutes, '180', 'history survives expiry');
    const after = (await http('GET', `/v1/timebanks/${bankId}`)).json as unknown as Bank;
    assert.equal(after.issuedMinutes, '600');
    assert.equal(after.poolMinutes, '600', 'every lapsed minute is in the pool');

    // An expired credit is never spent: Ann cannot pay Ben again (credit limit 0).
    await ok(ben, 'timecredits.recordExchange', { bankId, recipient: ann.address, minutes: '1' });
    await assert.rejects(
      client.send(ann, { type: 'timecredits.confirmExchange', payload: { bankId, exchange: 1 } }),
      (error: { code?: string }) => error.code === 'credit_limit_exceeded',
    );

    // The statement as CSV.
    const csv = await http(
      'GET',
      `/v1/timebanks/${bankId}/members/${ben.address}/statement?format=csv`,
    );
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    assert.match(csv.text.split('\r\n')[0] ?? '', /lot/i);
    assert.match(csv.text, /given/i);
  });

  it('refuses issuance requests it cannot authenticate or resolve, and changes nothing', async () => {
    const created = await ok(coordinator, 'timebank.create', {
      name: 'Hillside',
      coordinators: [coordinator.address],
      policy: { kind: 'none' },
      creditLimitMinutes: '0',
    });
    const bankId = created.hash.slice(0, 16);
    const bank = (await http('GET', `/v1/timebanks/${bankId}`)).json as unknown as Bank;
    await ok(ann, 'timebank.addMember', { bankId, userIdHash: hashUserId(bank.salt, annId) });
    const route = `/v1/timebanks/${bankId}/issuance-requests?wait=commit`;
    const fields = { requestId: 'r1', userId: annId, minutes: '60' };

    // A pending applicant does not hold its identifier until a coordinator approves it.
    let answer = await http('POST', route, signedRequest(bank, coordinator, fields));
    assert.equal(answer.status, 404, answer.text);
    assert.equal((answer.json?.error as { code: string }).code, 'user_not_found');
    await ok(coordinator, 'timebank.approveMember', { bankId, account: ann.address });

    // Signed by someone who is not a coordinator.
    answer = await http('POST', route, signedRequest(bank, stranger, fields));
    assert.equal(answer.status, 403);
    assert.equal((answer.json?.error as { code: string }).code, 'not_coordinator');
    // A coordinator's signature over other minutes.
    answer = await http('POST', route, {
      ...signedRequest(bank, coordinator, fields),
      minutes: '6000',
    });
    assert.equal(answer.status, 403);
    assert.equal((answer.json?.error as { code: string }).code, 'issuance_signature_invalid');
    // An identifier nobody joined with.
    answer = await http(
      'POST',
      route,
      signedRequest(bank, coordinator, { ...fields, userId: 'nobody' }),
    );
    assert.equal(answer.status, 404);
    assert.equal((answer.json?.error as { code: string }).code, 'user_not_found');
    // Malformed input.
    const { signature: _dropped, ...unsigned } = signedRequest(bank, coordinator, fields);
    answer = await http('POST', route, unsigned);
    assert.equal(answer.status, 400, answer.text);
    answer = await http('POST', route, { ...unsigned, signature: 'ab' });
    assert.equal(answer.status, 400, answer.text);
    assert.equal((answer.json?.error as { code: string }).code, 'invalid_authorization');
    answer = await http('POST', route, { ...unsigned, signature: 'ab'.repeat(64), minutes: '1.5' });
    assert.equal(answer.status, 400, answer.text);
    assert.equal((answer.json?.error as { code: string }).code, 'invalid_minutes');
    answer = await http('GET', `/v1/timebanks/${bankId}/issuance-requests/r1`);
    assert.equal(answer.status, 404);
    assert.equal((await statement(bank, ann)).balanceMinutes, '0', 'nothing was issued');

    // The dev clock refuses to go backwards or nowhere.
    answer = await http('POST', '/v1/dev/clock', { advanceMs: 0 });
    assert.equal(answer.status, 400);
    assert.equal((answer.json?.error as { code: string }).code, 'invalid_clock_advance');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
