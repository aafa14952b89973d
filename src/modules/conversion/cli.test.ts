import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { createCli } from '../../cli/app.js';
import type { CliIo } from '../../cli/terminal.js';
import type { EngineConfiguration, EnginePage } from './client.js';
import { parsePairSide } from './cli.js';

/*
 * `coffer conversion ...` through the CLI's own entry point (createCli, the registry's modules),
 * against a real node in this process: an operator configures its engine command by command, then
 * reads it back; refusals are one stderr line with the node's code (exit 1), bad command lines
 * exit 2. The CLI reads its keystore home and passphrase from the environment, set here.
 */

const passphrase = 'conversion cli test passphrase';

/** A command line's words (none of these holds a space). */
const words = (line: string) => line.split(' ');

describe('coffer conversion', () => {
  let t: TestNode;
  let home: string;
  const saved = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };
  const cli = createCli();

  async function run(args: string[]) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
    const code = await cli.run([...args, '--node', t.url], io);
    return { code, out, err };
  }

  async function ok(args: string[]) {
    const result = await run(args);
    assert.equal(result.code, 0, `coffer ${args.join(' ')}: ${result.err}`);
    return result.out;
  }

  before(async () => {
    t = await startTestNode('conversion-cli');
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-conversion-cli-home-'));
    process.env.COFFER_HOME = home;
    process.env.COFFER_PASSPHRASE = passphrase;
    const stdout = new PassThrough();
    const io = { stdin: new PassThrough(), stdout, stderr: new PassThrough() } as unknown as CliIo;
    for (const name of ['op', 'other']) {
      assert.equal(await cli.run(['keys', 'new', name, '--json'], io), 0);
    }
  });

  after(async () => {
    await t.close();
    fs.rmSync(home, { recursive: true, force: true });
    for (const [key, value] of [
      ['COFFER_HOME', saved.home],
      ['COFFER_PASSPHRASE', saved.passphrase],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('configures an engine command by command and shows it', async () => {
    assert.match(
      await ok(['conversion', 'engine-set', '--name', 'Harbour FX', '--from', 'op']),
      /engine created/,
    );
    await ok(
      words(
        'conversion ecosystem-set home --kind coffer --network coffer-main --engine-address op --block-ms-min 500 --block-ms-max 5000 --from op',
      ),
    );
    await ok(
      words(
        'conversion ecosystem-set base --kind evm --network 8453 --engine-address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --from op',
      ),
    );
    await ok(
      words(
        'conversion asset-set home USD --decimals 2 --currency USD --liquidity-low 100000 --liquidity-high 10000000 --from op',
      ),
    );
    await ok(
      words(
        'conversion asset-set base USDC --decimals 6 --currency USD --liquidity-low 1000000000 --liquidity-high 100000000000 --from op',
      ),
    );
    const pair = await ok(
      words(
        'conversion pair-set home:USD base:USDC --spread-bps 20 --fee-bps 5 --fee-fixed 10000 --min 100 --max 1000000 --from op --json',
      ),
    );
    assert.equal((JSON.parse(pair) as { status: string }).status, 'ok');
    // An update keeps what is not given.
    await ok(words('conversion engine-set --hops-max 3 --status paused --from op'));

    const shown = JSON.parse(
      await ok(['conversion', 'show', 'op', '--json']),
    ) as EngineConfiguration;
    assert.equal(shown.engine.name, 'Harbour FX');
    assert.equal(shown.engine.hopsMax, 3);
    assert.equal(shown.engine.status, 'paused');
    assert.equal(shown.engine.quoteTtlSeconds, 30);
    assert.equal(shown.ecosystems.length, 2);
    assert.equal(
      shown.ecosystems.find((e) => e.ecosystem === 'home')!.engineAddress,
      shown.engine.address,
      'a key name stands for its address',
    );
    assert.deepEqual(
      shown.pairs.map((p) => [p.from, p.to, p.feeFixed]),
      [[{ ecosystem: 'home', asset: 'USD' }, { ecosystem: 'base', asset: 'USDC' }, '10000']],
    );
    const text = await ok(['conversion', 'show', shown.engine.address]);
    assert.match(text, /^engine +cof1/m);
    assert.match(text, /^home:USD +base:USDC +20 +5 +10000 +100 +1000000 +active$/m);
    assert.match(text, /^base +evm +8453 +0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/m);

    const page = JSON.parse(await ok(['conversion', 'list', '--json'])) as EnginePage;
    assert.deepEqual(
      page.engines.map((e) => e.address),
      [shown.engine.address],
    );
    assert.match(await ok(['conversion', 'list']), /Harbour FX +paused +2 +1/);

    await ok(words('conversion pair-remove home:USD base:USDC --from op'));
    await ok(words('conversion asset-remove base USDC --from op'));
    await ok(['conversion', 'ecosystem-remove', 'base', '--from', 'op']);
    const after_ = JSON.parse(
      await ok(['conversion', 'show', 'op', '--json']),
    ) as EngineConfiguration;
    assert.deepEqual(
      [after_.engine.ecosystemCount, after_.engine.pairCount, after_.assets.length],
      [1, 0, 1],
    );
  });

  it('prints the node’s code for a refused tx and exits 1; a bad command line exits 2', async () => {
    const refused = await run(
      words(
        'conversion asset-set nowhere USD --decimals 2 --currency USD --liquidity-low 0 --liquidity-high 1 --from other',
      ),
    );
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^coffer: engine_not_found: /);
    assert.equal(refused.err.split('\n').length, 2, 'one line');
    const missing = await run(['conversion', 'show', 'other']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^coffer: engine_not_found: /);
    const badName = await run(['conversion', 'engine-set', '--name', ' x', '--from', 'op']);
    assert.equal(badName.code, 1);
    assert.match(badName.err, /^coffer: invalid_engine_name: /);
    for (const args of [
      words(
        'conversion pair-set home-USD base:USDC --spread-bps 1 --fee-bps 1 --fee-fixed 0 --min 1 --max 2 --from op',
      ),
      ['conversion', 'engine-set', '--from', 'other'],
      words('conversion ecosystem-set x1 --kind ibc --network n --engine-address a --from op'),
      words('conversion engine-set --name n --status closed --from other'),
      ['conversion', 'list', '--limit', '0'],
    ]) {
      const result = await run(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.err}`);
    }
    assert.ok(cli.usage.includes('conversion pair-set'));
  });

  it('reads a pair side as ECOSYSTEM:ASSET', () => {
    assert.deepEqual(parsePairSide('base:USDC', 'FROM'), { ecosystem: 'base', asset: 'USDC' });
    assert.throws(() => parsePairSide('base:USDC:x', 'FROM'), /ECOSYSTEM:ASSET/);
    assert.throws(() => parsePairSide(':USDC', 'FROM'), /ECOSYSTEM:ASSET/);
  });
});
