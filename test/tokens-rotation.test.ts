// Vault key rotation end to end (issue 17): a node process seals a PAN under KEK k1; the key file
// is rotated with the built CLI (`coffer tokens vault-key new`, then `rotate --id k2`); the node,
// restarted on the rotated file, re-wraps every data key under k2 at a validator operator's
// signed request (a fresh key is refused); restarted once more on a file holding k2 alone, it
// still detokenises the token to its PAN.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  luhnCheckDigit,
  signDetokenise,
  signProvisionRequest,
  signRewrap,
  tokenServiceTxs,
} from '../src/modules/tokens/client.js';
import {
  CofferError,
  createClient,
  generateKey,
  importKey,
  type SigningKey,
} from '../src/sdk/index.js';
import { childEnv, cliPath, runCli } from './support/cli.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';

const suiteTimeoutMs = 90_000;
const issuerBin = '456780';
const pan = '4567800012345678'.slice(0, 15);
const fullPan = pan + luhnCheckDigit(pan);

describe('vault key rotation through node processes', { timeout: suiteTimeoutMs }, () => {
  let workDir = '';
  let dataDir = '';
  let vaultFile = '';
  let node: NodeProcess | undefined;
  const killOnExit = () => node?.killNow();

  async function start() {
    node = NodeProcess.spawn({
      cliPath,
      dataDir,
      blockIntervalMs: 20,
      logLevel: 'warn',
      env: { ...childEnv, COFFER_VAULT_KEY_FILE: vaultFile },
      startTimeoutMs: 15_000,
    });
    const { url } = await node.listening();
    const client = createClient(url);
    return { client, chainId: (await client.health()).chainId };
  }

  async function cli(...args: string[]) {
    const run = await runCli(args, { env: childEnv, timeoutMs: 20_000 });
    assert.equal(run.code, 0, run.stderr);
    return run;
  }

  before(() => {
    assertBuilt(cliPath);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-tokens-rotation-'));
    dataDir = path.join(workDir, 'node');
    vaultFile = path.join(workDir, 'vault.json');
    process.on('exit', killOnExit);
  });

  after(async () => {
    await node?.kill();
    process.off('exit', killOnExit);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('vault-key rotate says "not JSON" without quoting the file, and refuses a shared file', async () => {
    const run = (...args: string[]) => runCli(args, { env: childEnv, timeoutMs: 20_000 });
    const broken = path.join(workDir, 'broken.json');
    const secret = 'cd'.repeat(32);
    fs.writeFileSync(broken, `{"fingerprintKey": "${secret}", oops`, { mode: 0o600 });
    const bad = await run('tokens', 'vault-key', 'rotate', broken, '--id', 'k9');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not JSON/);
    assert.equal((bad.stdout + bad.stderr).includes(secret.slice(0, 8)), false, bad.stderr);
    const shared = path.join(workDir, 'shared.json');
    await cli('tokens', 'vault-key', 'new', shared);
    fs.chmodSync(shared, 0o644);
    const refused = await run('tokens', 'vault-key', 'rotate', shared, '--id', 'k2');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /chmod 600/);
  });

  it('re-wraps data keys under a new KEK; the old KEK can then go', async () => {
    await cli('tokens', 'vault-key', 'new', vaultFile, '--id', 'k1');
    assert.equal((fs.statSync(vaultFile).mode & 0o777).toString(8), '600');
    let { client, chainId } = await start();
    const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'producer-key.json'), 'utf8')) as {
      secretKey: string;
    };
    const operator = importKey(stored.secretKey);
    const issuer = generateKey();
    const requestor = generateKey();
    const send = async (key: SigningKey, tx: { type: string; payload: object }) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return (await client.send(key, tx as never)).status;
        } catch (error) {
          if (error instanceof CofferError && error.code.startsWith('nonce') && attempt < 5) {
            continue;
          }
          throw error;
        }
      }
    };
    assert.equal(await send(operator, tokenServiceTxs.configure(['990009'])), 'ok');
    for (const [key, roles, bins] of [
      [issuer, ['issuer'], [issuerBin]],
      [requestor, ['requestor'], undefined],
    ] as const) {
      const tx = tokenServiceTxs.registerParticipant({
        address: key.address,
        name: roles[0],
        roles: [...roles],
        ...(bins ? { bins: [...bins] } : {}),
      });
      assert.equal(await send(operator, tx), 'ok');
    }
    const provisioned = await client.tokens.provision(
      signProvisionRequest(requestor, chainId, {
        requestId: 'rot-1',
        pan: fullPan,
        expiry: '2031-01',
        domain: { channels: ['contactless'], merchantIds: [] },
        assuranceLevel: 'medium',
      }),
    );
    const token = provisioned.token!.token;
    assert.equal(provisioned.token!.status, 'active');
    await node!.kill();

    await cli('tokens', 'vault-key', 'rotate', vaultFile, '--id', 'k2');
    ({ client, chainId } = await start());
    const stranger = generateKey();
    await assert.rejects(
      client.tokens.rewrap(signRewrap(stranger, chainId, { kekId: 'k2', limit: 10 })),
      (error: CofferError) => error.code === 'not_token_service' && error.status === 403,
    );
    await assert.rejects(
      client.tokens.rewrap(signRewrap(operator, chainId, { kekId: 'k1', limit: 10 })),
      (error: CofferError) => error.code === 'vault_key_mismatch',
    );
    const page = await client.tokens.rewrap(
      signRewrap(operator, chainId, { kekId: 'k2', limit: 10 }),
    );
    assert.equal(page.rewrapped, 1);
    assert.equal(page.next, undefined);
    const again = await client.tokens.rewrap(
      signRewrap(operator, chainId, { kekId: 'k2', limit: 10 }),
    );
    assert.equal(again.rewrapped, 0, 'nothing is left under k1');
    await node!.kill();

    // The file without k1: only k2 opens the envelope now.
    const document = JSON.parse(fs.readFileSync(vaultFile, 'utf8')) as {
      keks: { id: string }[];
    };
    fs.writeFileSync(
      vaultFile,
      JSON.stringify({ ...document, keks: document.keks.filter((k) => k.id === 'k2') }),
    );
    ({ client, chainId } = await start());
    const answer = await client.tokens.detokenise(
      token,
      signDetokenise(issuer, chainId, token, { n: 1, purpose: 'refund', channel: 'contactless' }),
    );
    assert.equal(answer.pan, fullPan);
  });
});
