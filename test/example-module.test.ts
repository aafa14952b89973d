// docs/modules.md's example module (examples/counter-module), plugged into a node, the SDK and
// the CLI through the interfaces every module of src/modules uses: its tx type parses with its
// schema's codes and runs in blocks, its route answers through its record's schema and shows in
// the OpenAPI document, its client reads it and its commands run. Not in the registry, a default
// CLI does not know it: registering is what adds a module.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { counter } from '../examples/counter-module/index.js';
import { counterClient, counterTxs } from '../examples/counter-module/client.js';
import { createCli } from '../src/cli/app.js';
import type { CliIo } from '../src/cli/terminal.js';
import { cofferModules } from '../src/modules/registry.js';
import { createCoreClient, signTx, type SignedTx, type UnsignedTx } from '../src/sdk/index.js';
import { rejection, startTestNode, type TestNode } from './support/test-node.js';

/** Runs the CLI in this process; answers the exit status and what it wrote. */
async function runCli(modules: typeof cofferModules, argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
  const status = await createCli(modules).run(argv, io);
  return { status, stdout: out.join(''), stderr: err.join('') };
}

describe('the example module of docs/modules.md', { timeout: 120_000 }, () => {
  let test: TestNode;
  let home: string;
  const environment = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };

  before(async () => {
    test = await startTestNode('example-module', { modules: [counter] });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-example-module-home-'));
    process.env.COFFER_HOME = home;
    process.env.COFFER_PASSPHRASE = 'example passphrase';
  });
  after(async () => {
    await test.close();
    fs.rmSync(home, { recursive: true, force: true });
    for (const [name, value] of [
      ['COFFER_HOME', environment.home],
      ['COFFER_PASSPHRASE', environment.passphrase],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** The dev key's next tx of `build`, signed. */
  async function signed(build: { type: string; payload: Record<string, unknown> }) {
    const [{ chainId }, { nonce }] = await Promise.all([
      test.client.health(),
      test.client.getAccount(test.dev.address),
    ]);
    const tx: UnsignedTx = { chainId, sender: test.dev.address, nonce, ...build };
    return signTx(tx, test.dev);
  }

  it('adds through the SDK, reads through its client, and the record is what the route answers', async () => {
    const core = createCoreClient(test.url);
    const { counters } = counterClient(core);
    const first = await core.client.submit(
      await signed(counterTxs.add({ name: 'apples', by: 5 })),
      {
        wait: 'commit',
      },
    );
    assert.equal(first.status, 'ok');
    await core.client.submit(await signed(counterTxs.add({ name: 'apples', by: 7 })), {
      wait: 'commit',
    });
    const apples = await counters.get('apples');
    assert.deepEqual(Object.keys(apples).sort(), ['lastBy', 'name', 'updatedAtHeight', 'value']);
    assert.equal(apples.value, 12);
    assert.equal(apples.lastBy, test.dev.address);
    const { receipt } = await test.client.getTx(first.hash);
    assert.deepEqual(receipt?.events, [
      { type: 'counter.added', data: { name: 'apples', by: 5, value: 5 } },
    ]);
  });

  it("refuses bad payloads with the schema's codes, naming the field, and changes nothing", async () => {
    const refused = async (payload: Record<string, unknown>, code: string, field?: string) => {
      const error = await rejection(
        test.client.submit(await signed({ type: 'counter.add', payload }), { wait: 'commit' }),
      );
      assert.equal(error.code, code, JSON.stringify(payload));
      assert.equal(error.status, 400);
      assert.equal(error.field, field);
    };
    await refused({ name: 'Apples', by: 1 }, 'invalid_counter_name', 'payload.name');
    await refused({ name: 'apples', by: 0 }, 'invalid_counter_step', 'payload.by');
    await refused({ name: 'apples', by: 1.5 }, 'invalid_counter_step', 'payload.by');
    await refused({ name: 'apples' }, 'invalid_counter_step', 'payload.by');
    await refused({ name: 'apples', by: 1, extra: true }, 'unknown_field', 'payload.extra');
    await refused(
      { constructor: 1, name: 'apples', by: 1 },
      'unknown_field',
      'payload.constructor',
    );
    const { counters } = counterClient(createCoreClient(test.url));
    assert.equal((await counters.get('apples')).value, 12);
  });

  it('a handler that rejects fails its tx in the block (422) and leaves the state as it was', async () => {
    const core = createCoreClient(test.url);
    const { counters } = counterClient(core);
    // Ten txs of 1,000 fill a counter to its cap; the eleventh overflows, in the same batch.
    const [{ chainId }, { nonce }] = await Promise.all([
      core.client.health(),
      core.client.getAccount(test.dev.address),
    ]);
    const batch: SignedTx[] = [];
    for (let index = 0; index < 11; index += 1) {
      batch.push(
        signTx(
          {
            chainId,
            sender: test.dev.address,
            nonce: nonce + index,
            ...counterTxs.add({ name: 'full', by: 1_000 }),
          },
          test.dev,
        ),
      );
    }
    const result = await core.client.submitBatch(batch, { wait: 'commit' });
    const statuses = result.results.map((item) => item.status);
    assert.deepEqual(statuses, [...Array<string>(10).fill('ok'), 'counter_overflow']);
    const last = await core.client.getTx(result.results.at(-1)!.hash!);
    assert.equal(last.receipt?.status, 'counter_overflow');
    assert.deepEqual(last.receipt?.events, []);
    assert.equal((await counters.get('full')).value, 10_000);
  });

  it('answers 404 counter_not_found and 400 for a bad name, in the API error shape', async () => {
    const { counters } = counterClient(createCoreClient(test.url));
    const missing = await rejection(counters.get('pears'));
    assert.deepEqual(
      [missing.code, missing.status, missing.field],
      ['counter_not_found', 404, 'name'],
    );
    assert.equal(missing.message, 'No counter has this name yet: add to it first.');
    const bad = await rejection(counters.get('Pears'));
    assert.deepEqual([bad.code, bad.status], ['invalid_counter_name', 400]);
  });

  it('shows in the OpenAPI document with its typed record and tag', async () => {
    const document = (await test.client.openApi()) as {
      tags: { name: string }[];
      paths: Record<
        string,
        {
          get: {
            responses: Record<
              string,
              { content: Record<string, { schema: { properties: object; required: string[] } }> }
            >;
          };
        }
      >;
    };
    assert.ok(document.tags.some((tag) => tag.name === 'counter'));
    const schema =
      document.paths['/v1/counters/{name}']!.get.responses['200']!.content['application/json']!
        .schema;
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'lastBy',
      'name',
      'updatedAtHeight',
      'value',
    ]);
    assert.deepEqual([...schema.required].sort(), ['lastBy', 'name', 'updatedAtHeight', 'value']);
  });

  it('runs its commands in a CLI built with it, and a CLI without it does not know them', async () => {
    const modules = [...cofferModules, counter];
    const secret = Buffer.from(test.dev.secretKey, 'hex').toString('hex');
    const imported = await runCli(modules, ['keys', 'import', 'dev', '--secret', secret]);
    assert.equal(imported.status, 0, imported.stderr);
    const added = await runCli(modules, [
      'counter',
      'add',
      'cherries',
      '--by',
      '3',
      '--from',
      'dev',
      '--node',
      test.url,
      '--json',
    ]);
    assert.equal(added.status, 0, added.stderr);
    assert.equal((JSON.parse(added.stdout) as { status: string }).status, 'ok');
    const shown = await runCli(modules, [
      'counter',
      'show',
      'cherries',
      '--node',
      test.url,
      '--json',
    ]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { value: number }).value, 3);
    const help = await runCli(modules, ['--help']);
    assert.match(help.stdout, /counter add NAME \[--by N\] --from KEY/);
    assert.match(help.stdout, /a counter holds at most 10000/);

    const without = await runCli(cofferModules, [
      'counter',
      'show',
      'cherries',
      '--node',
      test.url,
    ]);
    assert.equal(without.status, 2);
    assert.match(without.stderr, /unknown command counter/);
  });
});
