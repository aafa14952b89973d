// The README's "Your first transfer", as a user runs it against a node process: the SDK example
// (examples/first-transfer.mts, the very file the README shows) and the curl example (a tx
// signed by `coffer tx sign --json`, piped to curl), run from the README's own shell block; and
// `coffer tx sign` itself: offline with --nonce and --chain-id, refusing what it must not sign.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashTx, type SignedTx } from '../src/sdk/index.js';
import { CliSession, childEnv, cliPath } from './support/cli.js';

const passphrase = 'change-me';
const runTimeoutMs = 30_000;
const suiteTimeoutMs = 120_000;
const root = path.resolve(import.meta.dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const example = path.join(root, 'examples', 'first-transfer.mts');

/** The text of the README's section `title`, up to the next section. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `the README has a section ${title}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced blocks of `language` in `text`. */
function blocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(
    (match) => match[1]!,
  );
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(
  "the README's first transfer, with the SDK and with curl",
  { timeout: suiteTimeoutMs },
  () => {
    const cli = new CliSession({ name: 'cli-first-transfer', passphrase, runTimeoutMs });
    const { ok, okJson, refused } = cli;
    const firstTransfer = section('Your first transfer');

    before(() => cli.start({ blockIntervalMs: 20 }));
    after(() => cli.close());

    it('the README shows examples/first-transfer.mts as it is, and the example sends 74.50 USD', async () => {
      assert.ok(
        blocks(firstTransfer, 'ts').includes(fs.readFileSync(example, 'utf8')),
        'the ts block of "Your first transfer" is examples/first-transfer.mts',
      );
      assert.match(firstTransfer, /`npx tsx examples\/first-transfer\.mts`/);
      const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
      const run = spawnSync(tsx, [example, cli.url, cli.dataDir], {
        cwd: root,
        env: childEnv,
        encoding: 'utf8',
        timeout: runTimeoutMs,
      });
      assert.equal(run.status, 0, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
      const hash = /hash: '([0-9a-f]{64})'/.exec(run.stdout)?.[1];
      assert.ok(hash, run.stdout);
      assert.match(run.stdout, /status: 'ok'/);
      const sent = await cli.client.getTx(hash);
      assert.equal(sent.receipt?.status, 'ok');
      assert.equal(sent.tx?.sender, cli.readDevKey().address);
      const to = String(sent.tx.payload.to);
      const account = await cli.client.getAccount(to);
      assert.deepEqual(
        account.balances.map((b) => [b.asset, b.balance]),
        [['USD', '7450']],
      );
    });

    it("the README's curl block, run as written: coffer tx sign --json piped to curl moves 12.50 USD", async () => {
      assert.equal(spawnSync('curl', ['--version']).status, 0, 'the curl example needs curl');
      const script = blocks(firstTransfer, 'sh').find((block) => block.includes('coffer tx sign'));
      assert.ok(script, 'the section has a shell block with coffer tx sign');
      assert.match(
        script,
        /--json \| curl -s -XPOST 'http:\/\/127\.0\.0\.1:7420\/v1\/txs\?wait=commit'/,
      );
      // Pasted in a shell as a user would, in a directory where ./.coffer is the node's data dir;
      // `coffer` runs the built CLI against this test's node, and curl posts to it.
      const dir = path.join(cli.workDir, 'readme');
      fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
      fs.symlinkSync(cli.dataDir, path.join(dir, '.coffer'));
      const coffer = path.join(dir, 'bin', 'coffer');
      fs.writeFileSync(
        coffer,
        `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@" --node '${cli.url}'\n`,
        { mode: 0o755 },
      );
      const pasted = script
        .replaceAll('npx coffer', 'coffer')
        .replaceAll('http://127.0.0.1:7420', cli.url);
      const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', pasted], {
        cwd: dir,
        encoding: 'utf8',
        timeout: runTimeoutMs,
        env: {
          ...childEnv,
          PATH: `${path.join(dir, 'bin')}${path.delimiter}${childEnv.PATH ?? ''}`,
          COFFER_HOME: cli.home,
        },
      });
      assert.equal(run.status, 0, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
      assert.equal(run.stderr, '');
      const receipt = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!) as {
        hash: string;
        status: string;
        height: number;
      };
      assert.equal(receipt.status, 'ok');
      const carol = (await okJson<{ address: string }>(['keys', 'show', 'carol'])).address;
      const account = await cli.client.getAccount(carol);
      assert.deepEqual(
        account.balances.map((b) => [b.asset, b.balance]),
        [['USD', '1250']],
      );
      const tx = await cli.client.getTx(receipt.hash);
      assert.deepEqual(tx.tx?.payload, { to: carol, asset: 'USD', amount: '1250' });
    });

    it('tx sign signs without sending, offline with --nonce and --chain-id; the node takes what it signed', async () => {
      const dev = cli.readDevKey();
      const carol = (await okJson<{ address: string }>(['keys', 'show', 'carol'])).address;
      const { nonce } = await cli.client.getAccount(dev.address);
      const payload = JSON.stringify({ to: carol, asset: 'USD', amount: '100' });
      const sign = ['tx', 'sign', 'ledger.transfer', '--payload', payload, '--from', 'dev'];
      // No node answers at --node: with both --nonce and --chain-id, none is needed.
      const offline = { nodeUrl: `http://127.0.0.1:${await closedPort()}` };
      const signed = await okJson<SignedTx>(
        [...sign, '--nonce', String(nonce), '--chain-id', 'coffer-dev', '--memo', 'rent'],
        offline,
      );
      assert.deepEqual(
        { ...signed, signature: undefined },
        {
          chainId: 'coffer-dev',
          type: 'ledger.transfer',
          sender: dev.address,
          nonce,
          payload: JSON.parse(payload) as unknown,
          memo: 'rent',
          signature: undefined,
        },
      );
      assert.match(signed.signature, /^[0-9a-f]{128}$/);
      const text = await ok(sign);
      assert.match(text, new RegExp(`^signed tx [0-9a-f]{64}, not sent$`, 'm'));
      assert.match(text, new RegExp(`^nonce\\s+${nonce}$`, 'm'));
      assert.match(text, new RegExp(`^curl -s -XPOST '${cli.url}/v1/txs\\?wait=commit' `, 'm'));
      assert.equal((await cli.client.getAccount(dev.address)).nonce, nonce, 'nothing was sent');

      const posted = await cli.client.submit(signed, { wait: 'commit' });
      assert.deepEqual([posted.hash, posted.status], [hashTx(signed), 'ok']);
    });

    it('tx sign refuses to sign a payload that is not JSON, a mistyped address or a payment to itself', async () => {
      const carol = (await okJson<{ address: string }>(['keys', 'show', 'carol'])).address;
      const typo = carol.slice(0, 30) + (carol[30] === 'q' ? 'p' : 'q') + carol.slice(31);
      const dev = cli.readDevKey().address;
      const sign = (payload: string) => [
        'tx',
        'sign',
        'ledger.transfer',
        '--payload',
        payload,
        '--from',
        'dev',
      ];
      const locked = { env: { COFFER_PASSPHRASE: undefined } };
      const [notJson, array, badType, mistyped, self] = await Promise.all([
        refused(sign('{to:'), 'usage', { exitCode: 2, ...locked }),
        refused(sign('[]'), 'usage', { exitCode: 2, ...locked }),
        refused(['tx', 'sign', 'transfer', '--payload', '{}', '--from', 'dev'], 'usage', {
          exitCode: 2,
          ...locked,
        }),
        refused(
          sign(JSON.stringify({ to: typo, asset: 'USD', amount: '1' })),
          'invalid_address',
          locked,
        ),
        refused(
          sign(JSON.stringify({ to: dev, asset: 'USD', amount: '1' })),
          'accounts_must_be_different',
          locked,
        ),
      ]);
      assert.match(notJson.reason, /^--payload is not JSON: /);
      assert.match(array.reason, /^--payload must be a JSON object/);
      assert.match(
        badType.reason,
        /^TYPE must be a tx type such as ledger\.transfer, got "transfer"$/,
      );
      assert.equal(
        mistyped.reason,
        `--payload payload.to ${typo} is not an address: its checksum does not match, so a character in it is wrong or missing`,
      );
      assert.match(self.reason, /^--payload payload\.to is the address of --from dev itself/);
      for (const result of [notJson, array, badType, mistyped, self])
        assert.equal(result.stdout, '');
    });
  },
);
