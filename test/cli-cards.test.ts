// Payment cards from the command line, as a user runs them: the built CLI in its own process
// against a node started with a vault key file. The operator key sets up the token service, a
// requestor provisions a vault token, and then the README's "Payment cards on devices" block runs
// command by command, as written (its words, read from the README): link, accept, the device's
// element, add and approve the device, replenish, select, pay, authorise, capture. Then the reads,
// a batch minted by the issuer and imported by the device, the refusals (each one stderr line
// `coffer: <code>: ...`), a retried authorisation, and no output holding the PIN or the PAN.
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type {
  Authorisation,
  CardDeviceRecord,
  CardRecord,
  CardTokenRecord,
  DeviceAnswer,
  TerminalRequest,
} from '../src/modules/cards/client.js';
import { newVaultKeyDocument } from '../src/modules/tokens/vault.js';
import { luhnCheckDigit, type RelayResult } from '../src/sdk/index.js';
import { CliSession, describeRun, type CliRun, type TxJson } from './support/cli.js';

const passphrase = 'cards test passphrase';
const suiteTimeoutMs = 180_000;
const root = path.resolve(import.meta.dirname, '..');
const issuerBin = '456782';
const panBody = issuerBin + '003141592';
const pan = panBody + luhnCheckDigit(panBody);
/** Ten digits: long enough that no hex id or signature printed holds it by chance. */
const pin = '8604172953';

/** The README's section `title`, up to the next section. */
function readmeSection(title: string): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `the README has a section ${title}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** One command of a shell block: its words after `npx coffer`, and where `>` sends stdout. */
interface ShellCommand {
  words: string[];
  stdoutTo?: string;
}

/**
 * The `npx coffer` commands of a shell block, split into words as sh does for these lines: line
 * continuations, single and double quotes, `# comments`, `> FILE`. Anything else is refused, so
 * the README cannot grow a construct this reading gets wrong.
 */
function shellCommands(block: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  for (const line of block.replace(/\\\n/g, ' ').split('\n')) {
    const words: string[] = [];
    let word: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === "'" || c === '"') {
        const close = line.indexOf(c, i + 1);
        assert.ok(close > i, `an unclosed quote in: ${line}`);
        word = (word ?? '') + line.slice(i + 1, close);
        i = close;
      } else if (c === ' ') {
        if (word !== undefined) words.push(word);
        word = undefined;
      } else if (c === '#' && word === undefined) {
        break;
      } else {
        assert.ok(!'$`|;&<\\'.includes(c), `a shell construct this test does not read: ${line}`);
        word = (word ?? '') + c;
      }
    }
    if (word !== undefined) words.push(word);
    if (words.length === 0) continue;
    assert.deepEqual(words.slice(0, 2), ['npx', 'coffer'], `a coffer command: ${line}`);
    const redirect = words.indexOf('>');
    commands.push(
      redirect < 0
        ? { words: words.slice(2) }
        : { words: words.slice(2, redirect), stdoutTo: words[redirect + 1]! },
    );
  }
  return commands;
}

