import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import type { CommandContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { generateKey } from '../../sdk/index.js';
import { createCa } from '../iot/pki/certificates.js';
import { printServerCommands } from './cli-servers.js';
import { loadAuthorityConfig } from './authority/config.js';
import { loadPrintServerConfig, serverFiles } from './server/config.js';
import { sampleDesign } from './server/fixture.js';
import { takeRegistrationSecret } from './server/records.js';
import { startPrintServer, type RunningPrintServer } from './server/server.js';

/*
 * `coffer print-authority init`, `coffer print-server init|secret create|trace` and `coffer design
 * upload` as a user runs them (the commands' own code, with a context that prints and unlocks a
 * key), against a real node and a print server started from the config `init` wrote.
 */

const designer = generateKey();

describe('coffer print-authority, print-server and design upload', () => {
  let t: TestNode;
  let dir: string;
  let running: RunningPrintServer | undefined;

  before(async () => {
    t = await startTestNode('print-cli');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-cli-'));
  });
  after(async () => {
    await running?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string, positionals: string[], values: Record<string, unknown>) {
    let printed = '';
    const ctx = {
      json: true,
      nodeUrl: t.url,
      print: (text: string) => (printed += text),
      unlock: () => Promise.resolve(designer),
    } as unknown as CommandContext;
    const command = printServerCommands.find((c) => c.name === name);
    assert.ok(command, name);
    await command.run(ctx, positionals, values as never);
    return JSON.parse(printed) as Record<string, unknown>;
  }

  const refusedWith = async (promise: Promise<unknown>, code: string) =>
    assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof CliError, String(error));
      assert.equal(error.code, code);
      return true;
    });

  it('print-authority init writes a key (0600, kept) and a config serve takes', async () => {
    const authorityDir = path.join(dir, 'authority');
    const made = await run('print-authority init', [], { dir: authorityDir, port: '0' });
    assert.equal(fs.statSync(String(made.keyFile)).mode & 0o777, 0o600);
    const config = loadAuthorityConfig(String(made.config));
    assert.equal(config.node.url, t.url);
    assert.equal(config.keyFile, made.keyFile);
    const again = await run('print-authority init', [], { dir: authorityDir });
    assert.equal(again.authority, made.authority);
    await refusedWith(
      run('print-authority init', [], { dir: authorityDir, port: '70000' }),
      'usage',
    );
  });

  it('print-server init, secret create, design upload and trace', async () => {
    const serverDir = path.join(dir, 'server');
    const authority = generateKey().address;
    await refusedWith(
      run('print-server init', [], { dir: serverDir, 'trusted-authority': ['cof1nope'] }),
      'invalid_address',
    );
    const made = await run('print-server init', [], {
      dir: serverDir,
      port: '0',
      'prints-port': '0',
      'trusted-authority': [authority],
      'platform-share-bp': '700',
      'host-name': ['localhost', '127.0.0.1'],
    });
    const config = loadPrintServerConfig(String(made.config));
    assert.deepEqual(config.trustedAuthorities, [authority]);
    assert.equal(config.platformShareBp, 700);
    assert.equal(
      fs.readFileSync(String(made.caFile), 'utf8').startsWith('-----BEGIN CERTIFICATE'),
      true,
    );

    const one = await run('print-server secret create', [], { dir: serverDir });
    const two = await run('print-server secret create', [], { dir: serverDir });
    assert.match(String(one.secret), /^[0-9a-f]{64}$/);
    assert.notEqual(one.secret, two.secret);
    // Only the hashes are on disk, and each is good once.
    const stored = fs.readdirSync(path.join(serverDir, serverFiles.secrets));
    assert.equal(stored.length, 2);
    assert.ok(!stored.some((name) => name === one.secret || name === two.secret));
    const taken = takeRegistrationSecret(serverDir, String(one.secret));
    assert.ok(taken);
    taken.consume();
    assert.equal(takeRegistrationSecret(serverDir, String(one.secret)), undefined);
    await refusedWith(
      run('print-server secret create', [], { dir: path.join(dir, 'nothing') }),
      'invalid_config',
    );

    running = await startPrintServer(config, { log: () => {} });
    const file = path.join(dir, 'cube.gcode');
    const gcode = sampleDesign({ layers: 30 });
    fs.writeFileSync(file, gcode);
    const uploaded = await run('design upload', [file], {
      server: running.url,
      'ca-file': made.caFile,
      from: 'designer',
    });
    assert.equal(uploaded.server, running.address);
    assert.equal(uploaded.contentHash, crypto.createHash('sha256').update(gcode).digest('hex'));
    assert.equal(uploaded.platformShareBp, 700);
    assert.match(String(uploaded.serverProof), /^[0-9a-f]{128}$/);
    assert.equal(running.server.store.meta(String(uploaded.contentHash))?.owner, designer.address);

    // Another CA than the server's: refused before anything is sent.
    const otherCa = path.join(dir, 'other-ca.pem');
    fs.writeFileSync(otherCa, (await createCa({ name: 'Other' })).certificatePem);
    await refusedWith(
      run('design upload', [file], { server: running.url, 'ca-file': otherCa, from: 'designer' }),
      'server_unreachable',
    );

    // Nothing printed yet: no watermark to read.
    await refusedWith(run('print-server trace', [file], { dir: serverDir }), 'watermark_not_found');
    await refusedWith(
      run('print-server trace', [file], { dir: serverDir, design: 'xyz' }),
      'usage',
    );
  });
});
