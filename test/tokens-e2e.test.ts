// The token vault end to end, as issue 17 asks: through the HTTP API of a node process with a
// vault key file. The consortium (the node's operator key) configures token BINs and registers an
// issuer, a requestor, an acquirer and a wallet; a token is provisioned for a PAN (active at once),
// detokenised, suspended, resumed, re-linked to a re-issued card's PAN and deleted; each role's
// forbidden case is refused. Last, the PAN-grep test: the test PANs appear nowhere in the node's
// log output, its data directory's files or the blocks and txs the API serves.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  lifecycleTx,
  luhnCheckDigit,
  luhnValid,
  signDetokenise,
  signPanUpdate,
  signProvisionRequest,
  tokenServiceTxs,
} from '../src/modules/tokens/client.js';
import { newVaultKeyDocument } from '../src/modules/tokens/vault.js';
import {
  CofferError,
  createClient,
  generateKey,
  importKey,
  type CofferClient,
  type SigningKey,
} from '../src/sdk/index.js';
import { childEnv, cliPath } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

const suiteTimeoutMs = 90_000;
const issuerBin = '456789';
const tokenBin = '990001';
const withCheck = (body: string) => body + luhnCheckDigit(body);
/** The test PANs: each must appear nowhere the node writes or serves. */
const pan1 = withCheck(issuerBin + '001234567');
const pan2 = withCheck(issuerBin + '009876543');
const badPan = issuerBin + '0055555550'; // fails Luhn (fixed below if it happens to pass)
const strangerPan = withCheck('300000' + '001234567');
const testPans = [pan1, pan2, strangerPan];

