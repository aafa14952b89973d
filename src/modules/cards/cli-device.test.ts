import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createCli } from '../../cli/app.js';
import { parseCommandLine } from '../../cli/command-line.js';
import { toCliError, type CommandContext } from '../../cli/context.js';
import type { CliIo } from '../../cli/terminal.js';
import type { CofferModule } from '../manifest.js';
import { CofferError, type CofferClient } from '../../sdk/index.js';
import { signMintRequest } from './client.js';
import { cardRequestSigned, cryptogramValid, deriveCardTokenKey } from './crypto.js';
import { createCardDeviceCommands } from './cli-device.js';
import { readElementContents } from './device.js';
import {
  cardRecord,
  chainId,
  dayMs,
  masterKey,
  mintBatch,
  pin,
  scryptLogN,
  startMs,
  temporaryDir,
  terminalRequest,
} from './device-fixture.js';
import {
  boxKeySignedFields,
  deviceAnswerSchema,
  mintSignedFields,
  type CardDeviceRecord,
  type CardRecord,
  type CardTokenRecord,
  type DeviceAnswer,
  type MintBody,
  type MintResult,
} from './schema.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A test double of the node's card routes (GET card, GET card on device, GET card token, POST a
 * batch) with the checks the issue gives them: the device's signature over the batch request, the
 * request number, the issuer's limit, a retried request answered with its own batch. Keys are
 * derived from the master key and sealed as crypto.ts specifies.
 */
class FakeNode {
  readonly cards = new Map<string, CardRecord>();
  readonly onDevice = new Map<string, CardDeviceRecord>();
  readonly tokens = new Map<string, CardTokenRecord>();
  readonly batches = new Map<string, MintResult>();
  readonly mintCalls: MintBody[] = [];
  loseNextAnswer = false;
  now = startMs;

  provision(card: string, device: string, boxKey: string, signature: string, tokensMax = 10) {
    const fields = boxKeySignedFields({ device, boxKey });
    assert.ok(cardRequestSigned('deviceBoxKey', chainId, fields, device, signature));
    this.cards.set(card, cardRecord(card, device, { tokensMax }));
    this.onDevice.set(`${card}/${device}`, {
      card,
      device,
      boxKey,
      status: 'active',
      epoch: 1,
      nextRequest: 1,
      outstanding: [],
      minted: 0,
      consumed: 0,
      addedAtHeight: 7,
    });
  }

  /** An authorisation consumed `token` on the ledger. */
  consume(token: string): void {
    const record = this.tokens.get(token)!;
    record.status = 'consumed';
    const entry = this.onDevice.get(`${record.card}/${record.device}`)!;
    entry.outstanding = entry.outstanding.filter((t) => t.token !== token);
    entry.consumed += 1;
  }

  private found<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new CofferError('not_found', `${what} not found`, 404);
    return value;
  }

  mint(card: string, device: string, body: MintBody): MintResult {
    const entry = this.found(this.onDevice.get(`${card}/${device}`), 'card on device');
    const record = this.cards.get(card)!;
    const fields = mintSignedFields({ card, device, n: body.n, count: body.count, by: body.by });
    if (
      body.by !== 'device' ||
      !cardRequestSigned('mint', chainId, fields, device, body.signature)
    ) {
      throw new CofferError('invalid_signature', 'bad signature', 400);
    }
    this.mintCalls.push(body);
    const again = this.batches.get(`${card}/${device}/${body.n}`);
    if (again && body.count === again.tokens.length) return again;
    if (body.n !== entry.nextRequest) {
      throw new CofferError('request_out_of_order', 'not the next request', 409);
    }
    const live = entry.outstanding.filter((t) => t.expiresAt > this.now).length;
    if (body.count > record.tokensMax - live) {
      throw new CofferError('token_limit', 'over the limit', 409);
    }
    const batch = mintBatch({
      card,
      device,
      boxKey: entry.boxKey,
      n: body.n,
      expiresAt: this.now + record.tokenLifeMs,
      count: body.count,
    });
    for (const t of batch.result.tokens) {
      this.tokens.set(t.token, {
        token: t.token,
        card,
        device,
        keyHash: batch.keyHashes[t.token]!,
        expiresAt: t.expiresAt,
        epoch: 1,
        mintedAtHeight: 9,
        status: 'unused',
      });
      entry.outstanding.push({ token: t.token, expiresAt: t.expiresAt });
    }
    entry.nextRequest += 1;
    entry.minted += body.count;
    entry.lastBatch = { n: body.n, tokens: batch.result.tokens.map((t) => t.token) };
    this.batches.set(`${card}/${device}/${body.n}`, batch.result);
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw new CofferError('network_error', 'the connection was reset', 0);
    }
    return batch.result;
  }

  client(): CofferClient {
    const cards = {
      get: (card: string) =>
        Promise.resolve(structuredClone(this.found(this.cards.get(card), 'card'))),
      device: (card: string, device: string) =>
        Promise.resolve(
          structuredClone(this.found(this.onDevice.get(`${card}/${device}`), 'card on device')),
        ),
      token: (token: string) =>
        Promise.resolve(structuredClone(this.found(this.tokens.get(token), 'token'))),
      mint: (card: string, device: string, body: MintBody) =>
        Promise.resolve().then(() => structuredClone(this.mint(card, device, body))),
    };
    return { health: () => Promise.resolve({ chainId }), cards } as unknown as CofferClient;
  }
}

