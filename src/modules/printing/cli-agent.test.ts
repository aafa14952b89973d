import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import type { CommandContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { generateKey } from '../../sdk/index.js';
import { AgentDataDir } from './agent/data-dir.js';
import { agentCommands } from './cli-agent.js';

/*
 * `coffer print-agent` without servers (test/printing-e2e.test.ts runs init, register and print
 * against real ones): the data directory defaults to COFFER_HOME/print-agent; status says what is
 * missing and what the chain says of the printer; register refuses an ambiguous command line and
 * a bad profile before it talks to anyone; print refuses before it opens a port when the board is
 * not registered, and a baud rate no printer uses.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-agent-cli-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs a command with a context that prints; `printer` is what the node answers for a printer. */
async function run(
  name: string,
  positionals: string[],
  values: Record<string, string | boolean>,
  printer?: (id: string) => Promise<{ status: string }>,
) {
  let printed = '';
  const ctx = {
    json: true,
    env: { home: path.join(root, 'home') },
    nodeUrl: 'http://127.0.0.1:7420',
    print: (text: string) => (printed += text),
    warn: () => undefined,
    client: {
      printing: {
        printer: printer ?? (() => Promise.reject(new Error('connect ECONNREFUSED'))),
      },
    },
  } as unknown as CommandContext;
  const command = agentCommands.find((c) => c.name === name);
  assert.ok(command, name);
  await command.run(ctx, positionals, values);
  return JSON.parse(printed) as Record<string, unknown>;
}

function cliError(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof CliError, `a CliError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

function registered(dir: AgentDataDir) {
  dir.initDeviceKey();
  dir.writeIdentity({
    hardwareId: `hw_${'2'.repeat(32)}`,
    authority: generateKey().address,
    authorityUrl: 'http://127.0.0.1:1',
    txHash: 'a'.repeat(64),
  });
  dir.writeRegistration({
    registration: {
      printerId: `pr_${'1'.repeat(32)}`,
      clientId: 'bench-1',
      serverUrl: 'https://127.0.0.1:1',
      printsUrl: 'https://127.0.0.1:2',
      server: generateKey().address,
      owner: generateKey().address,
      profileHash: 'b'.repeat(64),
    },
    profile: {},
    certificatePem: 'cert',
    keyPem: 'key',
    caCertificatePem: 'ca',
  });
}

describe('coffer print-agent', () => {
  it('status of a new board says what is missing, in COFFER_HOME/print-agent by default', async () => {
    const status = await run('print-agent status', [], {});
    assert.deepEqual(status, {
      dataDir: path.join(root, 'home', 'print-agent'),
      deviceKey: null,
      identity: null,
      registration: null,
      chain: null,
      lastPrint: null,
    });
  });

  it("status of a registered board shows the chain's word on its printer", async () => {
    const dir = new AgentDataDir(path.join(root, 'registered'));
    registered(dir);
    const asked: string[] = [];
    const status = await run('print-agent status', [], { 'data-dir': dir.dir }, (id) => {
      asked.push(id);
      return Promise.resolve({ status: 'revoked' });
    });
    assert.deepEqual(asked, [`pr_${'1'.repeat(32)}`]);
    assert.deepEqual(status.chain, { status: 'revoked' });
    assert.equal((status.registration as { clientId: string }).clientId, 'bench-1');
    const offline = await run('print-agent status', [], { 'data-dir': dir.dir });
    assert.match((offline.chain as { unreachable: string }).unreachable, /ECONNREFUSED/);
  });

  it('register refuses an ambiguous command line and a bad profile before any request', async () => {
    const dir = path.join(root, 'register');
    const profile = path.join(root, 'profile.json');
    fs.writeFileSync(profile, JSON.stringify({ firmware: 'marlin' }));
    const ca = path.join(root, 'ca.pem');
    fs.writeFileSync(ca, 'ca');
    const ownerKey = path.join(root, 'owner.json');
    fs.writeFileSync(ownerKey, JSON.stringify({ secretKey: generateKey().secretKey }));
    const base = {
      'data-dir': dir,
      server: 'https://127.0.0.1:1',
      'ca-file': ca,
      profile,
      'owner-key': ownerKey,
    };
    const secret = 'a'.repeat(64);
    await assert.rejects(run('print-agent register', [], base), cliError('usage'));
    await assert.rejects(
      run('print-agent register', [], { ...base, secret, 'secret-file': ca }),
      cliError('usage'),
    );
    await assert.rejects(
      run('print-agent register', [], { ...base, secret: 'short' }),
      cliError('usage'),
    );
    await assert.rejects(
      run('print-agent register', [], { ...base, secret, owner: 'owner' }),
      cliError('usage'),
    );
    // No hardware id yet: nothing was asked of the server.
    await assert.rejects(
      run('print-agent register', [], { ...base, secret }),
      cliError('agent_not_ready'),
    );
    new AgentDataDir(dir).initDeviceKey();
    new AgentDataDir(dir).writeIdentity({
      hardwareId: `hw_${'3'.repeat(32)}`,
      authority: generateKey().address,
      authorityUrl: 'http://127.0.0.1:1',
      txHash: 'c'.repeat(64),
    });
    await assert.rejects(
      run('print-agent register', [], { ...base, secret }),
      cliError('invalid_profile'),
    );
    assert.equal(new AgentDataDir(dir).has('registration'), false);
  });

  it('print refuses an unregistered board and a baud rate no printer uses', async () => {
    const token = 'ab'.repeat(32);
    await assert.rejects(
      run('print-agent print', [token], {
        'data-dir': path.join(root, 'unregistered'),
        port: '/dev/null',
      }),
      cliError('agent_not_ready'),
    );
    const dir = new AgentDataDir(path.join(root, 'baud'));
    registered(dir);
    await assert.rejects(
      run('print-agent print', [token], { 'data-dir': dir.dir, port: '/dev/null', baud: '12345' }),
      cliError('invalid_baud'),
    );
  });
});