describe(
  'coffer cards and coffer card-device against a node process',
  { timeout: suiteTimeoutMs },
  () => {
    /** Every run's output, checked at the end for the PIN and the PAN. */
    const runs: { args: string[]; result: CliRun }[] = [];
    const cli = new CliSession({
      name: 'cli-cards',
      passphrase,
      runTimeoutMs: 30_000,
      onRun: (args, result) => runs.push({ args, result }),
    });
    const { ok, okJson, fails } = cli;
    const addresses: Record<string, string> = {};
    let dir = '';
    /** The work dir's files by the names the README gives them. */
    const file = (name: string) => path.join(dir, name);
    let vaultToken = '';
    let device = '';
    let holdId = '';
    let answer: DeviceAnswer;
    /** The second sale: its request and the device's answer. */
    let spent: { terminal: TerminalRequest; answer: DeviceAnswer } | undefined;

    /** A device command on the README's element and PIN file, at the node `init` stored. */
    const onDevice = (args: string[]) =>
      ok(
        ['card-device', ...args, '--element', file('phone.element'), '--pin-file', file('pin.txt')],
        { noNode: true },
      );

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-cards-'));
      fs.writeFileSync(file('vault.json'), JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
      fs.writeFileSync(file('pan.txt'), `${pan}\n`, { mode: 0o600 });
      fs.writeFileSync(file('pin.txt'), `${pin}\n`, { mode: 0o600 });
      await cli.start({ blockIntervalMs: 20, env: { COFFER_VAULT_KEY_FILE: file('vault.json') } });
      const producer = JSON.parse(
        fs.readFileSync(path.join(cli.dataDir, 'producer-key.json'), 'utf8'),
      ) as { secretKey: string };
      // Independent commands run side by side: each CLI process costs about a second here.
      const names = ['issuer', 'req', 'acq', 'holder'];
      await Promise.all([
        ok(['keys', 'import', 'op'], { input: `${producer.secretKey}\n` }),
        cli.importDevKey('dev'),
        ...names.map(async (name) => {
          addresses[name] = (await okJson<{ address: string }>(['keys', 'new', name])).address;
        }),
      ]);

      const tx = (args: string[]) => okJson<TxJson>(args).then((outcome) => outcome.status);
      const register = (name: string, role: string, ...more: string[]) =>
        tx(['tokens', 'register', name, '--name', name, '--role', role, ...more, '--from', 'op']);
      const [configured, funded] = await Promise.all([
        tx(['tokens', 'configure', '990004', '--from', 'op']),
        // The dev account's genesis USD funds the cardholder.
        tx(['send', '500.00', 'USD', '--to', 'holder', '--from', 'dev']),
      ]);
      assert.deepEqual([configured, funded], ['ok', 'ok']);
      assert.equal(await register('issuer', 'issuer', '--bin', issuerBin), 'ok');
      assert.equal(await register('req', 'requestor'), 'ok');
      assert.equal(await register('acq', 'acquirer', '--merchant', 'm-1'), 'ok');
      const provisioned = await okJson<RelayResult>([
        'tokens',
        'provision',
        '--pan-file',
        file('pan.txt'),
        '--expiry',
        '2030-11',
        '--request-id',
        'card-r-1',
        '--channel',
        'contactless',
        '--from',
        'req',
      ]);
      vaultToken = provisioned.token!.token;
      assert.equal(provisioned.token!.status, 'active');
    });

    after(async () => {
      await cli.close();
      if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
    });

    /** An account's USD in minor units, spendable and held, from the SDK (no CLI process). */
    async function usd(name: string): Promise<{ balance: string; held: string }> {
      const account = await cli.client.getAccount(addresses[name]!);
      const { balance, held } = account.balances.find((b) => b.asset === 'USD') ?? {
        balance: '0',
        held: '0',
      };
      return { balance, held };
    }

    it("runs the README's walk-through as written: link, device, replenish, pay, authorise, capture", async () => {
      const block = /```sh\n([\s\S]*?)```/.exec(readmeSection('Payment cards on devices'))?.[1];
      assert.ok(block, 'the section has a shell block');
      const commands = shellCommands(block);
      assert.deepEqual(
        commands.map((c) => c.words.slice(0, 2).join(' ')),
        [
          'cards link',
          'cards accept',
          'card-device init',
          'card-device info',
          'cards add-device',
          'cards approve-device',
          'card-device add-card',
          'card-device replenish',
          'card-device select',
          'card-device pay',
          'cards authorise',
          'hold post',
        ],
      );
      const payCommand = commands.find((c) => c.words[1] === 'pay')!;
      const terminal = JSON.parse(
        payCommand.words[payCommand.words.indexOf('--request') + 1]!,
      ) as TerminalRequest;
      // The README authorises `@request.json`: the terminal's request the device answered.
      fs.writeFileSync(file('request.json'), JSON.stringify(terminal));

      /** The README's placeholders and names, as this run has them. */
      const placeholders = (word: string): string => {
        if (/^@?[\w-]+\.(element|txt|json)$/.test(word)) {
          return word.startsWith('@') ? `@${file(word.slice(1))}` : file(word);
        }
        return (
          { TOKEN: vaultToken, DEVICE: device, HOLD_ID: holdId, acquirer: 'acq' }[word] ?? word
        );
      };
      for (const command of commands) {
        const words = command.words.map(placeholders);
        // Device commands after init talk to the node init stored, or to none.
        const stdout = await ok(words, {
          noNode: words[0] === 'card-device' && words[1] !== 'init',
        });
        if (command.stdoutTo !== undefined) fs.writeFileSync(file(command.stdoutTo), stdout);
        const name = words.slice(0, 2).join(' ');
        if (name === 'card-device init') {
          assert.equal(fs.statSync(file('phone.element')).mode & 0o777, 0o600);
        } else if (name === 'card-device info') {
          device = (JSON.parse(stdout) as { device: string }).device;
          assert.match(device, /^cof1[0-9a-z]+$/, stdout);
        } else if (name === 'cards add-device') {
          assert.match(stdout, new RegExp(`card card-1 added to device ${device}`));
        } else if (name === 'cards approve-device') {
          assert.match(stdout, new RegExp(`device ${device} approved for card-1`));
        } else if (name === 'card-device replenish') {
          // No payments yet: the threshold's 3, within the issuer's 10.
          assert.match(stdout, /^card card-1: 3 tokens received, 3 held$/m);
        } else if (name === 'card-device select') {
          // The display: issuer name, product, the PAN's last four.
          assert.match(stdout, /^issuer\s+Bank$/m);
          assert.match(stdout, /^product\s+Debit$/m);
          assert.match(stdout, new RegExp(`^number\\s+•••• ${pan.slice(-4)}$`, 'm'));
        } else if (name === 'card-device pay') {
          answer = JSON.parse(stdout) as DeviceAnswer;
          assert.equal(answer.amount, terminal.amount);
          assert.equal(answer.merchantId, 'm-1');
        } else if (name === 'hold post') {
          assert.match(stdout, new RegExp(`^posted all of hold ${holdId}$`, 'm'));
        } else if (name === 'cards authorise') {
          const approved = /^approved: hold ([0-9a-f]{64})$/m.exec(stdout);
          assert.ok(approved, stdout);
          holdId = approved[1]!;
          assert.deepEqual(await usd('holder'), { balance: '48750', held: '1250' });
        }
      }
      // Captured: as `coffer balance` shows it, and the acquirer's side from the SDK.
      const holder = await ok(['balance', 'holder']);
      assert.match(holder, /^USD\s+487\.50\s+0\.00\s*$/m);
      assert.deepEqual(await usd('acq'), { balance: '1250', held: '0' });
    });

    it('cards show, device and token print what the ledger holds, and --json', async () => {
      const [shown, card, link, linkJson, token, tokenJson] = await Promise.all([
        ok(['cards', 'show', 'card-1']),
        okJson<CardRecord>(['cards', 'show', 'card-1']),
        ok(['cards', 'device', 'card-1', device]),
        okJson<CardDeviceRecord>(['cards', 'device', 'card-1', device]),
        ok(['cards', 'token', answer.token]),
        okJson<CardTokenRecord>(['cards', 'token', answer.token]),
      ]);
      assert.match(shown, /^status\s+active$/m);
      assert.match(
        shown,
        new RegExp(`^face\\s+Bank Debit •••• ${pan.slice(-4)}, expires 2030-11$`, 'm'),
      );
      assert.match(shown, new RegExp(`^account\\s+${addresses.holder} \\(USD\\)$`, 'm'));
      assert.match(shown, new RegExp(`^devices\\s+${device}$`, 'm'));
      assert.match(shown, /^token life\s+43200 min$/m);
      assert.deepEqual(
        [card.issuer, card.token, card.account, card.last4, card.tokensMax, card.tokenLifeMs],
        [addresses.issuer, vaultToken, addresses.holder, pan.slice(-4), 10, 30 * 86_400_000],
      );
      assert.deepEqual(card.devices, [device]);

      // One batch of three (request 1, by replenish); one token used by the payment.
      assert.match(link, /^status\s+active$/m);
      assert.match(link, /^next request\s+2$/m);
      assert.match(link, /^unused tokens\s+2$/m);
      assert.match(link, /^minted\s+3$/m);
      assert.match(link, /^used\s+1$/m);
      assert.deepEqual(
        [linkJson.status, linkJson.nextRequest, linkJson.outstanding.length, linkJson.consumed],
        ['active', 2, 2, 1],
      );

      assert.match(token, /^status\s+consumed$/m);
      assert.match(token, new RegExp(`^hold\\s+${holdId}$`, 'm'));
      assert.deepEqual(
        [tokenJson.card, tokenJson.device, tokenJson.consumed?.holdId, tokenJson.consumed?.amount],
        ['card-1', device, holdId, '1250'],
      );
      assert.equal('key' in tokenJson, false, "the token's key is nowhere on the ledger");
    });

    it('the issuer mints a batch to a file and the device imports it', async () => {
      const batch = file('batch.json');
      const minted = await ok([
        'cards',
        'mint',
        'card-1',
        device,
        '--count',
        '2',
        '--from',
        'issuer',
        '--out',
        batch,
      ]);
      assert.equal(minted, `2 card tokens minted (request 2), written to ${batch}\n`);
      assert.equal(fs.statSync(batch).mode & 0o777, 0o600);
      const imported = await onDevice(['import', '--card', 'card-1', '--batch', batch]);
      assert.match(imported, /^card card-1: 2 tokens imported, 0 skipped .*, 4 held$/m);
      const link = await cli.client.cards.device('card-1', device);
      assert.equal(link.outstanding.length, 4);
      assert.equal(link.nextRequest, 3);
    });

    it('refuses a link by another than the token issuer, an approval by the issuer, a bad --token-life', async () => {
      const link = [
        'cards',
        'link',
        'card-2',
        '--token',
        vaultToken,
        '--account',
        'holder',
        '--asset',
        'USD',
        '--issuer-name',
        'Bank',
        '--product',
        'Debit',
      ];
      const [, , lifeReason] = await Promise.all([
        fails([...link, '--from', 'req'], 'not_card_issuer'),
        fails(['cards', 'approve-device', 'card-1', device, '--from', 'issuer'], 'not_cardholder'),
        fails([...link, '--token-life', '30s', '--from', 'issuer'], 'usage', { exitCode: 2 }),
        fails([...link, '--token-life', '91d', '--from', 'issuer'], 'usage', { exitCode: 2 }),
      ]);
      assert.match(lifeReason, /--token-life/);
    });

    it('refuses an altered answer, answers a retried authorisation again, refuses a spent token', async () => {
      const terminal: TerminalRequest = {
        amount: '2000',
        currency: 'USD',
        merchantId: 'm-1',
        unpredictableNumber: '1b2c3d4e',
      };
      const paid = JSON.parse(
        await onDevice(['pay', '--request', JSON.stringify(terminal)]),
      ) as DeviceAnswer;
      const authorise = (request: TerminalRequest, given: DeviceAnswer, name: string) => {
        fs.writeFileSync(file(`${name}-request.json`), JSON.stringify(request));
        fs.writeFileSync(file(`${name}-answer.json`), JSON.stringify(given));
        return [
          'cards',
          'authorise',
          '--terminal',
          `@${file(`${name}-request.json`)}`,
          '--answer',
          `@${file(`${name}-answer.json`)}`,
          '--from',
          'acq',
        ];
      };

      // Ten times the amount, in the answer and the request alike: only the cryptogram tells.
      const altered = authorise(
        { ...terminal, amount: '20000' },
        { ...paid, amount: '20000' },
        'altered',
      );
      await fails(altered, 'cryptogram_invalid');
      const untouched = await cli.client.cards.token(paid.token);
      assert.equal(untouched.status, 'unused', 'refused at the route: the token is not used');
      assert.deepEqual(await usd('holder'), { balance: '48750', held: '0' });

      const sale = authorise(terminal, paid, 'sale');
      const approved = await okJson<Authorisation>(sale);
      assert.deepEqual(
        [approved.approved, approved.amount, approved.merchantId, approved.token],
        [true, '2000', 'm-1', paid.token],
      );
      // The acquirer's call timed out, say: the same request again answers the same hold.
      const retried = await okJson<Authorisation>(sale);
      assert.equal(retried.holdId, approved.holdId);
      assert.deepEqual(await usd('holder'), { balance: '46750', held: '2000' });

      // Another terminal request (another amount) with the spent token's answer.
      const again = authorise(
        { ...terminal, amount: '2500' },
        { ...paid, amount: '2500' },
        'again',
      );
      await fails(again, 'card_token_consumed');
      assert.deepEqual(await usd('holder'), { balance: '46750', held: '2000' });
      spent = { terminal, answer: paid };
    });

    it("refuses a spent token's answer to a new terminal request that differs only in its unpredictable number", async () => {
      assert.ok(spent, 'the previous test paid');
      const replayed = { ...spent.terminal, unpredictableNumber: '5e6f7a8b' };
      fs.writeFileSync(file('replay-request.json'), JSON.stringify(replayed));
      fs.writeFileSync(file('replay-answer.json'), JSON.stringify(spent.answer));
      const args = [
        'cards',
        'authorise',
        '--terminal',
        `@${file('replay-request.json')}`,
        '--answer',
        `@${file('replay-answer.json')}`,
        '--from',
        'acq',
      ];
      await fails(args, 'card_token_consumed');
    });

    it('prints neither the PIN nor the PAN, and takes neither on a command line', () => {
      assert.ok(runs.length > 30, `${runs.length} runs`);
      for (const { args, result } of runs) {
        for (const secret of [pin, pan]) {
          assert.equal(result.stdout.includes(secret), false, describeRun(args, result));
          assert.equal(result.stderr.includes(secret), false, describeRun(args, result));
          assert.equal(args.join(' ').includes(secret), false, args.join(' '));
        }
      }
      const element = fs.readFileSync(file('phone.element'), 'utf8');
      assert.equal(element.includes(pin) || element.includes(pan), false);
    });
  },
);
