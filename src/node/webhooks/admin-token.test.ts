// The operator's admin token: the data directory's admin-token file is held to the rule of
// COFFER_ADMIN_TOKEN, and a node with a bad one does not start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConfigError, parseNodeConfig } from '../config.js';
import { CofferNode } from '../node.js';
import { adminTokenFile, bearerToken, loadAdminToken } from './admin-token.js';

describe('the admin token', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-admin-token-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const file = () => path.join(dataDir, adminTokenFile);

  it('generates an owner-only token file, whole, whatever the umask', () => {
    const before = process.umask(0o022);
    try {
      const { token, warnings } = loadAdminToken(dataDir, undefined);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(warnings, []);
      assert.equal(fs.readFileSync(file(), 'utf8'), `${token}\n`);
      assert.equal(fs.statSync(file()).mode & 0o777, 0o600);
      assert.deepEqual(fs.readdirSync(dataDir), [adminTokenFile], 'no temp file left');
      assert.equal(loadAdminToken(dataDir, undefined).token, token, 'read back at the next start');
    } finally {
      process.umask(before);
    }
  });

  for (const [what, text] of <[string, string][]>[
    ['empty', ''],
    ['a newline', '\n'],
    ['whitespace', '   \t \n'],
    ['a NBSP', '\u00a0\n'],
    ['too short', 'abc\n'],
    ['a token with spaces around', `  ${'a'.repeat(40)}  \n`],
    ['two lines', `${'a'.repeat(40)}\n${'b'.repeat(40)}\n`],
  ]) {
    it(`refuses a file holding ${what}`, () => {
      fs.writeFileSync(file(), text, { mode: 0o600 });
      assert.throws(
        () => loadAdminToken(dataDir, undefined),
        (error: unknown) =>
          error instanceof ConfigError && /admin token must be 32 to 256/.test(error.message),
      );
    });
  }

  it('takes a valid file (LF or CRLF) and warns, without the token, when others may read it', () => {
    const token = 'A'.repeat(32) + '_-.~+/=';
    fs.writeFileSync(file(), `${token}\r\n`, { mode: 0o600 });
    fs.chmodSync(file(), 0o600);
    assert.deepEqual(loadAdminToken(dataDir, undefined), { token, warnings: [] });
    fs.chmodSync(file(), 0o644);
    const { warnings } = loadAdminToken(dataDir, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /readable or writable by group or others \(mode 0644\)/);
    assert.ok(!warnings[0]!.includes(token), 'the warning never holds the token');
  });

  it('reads the exact characters after "Bearer "', () => {
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer \u00a0'), '\u00a0');
    assert.equal(bearerToken('bearer  x '), ' x ');
  });

  for (const [what, text] of <[string, string][]>[
    ['an empty', ''],
    ['a whitespace', ' \n'],
  ]) {
    it(`keeps a node with ${what} admin-token file from starting`, async () => {
      fs.writeFileSync(file(), text, { mode: 0o600 });
      const config = parseNodeConfig(
        { dataDir, port: 0, logLevel: 'silent', verifyWorkers: 1 },
        {},
      );
      await assert.rejects(
        async () => {
          const node = await CofferNode.open(config);
          await node.close(); // started: the assertion below fails
        },
        (error: unknown) => error instanceof ConfigError && /admin-token/.test(error.message),
      );
      // Nothing was left open or locked: with a good token the same directory starts.
      fs.rmSync(file());
      const node = await CofferNode.open(config);
      await node.close();
    });
  }
});
