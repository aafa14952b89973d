// `coffer webhooks add|list|remove|replay|dead-letters`, as the node's operator runs them against a
// node process, with a real receiver on loopback: the admin token comes from COFFER_ADMIN_TOKEN or
// --admin-token-file, and every refusal is one line with the node's code.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKey, txs } from '../src/sdk/index.js';
import { CliSession } from './support/cli.js';
import { WebhookReceiver, verifyWebhook } from './support/webhook-receiver.js';

const passphrase = 'change-me';
const runTimeoutMs = 30_000;
const deliveryTimeoutMs = 20_000;

async function until<T>(probe: () => T | undefined | false, what: string): Promise<T> {
  const deadline = performance.now() + deliveryTimeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('coffer webhooks', { timeout: 90_000 }, () => {
  const cli = new CliSession({ name: 'cli-webhooks', passphrase, runTimeoutMs });
  const { okJson, ok, fails } = cli;
  let receiver: WebhookReceiver;
  let tokenFile: string;

  before(async () => {
    await cli.start({
      blockIntervalMs: 20,
      env: { COFFER_WEBHOOK_ATTEMPTS_MAX: '1', COFFER_WEBHOOK_RETRY_BASE_MS: '10' },
    });
    receiver = await WebhookReceiver.start();
    tokenFile = path.join(cli.dataDir, 'admin-token');
  });
  after(async () => {
    await cli.close();
    await receiver.down();
  });

  it('adds, lists, replays, shows dead letters and removes, with the token file', async () => {
    const auth = ['--admin-token-file', tokenFile];
    const created = await okJson<{ id: string; secret: string; events: string[] }>([
      'webhooks',
      'add',
      `${receiver.url}/cli`,
      '--events',
      'ledger.transferred, ledger.issued',
      ...auth,
    ]);
    assert.match(created.id, /^wh_[0-9a-f]{16}$/);
    assert.deepEqual(created.events, ['ledger.transferred', 'ledger.issued']);
    const dev = cli.readDevKey();
    const sent = await cli.client.send(
      dev,
      txs.transfer({ to: generateKey().address, asset: 'USD', amount: '100' }),
    );
    const got = await until(() => receiver.delivered('/cli')[0], 'the delivery');
    assert.equal((verifyWebhook(created.secret, got) as { tx: string }).tx, sent.hash);

    const text = await ok(['webhooks', 'list', ...auth]);
    assert.match(
      text,
      new RegExp(`${created.id}\\s+${receiver.url}/cli\\s+ledger.transferred,ledger.issued`),
    );
    assert.ok(!text.includes(created.secret), 'list never shows the secret');

    // The receiver refuses: with one attempt allowed, the event is a dead letter at once.
    receiver.respond = () => 500;
    await cli.client.send(
      dev,
      txs.transfer({ to: generateKey().address, asset: 'USD', amount: '200' }),
    );
    let dead: { deadLetters: { height: number; webhookId: string }[] } = { deadLetters: [] };
    const deadline = performance.now() + deliveryTimeoutMs;
    while (dead.deadLetters.length === 0 && performance.now() < deadline) {
      dead = await okJson(['webhooks', 'dead-letters', created.id, ...auth]);
    }
    assert.equal(dead.deadLetters.length, 1);
    receiver.respond = () => 200;
    const replay = await okJson<{ fromHeight: number }>([
      'webhooks',
      'replay',
      created.id,
      '--from-height',
      String(dead.deadLetters[0]!.height),
      ...auth,
    ]);
    assert.equal(replay.fromHeight, dead.deadLetters[0]!.height);
    const redriven = await until(
      () => receiver.delivered('/cli').find((r) => r.id === dead.deadLetters[0]!.webhookId),
      'the dead letter re-driven',
    );
    assert.ok(redriven);
    assert.match(await ok(['webhooks', 'remove', created.id, ...auth]), /^removed wh_/);
    assert.deepEqual(await okJson(['webhooks', 'list', ...auth]), { webhooks: [] });
  });

  it('takes the secret from --secret-file or COFFER_WEBHOOK_SECRET, never needing it in argv', async () => {
    const auth = ['--admin-token-file', tokenFile];
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const secretFile = path.join(cli.dataDir, 'webhook-secret');
    fs.writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const fromFile = await okJson<{ id: string; secret: string }>([
      'webhooks',
      'add',
      `${receiver.url}/secret-file`,
      '--events',
      'ledger.*',
      '--secret-file',
      secretFile,
      ...auth,
    ]);
    assert.equal(fromFile.secret, secret, "the file's line, without its newline");
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const fromEnv = await okJson<{ id: string; secret: string }>(
      ['webhooks', 'add', `${receiver.url}/secret-env`, '--events', 'ledger.*', ...auth],
      { env: { COFFER_WEBHOOK_SECRET: other } },
    );
    assert.equal(fromEnv.secret, other);
    fs.writeFileSync(secretFile, '');
    await fails(
      [
        'webhooks',
        'add',
        receiver.url,
        '--events',
        'ledger.*',
        '--secret-file',
        secretFile,
        ...auth,
      ],
      'invalid_file',
    );
    await fails(
      [
        'webhooks',
        'add',
        receiver.url,
        '--events',
        'ledger.*',
        '--secret-file',
        secretFile,
        '--secret',
        secret,
        ...auth,
      ],
      'usage',
      { exitCode: 2 },
    );
    for (const { id } of [fromFile, fromEnv]) await ok(['webhooks', 'remove', id, ...auth]);
  });

  it('takes the token from COFFER_ADMIN_TOKEN; refuses without one or with a wrong one', async () => {
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    const listed = await okJson<{ webhooks: unknown[] }>(['webhooks', 'list'], {
      env: { COFFER_ADMIN_TOKEN: token },
    });
    assert.ok(Array.isArray(listed.webhooks));
    assert.match(await fails(['webhooks', 'list'], 'admin_token_missing'), /COFFER_ADMIN_TOKEN/);
    await fails(['webhooks', 'list'], 'admin_token_invalid', {
      env: { COFFER_ADMIN_TOKEN: 'x'.repeat(40) },
    });
    await fails(
      ['webhooks', 'add', 'ftp://example.com/', '--events', 'ledger.*'],
      'invalid_webhook_url',
      { env: { COFFER_ADMIN_TOKEN: token } },
    );
    await fails(['webhooks', 'remove', 'nope'], 'usage', { exitCode: 2 });
    await fails(['webhooks', 'replay', 'wh_0000000000000000'], 'usage', { exitCode: 2 });
  });
});