interface Outcome {
  code?: string;
  message?: string;
  out: string;
  err: string;
}

/** Runs `card-device ARGV...` as app.ts does (the same parser), with the fake node as the client. */
class Harness {
  readonly dir = temporaryDir('coffer-card-cli-');
  readonly file = path.join(this.dir, 'element.json');
  readonly pinFile = path.join(this.dir, 'pin');
  readonly node = new FakeNode();
  readonly storedClients: string[] = [];
  /** Everything printed, to check no secret ever is. */
  printed = '';
  pinEnv: string | undefined;
  readonly commands = createCardDeviceCommands({
    now: () => this.node.now,
    pinFromEnv: () => this.pinEnv,
    clientFor: (url) => {
      this.storedClients.push(url);
      return this.node.client();
    },
    scryptLogN,
  });

  constructor() {
    dirs.push(this.dir);
    fs.writeFileSync(this.pinFile, `${pin}\n`, { mode: 0o600 });
  }

  async run(action: string, args: string[] = [], withElement = true): Promise<Outcome> {
    const command = this.commands.find((c) => c.name === `card-device ${action}`);
    assert.ok(command, action);
    const argv = withElement ? [...args, '--element', this.file, '--pin-file', this.pinFile] : args;
    const outcome: Outcome = { out: '', err: '' };
    const ctx = {
      nodeUrl: 'http://127.0.0.1:7420',
      json: argv.includes('--json'),
      client: this.node.client(),
      print: (text: string) => (outcome.out += text),
      warn: (text: string) => (outcome.err += text + '\n'),
    } as unknown as CommandContext;
    try {
      const parsed = parseCommandLine(argv, {
        command: `coffer ${command.name}`,
        synopsis: command.synopsis,
        options: { node: { type: 'string' }, json: { type: 'boolean' }, ...command.options },
        positionals: command.positionals,
      });
      assert.ok(!parsed.help);
      // As createContext does: the client and URL of --node when given.
      if (typeof parsed.values.node === 'string') ctx.nodeUrl = parsed.values.node;
      await command.run(ctx, parsed.positionals, parsed.values);
    } catch (error) {
      const cli = toCliError(error);
      if (!cli) throw error;
      outcome.code = cli.code;
      outcome.message = cli.message;
    }
    this.printed += outcome.out + outcome.err + (outcome.message ?? '');
    return outcome;
  }

  async ok(action: string, args: string[] = []): Promise<string> {
    const outcome = await this.run(action, args);
    assert.equal(outcome.code, undefined, `${action}: ${outcome.code}: ${outcome.message}`);
    return outcome.out;
  }

  /** init, info, the issuer provisions card-1, add-card. Answers the device id. */
  async ready(tokensMax = 10): Promise<string> {
    await this.ok('init', ['--chain-id', chainId]);
    const info = JSON.parse(await this.ok('info')) as Record<string, string>;
    this.node.provision('card-1', info.device!, info.boxKey!, info.boxKeySignature!, tokensMax);
    await this.ok('add-card', ['card-1']);
    return info.device!;
  }

  /** The secrets that must never be printed: the PIN, the element's keys, every token key. */
  assertNoSecretPrinted(): void {
    const contents = readElementContents(this.file, pin);
    const secrets = [pin, contents.deviceSecretKey, contents.boxSecretKey];
    for (const token of this.node.tokens.keys()) {
      secrets.push(Buffer.from(deriveCardTokenKey(masterKey, chainId, token)).toString('hex'));
    }
    for (const secret of secrets) assert.ok(!this.printed.includes(secret), 'a secret was printed');
  }
}

function checkAnswer(text: string): DeviceAnswer {
  const answer = deviceAnswerSchema.parse(JSON.parse(text));
  const { cryptogram, ...payment } = answer;
  const key = deriveCardTokenKey(masterKey, chainId, answer.token);
  assert.ok(cryptogramValid(key, chainId, payment, cryptogram), 'the cryptogram verifies');
  return answer;
}

