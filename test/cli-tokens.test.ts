// Payment tokens from the command line, as a user runs them: the built CLI in its own process
// against a node in another, started with a vault key file. The node's operator key (imported into
// the keystore) configures the service and registers participants; a requestor provisions a token
// for a PAN read from a file; the issuer, requestor and an acquirer run its lifecycle and
// detokenise it. Refusals exit 1 with the node's code and never print a PAN.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { luhnCheckDigit, type DetokeniseResult, type RelayResult } from '../src/sdk/index.js';
import { newVaultKeyDocument } from '../src/modules/tokens/vault.js';
import { CliSession, type TxJson } from './support/cli.js';

const passphrase = 'tokens test passphrase';
const suiteTimeoutMs = 180_000;
const issuerBin = '456781';
const body = issuerBin + '000777111';
const pan = body + luhnCheckDigit(body);

describe('coffer tokens commands against a node process', { timeout: suiteTimeoutMs }, () => {
  const cli = new CliSession({ name: 'cli-tokens', passphrase, runTimeoutMs: 30_000 });
  const { ok, okJson, fails } = cli;
  const addresses: Record<string, string> = {};
  let dir = '';
  let panFile = '';
  let token = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-tokens-'));
    const vaultFile = path.join(dir, 'vault.json');
    fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
    panFile = path.join(dir, 'pan.txt');
    fs.writeFileSync(panFile, `${pan}\n`, { mode: 0o600 });
    await cli.start({ blockIntervalMs: 20, env: { COFFER_VAULT_KEY_FILE: vaultFile } });
    const producer = JSON.parse(
      fs.readFileSync(path.join(cli.dataDir, 'producer-key.json'), 'utf8'),
    ) as { secretKey: string; address: string };
    await ok(['keys', 'import', 'op'], { input: `${producer.secretKey}\n` });
    for (const name of ['issuer', 'req', 'acq']) {
      addresses[name] = (await okJson<{ address: string }>(['keys', 'new', name])).address;
    }
  });

  after(async () => {
    await cli.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the operator configures token BINs and registers participants; others cannot', async () => {
    assert.equal(
      (await okJson<TxJson>(['tokens', 'configure', '990003', '--from', 'op'])).status,
      'ok',
    );
    const register = (name: string, role: string, ...more: string[]) =>
      okJson<TxJson>([
        'tokens',
        'register',
        name,
        '--name',
        name,
        '--role',
        role,
        ...more,
        '--from',
        'op',
      ]);
    assert.equal((await register('issuer', 'issuer', '--bin', issuerBin)).status, 'ok');
    assert.equal((await register('req', 'requestor')).status, 'ok');
    assert.equal((await register('acq', 'acquirer', '--merchant', 'm-1')).status, 'ok');
    await cli.refused(
      ['tokens', 'register', 'acq', '--name', 'x', '--role', 'wallet', '--from', 'issuer'],
      'not_token_service',
    );
    const shown = await ok(['tokens', 'participant', 'issuer']);
    assert.match(shown, new RegExp(`bins\\s+${issuerBin}`));
  });

  it('provisions from a PAN file, runs the lifecycle and detokenises', async () => {
    const provisioned = await okJson<RelayResult>([
      'tokens',
      'provision',
      '--from',
      'req',
      '--pan-file',
      panFile,
      '--expiry',
      '2030-11',
      '--request-id',
      'cli-1',
      '--channel',
      'ecommerce',
      '--merchant',
      'm-1',
    ]);
    token = provisioned.token!.token;
    assert.ok(token.startsWith('990003') && token !== pan);
    const step = (action: string, from: string, as: string) =>
      okJson<TxJson>(['tokens', action, token, '--from', from, '--as', as]);
    assert.equal(provisioned.token!.status, 'active');
    const detokenised = await okJson<DetokeniseResult>([
      'tokens',
      'detokenise',
      token,
      '--from',
      'acq',
      '--channel',
      'ecommerce',
      '--merchant',
      'm-1',
    ]);
    assert.equal(detokenised.pan, pan);
    await cli.refused(
      ['tokens', 'detokenise', token, '--from', 'acq', '--channel', 'contactless'],
      'domain_channel_refused',
    );
    assert.equal((await step('suspend', 'req', 'requestor')).status, 'ok');
    assert.equal((await step('resume', 'req', 'requestor')).status, 'ok');
    const updated = await okJson<RelayResult>([
      'tokens',
      'update-pan',
      token,
      '--from',
      'issuer',
      '--expiry',
      '2032-02',
    ]);
    assert.equal(updated.token?.expiry, '2032-02');
    assert.equal((await step('delete', 'issuer', 'issuer')).status, 'ok');
    const shown = await ok(['tokens', 'show', token]);
    assert.match(shown, /status\s+deleted/);
    assert.equal(shown.includes(pan), false);
    await cli.refused(
      ['tokens', 'resume', token, '--from', 'issuer', '--as', 'issuer'],
      'token_deleted',
    );
  });

  it('refuses a bad PAN file without printing it', async () => {
    const bad = path.join(dir, 'bad.txt');
    const wrong = pan.slice(0, -1) + String((Number(pan.at(-1)) + 1) % 10);
    fs.writeFileSync(bad, wrong);
    const reason = await fails(
      [
        'tokens',
        'provision',
        '--from',
        'req',
        '--pan-file',
        bad,
        '--expiry',
        '2030-11',
        '--request-id',
        'x',
      ],
      'invalid_pan',
    );
    assert.equal(reason.includes(wrong), false);
  });
});