describe('the token vault through the API of a node process', { timeout: suiteTimeoutMs }, () => {
  let node: NodeProcess | undefined;
  let workDir = '';
  let dataDir = '';
  let url = '';
  let chainId = '';
  let client: CofferClient;
  const output: Buffer[] = [];
  const killOnExit = () => node?.killNow();

  let operator: SigningKey;
  const issuer = generateKey();
  const requestor = generateKey();
  const acquirer = generateKey();
  const wallet = generateKey();
  const outsider = generateKey();
  let token = '';

  async function http(method: string, route: string, body?: string) {
    const response = await fetch(url + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body ?? null,
    });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> };
  }

  /** Sends a tx and answers its status: `ok`, or the code it failed or was refused with. */
  async function send(key: SigningKey, tx: { type: string; payload: object }): Promise<string> {
    // The operator's key is also the node's own: a nonce the node just took is tried again.
    for (let attempt = 0; ; attempt += 1) {
      try {
        const payload = tx.payload as Record<string, unknown>;
        return (await client.send(key, { type: tx.type, payload })).status;
      } catch (error) {
        if (!(error instanceof CofferError)) throw error;
        if (error.code.startsWith('nonce') && attempt < 5) continue;
        return error.txStatus ?? error.code;
      }
    }
  }

  async function refused(call: Promise<unknown>): Promise<{ code: string; status: number }> {
    try {
      await call;
    } catch (error) {
      if (error instanceof CofferError) return { code: error.code, status: error.status ?? 0 };
      throw error;
    }
    throw new Error('expected a refusal');
  }

  const provisionBody = (key: SigningKey, requestId: string, pan: string) =>
    signProvisionRequest(key, chainId, {
      requestId,
      pan,
      expiry: '2030-11',
      domain: { channels: ['ecommerce', 'in_app'], merchantIds: ['m-1', 'm-2'] },
      assuranceLevel: 'high',
      wallet: wallet.address,
    });

  before(async () => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-tokens-e2e-'));
    dataDir = path.join(workDir, 'node');
    const vaultFile = path.join(workDir, 'vault.json');
    fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
    process.on('exit', killOnExit);
    node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs: 20,
      // The most the node logs: a PAN must not be in any of it.
      logLevel: 'trace',
      env: { ...childEnv, COFFER_VAULT_KEY_FILE: vaultFile },
      startTimeoutMs: 15_000,
      onOutput: (chunk) => output.push(chunk),
    });
    ({ url } = await node.listening());
    client = createClient(url);
    chainId = (await client.health()).chainId;
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'producer-key.json'), 'utf8')) as {
      secretKey: string;
    };
    operator = importKey(stored.secretKey);
  });

  after(async () => {
    await node?.kill();
    process.off('exit', killOnExit);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('the consortium configures the service and registers participants; strangers cannot', async () => {
    assert.equal(await send(outsider, tokenServiceTxs.configure([tokenBin])), 'not_token_service');
    assert.equal(await send(operator, tokenServiceTxs.configure([tokenBin])), 'ok');
    const participants: [SigningKey, string[], string[] | undefined][] = [
      [issuer, ['issuer'], [issuerBin]],
      [requestor, ['requestor'], undefined],
      [acquirer, ['acquirer'], undefined],
      [wallet, ['wallet'], undefined],
    ];
    for (const [key, roles, bins] of participants) {
      const tx = tokenServiceTxs.registerParticipant({
        address: key.address,
        name: roles[0]!,
        roles: roles as never,
        ...(bins ? { bins } : {}),
        ...(roles[0] === 'acquirer' ? { merchantIds: ['m-1'] } : {}),
      });
      assert.equal(await send(operator, tx), 'ok');
    }
    const self = tokenServiceTxs.registerParticipant({
      address: outsider.address,
      name: 'me',
      roles: ['acquirer'],
      merchantIds: ['m-1'],
    });
    assert.equal(await send(outsider, self), 'not_token_service');
    assert.deepEqual((await client.tokens.participant(issuer.address)).bins, [issuerBin]);
    assert.deepEqual(await client.tokens.service(), { tokenBins: [tokenBin] });
  });

  it('provisions a format-preserving token for a PAN, once per request', async () => {
    const body = provisionBody(requestor, 'req-1', pan1);
    const result = await client.tokens.provision(body);
    assert.equal(result.status, 'recorded');
    token = result.token!.token;
    assert.equal(token.length, pan1.length);
    assert.ok(token.startsWith(tokenBin) && luhnValid(token) && token !== pan1);
    assert.equal(result.token!.status, 'active');
    // The keyed fingerprint links a card's tokens: it is in state, never in the public view.
    assert.equal('fingerprint' in result.token!, false);
    assert.equal('fingerprint' in (await client.tokens.get(token)), false);
    assert.equal(result.token!.issuer, issuer.address);
    assert.equal(result.token!.last4, pan1.slice(-4));
    // A retry answers the same token; another PAN under the same request id is refused.
    assert.equal((await client.tokens.provision(body)).token?.token, token);
    const other = await refused(client.tokens.provision(provisionBody(requestor, 'req-1', pan2)));
    assert.deepEqual(other, { code: 'token_request_duplicate', status: 409 });
  });

  it('runs the lifecycle: detokenise, suspend, resume, PAN update, delete', async () => {
    const event = (e: 'suspend' | 'resume' | 'delete', seq: number, who: string) =>
      lifecycleTx(`token.${e}`, {
        token,
        seq,
        initiator: who as never,
        reason: 'customer_request',
      });
    const detokenise = (n: number, key = acquirer, merchantId = 'm-1') =>
      signDetokenise(key, chainId, token, {
        n,
        purpose: 'authorization',
        channel: 'ecommerce',
        merchantId,
      });
    // An acquirer names one of its own merchants (m-2 is the token's, not the acquirer's).
    assert.deepEqual(
      await refused(client.tokens.detokenise(token, detokenise(1, acquirer, 'm-2'))),
      {
        code: 'acquirer_merchant_refused',
        status: 403,
      },
    );
    const first = detokenise(1);
    const answer = await client.tokens.detokenise(token, first);
    assert.equal(answer.pan, pan1);
    assert.equal(answer.n, 1);
    const tx = await client.getTx(answer.txHash);
    assert.equal(JSON.stringify(tx).includes(pan1), false);
    // A recorded request is answered once: a replay of it is refused.
    assert.deepEqual(await refused(client.tokens.detokenise(token, first)), {
      code: 'detokenisation_out_of_order',
      status: 409,
    });
    assert.equal(await send(wallet, event('suspend', 1, 'wallet')), 'ok');
    assert.deepEqual(await refused(client.tokens.detokenise(token, detokenise(2))), {
      code: 'token_not_active',
      status: 422,
    });
    assert.equal(await send(requestor, event('resume', 4, 'requestor')), 'sequence_out_of_order');
    assert.equal(await send(requestor, event('resume', 2, 'requestor')), 'ok');
    const update = signPanUpdate(issuer, chainId, token, {
      seq: 3,
      reason: 'card_reissued',
      expiry: '2032-01',
      pan: pan2,
    });
    const updated = await client.tokens.updatePan(token, update);
    assert.equal(updated.token?.last4, pan2.slice(-4));
    assert.equal(updated.token?.seq, 3);
    const second = await client.tokens.detokenise(token, detokenise(2, issuer));
    assert.equal(second.pan, pan2);
    assert.equal(second.expiry, '2032-01');
    assert.equal(await send(requestor, event('delete', 4, 'requestor')), 'ok');
    assert.equal(await send(issuer, event('resume', 5, 'issuer')), 'token_deleted');
    assert.equal((await client.tokens.get(token)).status, 'deleted');
  });

  it('refuses each role its forbidden case, and never echoes a PAN', async () => {
    const mine = await client.tokens.provision(provisionBody(requestor, 'req-2', pan1));
    const fresh = mine.token!.token;
    const stranger = await refused(client.tokens.provision(provisionBody(outsider, 'r', pan1)));
    assert.deepEqual(stranger, { code: 'not_requestor', status: 403 });
    const forged = { ...provisionBody(outsider, 'r', pan1), requestor: requestor.address };
    assert.deepEqual(await refused(client.tokens.provision(forged)), {
      code: 'token_request_signature_invalid',
      status: 403,
    });
    const unknownIssuer = await refused(
      client.tokens.provision(provisionBody(requestor, 'r3', strangerPan)),
    );
    assert.deepEqual(unknownIssuer, { code: 'issuer_not_found', status: 422 });
    const suspend = lifecycleTx('token.suspend', {
      token: fresh,
      seq: 1,
      initiator: 'issuer',
      reason: 'fraud_suspected',
    });
    assert.equal(await send(outsider, suspend), 'not_token_party');
    // The requestor cannot act as the token's wallet.
    const byWallet = lifecycleTx('token.suspend', {
      token: fresh,
      seq: 1,
      initiator: 'wallet',
      reason: 'device_lost',
    });
    assert.equal(await send(requestor, byWallet), 'not_token_party');
    // A token for any merchant is its issuer's only: no acquirer detokenises it.
    const open = await client.tokens.provision(
      signProvisionRequest(requestor, chainId, {
        requestId: 'open-1',
        pan: pan1,
        expiry: '2030-11',
        domain: { channels: ['ecommerce'], merchantIds: [] },
        assuranceLevel: 'high',
      }),
    );
    const openToken = open.token!.token;
    const byAcquirer = signDetokenise(acquirer, chainId, openToken, {
      n: 1,
      purpose: 'authorization',
      channel: 'ecommerce',
      merchantId: 'm-1',
    });
    assert.deepEqual(await refused(client.tokens.detokenise(openToken, byAcquirer)), {
      code: 'token_not_merchant_scoped',
      status: 403,
    });
    for (const key of [outsider, requestor, wallet]) {
      const body = signDetokenise(key, chainId, fresh, {
        n: 1,
        purpose: 'fraud_review',
        channel: 'ecommerce',
      });
      assert.deepEqual(await refused(client.tokens.detokenise(fresh, body)), {
        code: 'not_detokenise_party',
        status: 403,
      });
    }
    // Only the token's issuer updates its PAN, and only with its own signature.
    const byRequestor = signPanUpdate(requestor, chainId, fresh, {
      seq: 1,
      reason: 'expiry_update',
      expiry: '2031-01',
    });
    assert.deepEqual(await refused(client.tokens.updatePan(fresh, byRequestor)), {
      code: 'not_token_issuer',
      status: 403,
    });
    const forgedUpdate = { ...byRequestor, issuer: issuer.address };
    assert.deepEqual(await refused(client.tokens.updatePan(fresh, forgedUpdate)), {
      code: 'token_request_signature_invalid',
      status: 403,
    });
    // A salt that is plainly not random would make the ledger's commitment brute-forceable.
    // (The SDK always draws it from the CSPRNG: this body is edited by hand.)
    const weakSalt = { ...provisionBody(requestor, 'weak', pan1), panSalt: '00'.repeat(31) + '01' };
    assert.deepEqual(await refused(client.tokens.provision(weakSalt)), {
      code: 'invalid_pan_salt',
      status: 400,
    });
    // A PAN the node refuses is not in its answer, nor is one in a body that is not JSON.
    const luhnBad = luhnValid(badPan) ? badPan.slice(0, -1) + '1' : badPan;
    const body = JSON.stringify({ ...provisionBody(requestor, 'r4', pan1), pan: luhnBad });
    const answer = await http('POST', '/v1/tokens', body);
    assert.equal(answer.json.error && (answer.json.error as { code: string }).code, 'invalid_pan');
    assert.equal(answer.text.includes(luhnBad), false);
    const broken = await http('POST', '/v1/tokens', `{"pan":"${pan1}", oops`);
    assert.equal(broken.status, 400);
    assert.equal(broken.text.includes(pan1), false, broken.text);
    testPans.push(luhnBad);
  });

  it('writes no test PAN in clear to its logs, its data directory or its blocks and txs', async () => {
    const head = (await client.health()).height;
    const served: string[] = [];
    // Every block with its txs (payloads, signatures) and receipts, as a client reads them.
    for (let height = 0; height <= head; height += 1) {
      const block = await client.getBlock(height);
      served.push(JSON.stringify(block));
      for (const hash of block.txs ?? []) served.push(JSON.stringify(await client.getTx(hash)));
    }
    const blocks = served.join('\n');
    assert.ok(blocks.includes(token), 'the blocks hold the token');
    await node!.kill();
    const logs = Buffer.concat(output).toString('utf8');
    assert.ok(logs.length > 0, 'the node logged');
    const files: [string, Buffer][] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else files.push([file, fs.readFileSync(file)]);
      }
    };
    walk(dataDir);
    assert.ok(files.some(([file]) => file.endsWith('chain.db')));
    // The search sees what is stored: the token itself is there in clear.
    assert.ok(
      files.some(([, bytes]) => bytes.includes(token)),
      'the data files hold the token',
    );
    for (const pan of testPans) {
      assert.equal(logs.includes(pan), false, `log output holds ${pan}`);
      assert.equal(blocks.includes(pan), false, `the blocks hold ${pan}`);
      for (const [file, bytes] of files) {
        assert.equal(bytes.includes(pan), false, `${file} holds a test PAN`);
        assert.equal(bytes.includes(Buffer.from(pan, 'utf16le')), false, `${file} (UTF-16)`);
      }
    }
  });
});

describe('a node without a vault key', { timeout: suiteTimeoutMs }, () => {
  it('answers vault_key_missing to the routes that need the vault', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-tokens-nokey-'));
    const bare = NodeProcess.spawn({
      cliPath,
      dataDir: path.join(dir, 'node'),
      blockIntervalMs: 50,
      logLevel: 'warn',
      env: childEnv,
      startTimeoutMs: 15_000,
    });
    try {
      const { url } = await bare.listening();
      const response = await fetch(`${url}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          signProvisionRequest(generateKey(), 'x', {
            requestId: 'r',
            pan: pan1,
            expiry: '2030-01',
            domain: { channels: ['ecommerce'], merchantIds: [] },
            assuranceLevel: 'low',
          }),
        ),
      });
      assert.equal(response.status, 503);
      const text = await response.text();
      assert.equal(
        (JSON.parse(text) as { error: { code: string } }).error.code,
        'vault_key_missing',
      );
      assert.equal(text.includes(pan1), false);
    } finally {
      await bare.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