describe('coffer card-device', () => {
  it('init, info, add-card, replenish, select, activate, pay, status: a payment the node would accept', async () => {
    const h = new Harness();
    await h.ready();
    assert.equal(fs.statSync(h.file).mode & 0o777, 0o600);
    // No history, no tokens: replenish tops up to the threshold (3).
    assert.match(await h.ok('replenish', ['--card', 'card-1']), /3 tokens received, 3 held/);
    assert.equal(h.node.mintCalls.length, 1);
    assert.match(await h.ok('cards'), /card-1.*•••• 7899.*USD\s+3/);
    const display = await h.ok('select', ['card-1']);
    assert.match(display, /issuer\s+First Bank/);
    assert.match(display, /number\s+•••• 7899/);
    assert.match(display, /tokens\s+3/);
    assert.match(await h.ok('activate'), /ready for the next payment/);
    const answer = checkAnswer(await h.ok('pay', ['--request', JSON.stringify(terminalRequest())]));
    assert.equal(answer.counter, 1);
    assert.equal(h.node.mintCalls[0]!.by, 'device');
    const status = await h.ok('status');
    assert.match(status, /counter\s+1/);
    assert.match(
      status,
      new RegExp(`last payment\\s+1250 USD at cafe-42, card card-1, token ${answer.token}`),
    );
    h.assertNoSecretPrinted();
  });

  it('pays with a request from a file, and refuses one that is not JSON or not valid', async () => {
    const h = new Harness();
    await h.ready();
    await h.ok('replenish', ['--card', 'card-1']);
    await h.ok('select', ['card-1']);
    const requestFile = path.join(h.dir, 'request.json');
    fs.writeFileSync(requestFile, JSON.stringify(terminalRequest({ amount: '7' })));
    assert.equal(checkAnswer(await h.ok('pay', ['--request', `@${requestFile}`])).amount, '7');
    assert.equal((await h.run('pay', ['--request', '{nope'])).code, 'usage');
    const euro = await h.run('pay', [
      '--request',
      JSON.stringify(terminalRequest({ currency: 'EUR' })),
    ]);
    assert.equal(euro.code, 'currency_mismatch');
    const bad = await h.run('pay', ['--request', JSON.stringify({ amount: '1' })]);
    assert.equal(bad.code, 'invalid_terminal_request');
  });

  it('takes the PIN from --pin-file or COFFER_CARD_PIN only, and never prints it', async () => {
    const h = new Harness();
    await h.ready();
    fs.writeFileSync(h.pinFile, `${pin}\nsecond line ignored\n`);
    await h.ok('cards');
    const noPin = await h.run('cards', ['--element', h.file], false);
    assert.equal(noPin.code, 'pin_required');
    h.pinEnv = pin;
    await h.run('cards', ['--element', h.file], false).then((o) => assert.equal(o.code, undefined));
    fs.writeFileSync(h.pinFile, '000000\n');
    const wrong = await h.run('cards');
    assert.equal(wrong.code, 'wrong_pin');
    assert.match(wrong.message!, /9 tries left/);
    fs.chmodSync(h.pinFile, 0o640);
    const readable = await h.run('cards');
    assert.equal(readable.code, 'invalid_file');
    assert.match(readable.message!, /chmod 600/);
    fs.chmodSync(h.pinFile, 0o600);
    fs.writeFileSync(h.pinFile, 'abcd\n');
    assert.equal((await h.run('cards')).code, 'invalid_pin');
    fs.writeFileSync(h.pinFile, `${pin}\n`);
    await h.ok('cards');
    h.assertNoSecretPrinted();
  });

  it('adds only a card provisioned on this device', async () => {
    const h = new Harness();
    await h.ok('init', ['--chain-id', chainId]);
    h.node.cards.set('card-2', cardRecord('card-2', 'cof1someoneelse'));
    const refused = await h.run('add-card', ['card-2']);
    assert.equal(refused.code, 'device_not_on_card');
    assert.match(refused.message!, /coffer cards add-device/);
    assert.equal((await h.run('add-card', ['card-9'])).code, 'not_found');
  });

  it("add-card refuses the node's record of another card, or one the payload rules refuse", async () => {
    const h = new Harness();
    await h.ok('init', ['--chain-id', chainId]);
    const info = JSON.parse(await h.ok('info')) as Record<string, string>;
    h.node.provision('card-1', info.device!, info.boxKey!, info.boxKeySignature!);
    // The node answers card-1's record when asked for card-3.
    h.node.cards.set('card-3', h.node.cards.get('card-1')!);
    assert.equal((await h.run('add-card', ['card-3'])).code, 'card_mismatch');
    h.node.cards.get('card-1')!.face.product = 'Debit\u001b]0;pwned\u0007';
    assert.equal((await h.run('add-card', ['card-1'])).code, 'invalid_card');
    assert.equal(readElementContents(h.file, pin).cards['card-1'], undefined);
  });

  it('replenish asks for what the payment forecast needs, within the issuer limit', async () => {
    const h = new Harness();
    await h.ready(10);
    await h.ok('replenish', ['--card', 'card-1']);
    await h.ok('select', ['card-1']);
    // Held 3 >= threshold 3 and no history: nothing to ask for, and nothing is asked.
    assert.match(await h.ok('replenish'), /no tokens needed \(3 held, 7 more allowed\)/);
    assert.equal(h.node.mintCalls.length, 1);
    // Three payments in two hours: the forecast over two days exceeds what is held.
    for (let i = 0; i < 3; i += 1) {
      h.node.now += 40 * 60_000;
      const answer = checkAnswer(
        await h.ok('pay', ['--request', JSON.stringify(terminalRequest())]),
      );
      h.node.consume(answer.token);
    }
    const result = JSON.parse(await h.ok('replenish', ['--json'])) as Record<string, number>;
    // rate ≈ 3 × ln 2 / 7 days, need = ceil(rate × 2 days) = 1, but 0 held < threshold 3:
    // target max(3, 2) = 3.
    assert.deepEqual([result.requested, result.tokens], [3, 3]);
    assert.equal((await h.run('replenish', ['--count', '8'])).code, 'token_limit_reached');
    assert.match(await h.ok('replenish', ['--force']), /7 tokens received, 10 held/);
    assert.equal((await h.run('replenish', ['--force'])).code, 'token_limit_reached');
    assert.equal((await h.run('replenish', ['--force', '--count', '1'])).code, 'usage');
    assert.equal((await h.run('replenish', ['--lead-time', '2w'])).code, 'usage');
    h.assertNoSecretPrinted();
  });

  it('a batch whose answer was lost is fetched again with its own request number', async () => {
    const h = new Harness();
    await h.ready();
    h.node.loseNextAnswer = true;
    assert.equal((await h.run('replenish', ['--card', 'card-1'])).code, 'network_error');
    assert.equal(readElementContents(h.file, pin).cards['card-1']!.tokens.length, 0);
    const again = await h.run('replenish', ['--card', 'card-1']);
    assert.equal(again.code, undefined, again.message);
    assert.match(again.err, /batch 1 had not reached the element: 3 tokens now/);
    assert.match(again.out, /no tokens needed \(3 held, 7 more allowed\)/);
    assert.deepEqual(
      h.node.mintCalls.map((b) => b.n),
      [1, 1],
    );
  });

  it('import takes a batch the issuer fetched, checking every key against the ledger', async () => {
    const h = new Harness();
    const device = await h.ready();
    const info = JSON.parse(await h.ok('info')) as Record<string, string>;
    // The batch as the issuer's `coffer cards mint` would fetch it (signed here by the device).
    const body = signMintRequest(deviceSecretKey(h.file), chainId, {
      card: 'card-1',
      device,
      n: 1,
      count: 2,
      by: 'device',
    });
    const batch = h.node.mint('card-1', device, body);
    assert.equal(info.device, device);
    const batchFile = path.join(h.dir, 'batch.json');
    fs.writeFileSync(batchFile, JSON.stringify(batch));
    const wrongCard = await h.run('import', ['--card', 'card-2', '--batch', batchFile]);
    assert.equal(wrongCard.code, 'batch_mismatch');
    // A node that hands a key the ledger did not record is refused, and nothing is imported.
    const first = h.node.tokens.get(batch.tokens[0]!.token)!;
    const recorded = first.keyHash;
    first.keyHash = '00'.repeat(32);
    assert.equal(
      (await h.run('import', ['--card', 'card-1', '--batch', batchFile])).code,
      'key_hash_mismatch',
    );
    assert.equal(readElementContents(h.file, pin).cards['card-1']!.tokens.length, 0);
    first.keyHash = recorded;
    // So is a token the ledger records for another expiry (or card, or device).
    first.expiresAt += 1;
    const otherExpiry = await h.run('import', ['--card', 'card-1', '--batch', batchFile]);
    assert.equal(otherExpiry.code, 'batch_mismatch');
    first.expiresAt -= 1;
    first.card = 'card-2';
    assert.equal(
      (await h.run('import', ['--card', 'card-1', '--batch', batchFile])).code,
      'batch_mismatch',
    );
    first.card = 'card-1';
    first.device = 'cof1someoneelse';
    assert.equal(
      (await h.run('import', ['--card', 'card-1', '--batch', batchFile])).code,
      'batch_mismatch',
    );
    first.device = device;
    assert.equal(readElementContents(h.file, pin).cards['card-1']!.tokens.length, 0);
    assert.match(
      await h.ok('import', ['--card', 'card-1', '--batch', batchFile]),
      /2 tokens imported, 0 skipped/,
    );
    assert.match(
      await h.ok('import', ['--card', 'card-1', '--batch', batchFile]),
      /0 tokens imported, 2 skipped/,
    );
    fs.writeFileSync(batchFile, '{"card": 1}');
    assert.equal(
      (await h.run('import', ['--card', 'card-1', '--batch', batchFile])).code,
      'invalid_file',
    );
    // An expired batch imports nothing.
    h.node.now += 31 * dayMs;
    fs.writeFileSync(batchFile, JSON.stringify(batch));
    assert.match(
      await h.ok('import', ['--card', 'card-1', '--batch', batchFile]),
      /0 tokens imported/,
    );
    h.assertNoSecretPrinted();
  });

  it('import refuses a token the ledger records as consumed, however long ago', async () => {
    const h = new Harness();
    const device = await h.ready();
    const body = signMintRequest(deviceSecretKey(h.file), chainId, {
      card: 'card-1',
      device,
      n: 1,
      count: 2,
      by: 'device',
    });
    const batch = h.node.mint('card-1', device, body);
    const batchFile = path.join(h.dir, 'batch.json');
    fs.writeFileSync(batchFile, JSON.stringify(batch));
    // Consumed on the ledger (say, more payments ago than the element remembers consumed ids).
    h.node.consume(batch.tokens[1]!.token);
    const refused = await h.run('import', ['--card', 'card-1', '--batch', batchFile]);
    assert.equal(refused.code, 'card_token_consumed');
    assert.match(refused.message!, new RegExp(batch.tokens[1]!.token));
    assert.equal(readElementContents(h.file, pin).cards['card-1']!.tokens.length, 0);
  });

  it('init reads the chain id from the node, and keeps --node for the commands after it', async () => {
    const h = new Harness();
    await h.ok('init', ['--node', 'http://10.0.0.9:7420']);
    assert.equal(readElementContents(h.file, pin).chainId, chainId);
    assert.match(await h.ok('status'), /node\s+http:\/\/10\.0\.0\.9:7420/);
    const info = JSON.parse(await h.ok('info')) as Record<string, string>;
    h.node.provision('card-1', info.device!, info.boxKey!, info.boxKeySignature!);
    await h.ok('add-card', ['card-1']);
    // No --node after init: add-card used the stored URL's client.
    assert.deepEqual(h.storedClients, ['http://10.0.0.9:7420']);
    assert.equal((await h.run('init')).code, 'element_exists');
  });
});

