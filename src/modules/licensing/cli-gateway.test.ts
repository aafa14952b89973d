import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { generateKey } from '../../sdk/index.js';
import { gatewayCommands } from './cli-gateway.js';
import { loadGatewayConfig } from './gateway/config.js';
import { FakeChain } from './gateway/fixture.js';
import { startGateway } from './gateway/server.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-gateway-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const key = generateKey();

/** Runs a command with a context that prints and unlocks `key` (no keystore, no node). */
async function run(name: string, positionals: string[], values: Record<string, string>) {
  let printed = '';
  const ctx = {
    json: true,
    nodeUrl: 'http://127.0.0.1:7420',
    print: (text: string) => (printed += text),
    unlock: () => Promise.resolve(key),
  } as unknown as CommandContext;
  const command = gatewayCommands.find((c) => c.name === name);
  assert.ok(command, name);
  await command.run(ctx, positionals, values);
  return JSON.parse(printed) as Record<string, string | number>;
}

describe('coffer content gateway and content upload', () => {
  it('init writes the master key (0600) and a config serve takes; never twice', async () => {
    const gatewayDir = path.join(dir, 'gw');
    const made = await run('content gateway init', [], { dir: gatewayDir, port: '0' });
    assert.equal(fs.statSync(String(made.masterKey)).mode & 0o777, 0o600);
    const config = loadGatewayConfig(String(made.config));
    assert.equal(config.dataDir, gatewayDir);
    assert.equal(config.node.url, 'http://127.0.0.1:7420');
    const before = fs.readFileSync(String(made.masterKey), 'utf8');
    await assert.rejects(run('content gateway init', [], { dir: gatewayDir }), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.code, 'file_exists');
      return true;
    });
    assert.equal(fs.readFileSync(String(made.masterKey), 'utf8'), before);
  });

  it('upload signs the file as the key and prints the contentId and the publicKey to register', async () => {
    const gatewayDir = path.join(dir, 'gw-upload');
    const made = await run('content gateway init', [], { dir: gatewayDir, port: '0' });
    const running = await startGateway(loadGatewayConfig(String(made.config)), {
      chain: new FakeChain(),
      timers: false,
      log: () => {},
    });
    try {
      const file = path.join(dir, 'film.webm');
      const bytes = crypto.randomBytes(70_000);
      fs.writeFileSync(file, bytes);
      const answer = await run('content upload', [file], { gateway: running.url, from: 'owner' });
      assert.equal(answer.contentId, crypto.createHash('sha256').update(bytes).digest('hex'));
      assert.match(String(answer.publicKey), /^[0-9a-f]{64}$/);
      assert.match(String(answer.proof), /^[0-9a-f]{128}$/);
      assert.deepEqual([answer.size, answer.mediaType], [70_000, 'video/webm']);
      assert.equal(running.gateway.store.meta(String(answer.contentId))?.owner, key.address);
      await assert.rejects(
        run('content upload', [path.join(dir, 'notes.xyz')], {
          gateway: running.url,
          from: 'owner',
        }),
        (error: unknown) => error instanceof CliError && error.code === 'usage',
      );
    } finally {
      await running.close();
    }
  });
});
