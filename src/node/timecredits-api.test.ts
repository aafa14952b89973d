import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { toHex } from '../crypto/index.js';
import {
  hashUserId,
  type MemberStatement,
  type TimebankRecord,
} from '../modules/timecredits/index.js';
import { generateKey, hashTx, importKey, signTx, type SigningKey } from '../sdk/index.js';
import { parseNodeConfig } from './config.js';
import { CofferNode } from './node.js';

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
    assert.deepEqual(bank.policy, { kind: 'expiry', expiryDays: 90 });
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
    ];
    for (const [url, status, code] of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, status, url);
      assert.equal(res.json<{ error: { code: string } }>().error.code, code, url);
    }
  });
});