/** The device's secret key, for a test that signs a request as the issuer's tool would relay it. */
function deviceSecretKey(file: string): Uint8Array {
  return Buffer.from(readElementContents(file, pin).deviceSecretKey, 'hex');
}

describe('coffer card-device through createCli', () => {
  function io() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const streams = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
    return { streams, out: () => out, err: () => err };
  }

  it('parses, runs and reports as coffer does: a wrong PIN is one line on stderr, exit 1, no PIN', async () => {
    const h = new Harness();
    await h.ok('init', ['--chain-id', chainId]);
    const module = { commands: h.commands } as unknown as CofferModule;
    const cli = createCli([module]);
    const good = io();
    const args = ['card-device', 'info', '--element', h.file, '--pin-file', h.pinFile];
    assert.equal(await cli.run(args, good.streams), 0);
    const info = JSON.parse(good.out()) as Record<string, string>;
    assert.ok(info.device!.startsWith('cof1'));
    fs.writeFileSync(h.pinFile, '0000\n');
    const bad = io();
    assert.equal(await cli.run(args, bad.streams), 1);
    assert.match(
      bad.err(),
      /^coffer: wrong_pin: the PIN is wrong: 9 tries left before the element is wiped\n$/,
    );
    const usage = io();
    assert.equal(
      await cli.run(['card-device', 'pay', '--element', h.file, '--pin', '1234'], usage.streams),
      2,
    );
    assert.ok(!usage.err().includes('1234'));
    assert.ok(cli.usage.includes('card-device replenish'));
  });
});
