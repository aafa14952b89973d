import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { addressFromPublicKey, fromHex, keyPairFromSecret } from '../../crypto/index.js';
import { cardRequestSigned, cryptogramValid, newBoxKeyPair } from './crypto.js';
import {
  activate,
  addCard,
  CardDeviceError,
  deviceInfo,
  elementStatus,
  importBatch,
  initElement,
  listCards,
  pay,
  pinTriesMax,
  readElementContents,
  selectCard,
  type DeviceErrorCode,
  type DeviceInfo,
  type ElementLockHooks,
  type ElementWriteHooks,
} from './device.js';
import {
  cardRecord,
  chainId,
  dayMs,
  mintBatch,
  pin,
  scryptLogN,
  startMs,
  temporaryDir,
  terminalRequest,
  type TestBatch,
} from './device-fixture.js';
import { boxKeySignedFields, deviceAnswerSchema, type DeviceAnswer } from './schema.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newElement(): { file: string; info: DeviceInfo } {
  const dir = temporaryDir('coffer-element-');
  dirs.push(dir);
  const file = path.join(dir, 'element.json');
  return { file, info: initElement(file, pin, chainId, { scryptLogN }) };
}

function refuses(action: () => unknown, code: DeviceErrorCode): CardDeviceError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof CardDeviceError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

function header(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** An element with card C1 added and selected, and a batch of `count` tokens imported. */
function elementWithTokens(count = 3, expiresAt: number | number[] = startMs + 30 * dayMs) {
  const { file, info } = newElement();
  addCard(file, pin, 'card-1', cardRecord('card-1', info.device), startMs);
  const batch = mintBatch({
    card: 'card-1',
    device: info.device,
    boxKey: info.boxKey,
    n: 1,
    expiresAt,
    count,
  });
  importBatch(file, pin, batch.result, startMs, { keyHashes: batch.keyHashes });
  selectCard(file, pin, 'card-1', startMs);
  return { file, info, batch };
}

function checkAnswer(answer: DeviceAnswer, batch: TestBatch, counter: number): void {
  deviceAnswerSchema.parse(answer);
  assert.equal(answer.counter, counter);
  const key = batch.keys.get(answer.token);
  assert.ok(key, 'the token is one of the batch');
  const { cryptogram, ...payment } = answer;
  assert.ok(cryptogramValid(key, chainId, payment, cryptogram));
}

describe('a new element', () => {
  it('is one file of mode 0600 and answers the device id and a valid box-key signature', () => {
    const { file, info } = newElement();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['element.json']);
    const h = header(file);
    assert.equal(h.format, 'coffer-card-element/v1');
    assert.deepEqual([h.N, h.r, h.p, h.failedPins, h.wiped], [1024, 8, 1, 0, false]);
    const contents = readElementContents(file, pin);
    const publicKey = keyPairFromSecret(fromHex(contents.deviceSecretKey)).publicKey;
    assert.equal(info.device, addressFromPublicKey(publicKey));
    assert.deepEqual(deviceInfo(file, pin), info);
    const fields = boxKeySignedFields({ device: info.device, boxKey: info.boxKey });
    assert.ok(
      cardRequestSigned('deviceBoxKey', chainId, fields, info.device, info.boxKeySignature),
    );
    assert.equal(contents.counter, 0);
  });

  it('uses scrypt at 2^15 unless told otherwise, and opens under it', () => {
    const dir = temporaryDir('coffer-element-');
    dirs.push(dir);
    const file = path.join(dir, 'element.json');
    const info = initElement(file, pin, chainId);
    assert.equal(header(file).N, 2 ** 15);
    assert.deepEqual(deviceInfo(file, pin), info);
    assert.throws(() => initElement(`${file}.2`, pin, chainId, { scryptLogN: 9 }), RangeError);
  });

  it('is never written over an existing file', () => {
    const { file } = newElement();
    const before = fs.readFileSync(file);
    refuses(() => initElement(file, pin, chainId, { scryptLogN }), 'element_exists');
    assert.deepEqual(fs.readFileSync(file), before);
  });

  it('takes a PIN of 4 to 12 digits only', () => {
    const { file } = newElement();
    for (const bad of ['123', '1234567890123', '12a4', ' 1234', '']) {
      refuses(() => deviceInfo(file, bad), 'invalid_pin');
    }
    // A malformed PIN is not a try: nothing was counted.
    assert.equal(header(file).failedPins, 0);
  });

  it('holds no key and no PIN in clear', () => {
    const { file, info, batch } = elementWithTokens(3);
    pay(file, pin, terminalRequest(), startMs);
    const contents = readElementContents(file, pin);
    const bytes = fs.readFileSync(file);
    const secrets = [
      fromHex(contents.deviceSecretKey),
      fromHex(contents.boxSecretKey),
      ...batch.keys.values(),
    ];
    for (const secret of secrets) {
      assert.equal(bytes.indexOf(Buffer.from(secret)), -1, 'raw key bytes');
      assert.equal(bytes.indexOf(Buffer.from(Buffer.from(secret).toString('hex'))), -1, 'hex');
      assert.equal(bytes.indexOf(Buffer.from(Buffer.from(secret).toString('base64'))), -1);
    }
    // The PIN's digits may occur inside hex by chance; outside the hex fields they never do.
    const { iv: _iv, ciphertext: _c, salt: _s, ...rest } = header(file);
    assert.ok(!JSON.stringify(rest).includes(pin));
    assert.ok(!bytes.toString('utf8').includes(`"${pin}"`));
    // Neither do the card, its tokens or the device id: all of it is under the PIN.
    for (const clear of ['card-1', info.device, ...batch.keys.keys()]) {
      assert.ok(!bytes.toString('utf8').includes(clear), clear);
    }
  });
});

describe('the PIN retry counter', () => {
  it('counts each wrong PIN durably before answering, and a right PIN resets it', () => {
    const { file, info } = newElement();
    for (let i = 1; i <= 3; i += 1) {
      const error = refuses(() => deviceInfo(file, '0000'), 'wrong_pin');
      assert.equal(error.triesLeft, pinTriesMax - i);
      assert.equal(header(file).failedPins, i);
    }
    assert.deepEqual(deviceInfo(file, pin), info);
    assert.equal(header(file).failedPins, 0);
  });

  it(`takes the right PIN after ${pinTriesMax - 1} wrong ones, and starts counting again`, () => {
    const { file, info } = newElement();
    for (let i = 1; i < pinTriesMax; i += 1) refuses(() => deviceInfo(file, '0000'), 'wrong_pin');
    assert.deepEqual(deviceInfo(file, pin), info);
    assert.equal(header(file).failedPins, 0);
    assert.equal(refuses(() => deviceInfo(file, '0000'), 'wrong_pin').triesLeft, pinTriesMax - 1);
  });

  it('resets even when the right PIN is followed by a refused operation', () => {
    const { file } = newElement();
    refuses(() => deviceInfo(file, '0000'), 'wrong_pin');
    refuses(() => selectCard(file, pin, 'nope', startMs), 'unknown_card');
    assert.equal(header(file).failedPins, 0);
  });

  it('does not try a PIN whose count was not written (a crash before the count)', () => {
    const { file } = newElement();
    const crash = new Error('crash');
    const countHooks: ElementWriteHooks = {
      beforeRename() {
        throw crash;
      },
    };
    assert.throws(
      () => deviceInfo(file, '0000', { countHooks }),
      (error) => error === crash,
    );
    assert.equal(header(file).failedPins, 0);
  });

  for (const at of ['beforeRename', 'afterWrite'] as const) {
    it(`counts wrong PINs cut off at the ${at} of the write after the try, and wipes at the ${pinTriesMax}th`, () => {
      const { file } = elementWithTokens(1);
      const crash = new Error('crash');
      const hooks: ElementWriteHooks = {
        [at]: () => {
          throw crash;
        },
      };
      for (let i = 1; i <= pinTriesMax; i += 1) {
        try {
          deviceInfo(file, '0000', { hooks });
        } catch (error) {
          assert.ok(
            error === crash || (error instanceof CardDeviceError && error.code === 'wrong_pin'),
            String(error),
          );
        }
        assert.ok(
          (header(file).failedPins as number) >= i || header(file).wiped === true,
          `try ${i} counted`,
        );
      }
      // A process killed before its wipe left the count at the limit: the next open wipes.
      refuses(() => deviceInfo(file, pin), 'element_wiped');
      assert.equal(header(file).wiped, true);
      assert.equal(header(file).ciphertext, undefined);
    });
  }

  it('a right PIN cut off after the count but before the reset leaves the try counted, and opens', () => {
    const { file, info } = newElement();
    const crash = new Error('crash');
    assert.throws(
      () =>
        deviceInfo(file, pin, {
          hooks: {
            beforeRename() {
              throw crash;
            },
          },
        }),
      (error) => error === crash,
    );
    assert.equal(header(file).failedPins, 1);
    assert.deepEqual(deviceInfo(file, pin), info);
    assert.equal(header(file).failedPins, 0);
  });

  it(`wipes the element at the ${pinTriesMax}th wrong PIN, for good`, () => {
    const { file } = elementWithTokens(2);
    for (let i = 1; i < pinTriesMax; i += 1) refuses(() => deviceInfo(file, '0000'), 'wrong_pin');
    refuses(() => deviceInfo(file, '0000'), 'element_wiped');
    const wiped = header(file);
    assert.equal(wiped.wiped, true);
    assert.equal(wiped.ciphertext, undefined);
    assert.equal(wiped.iv, undefined);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    refuses(() => deviceInfo(file, pin), 'element_wiped');
    refuses(() => pay(file, pin, terminalRequest(), startMs), 'element_wiped');
    // Resetting the counter by hand brings nothing back: the contents are gone.
    fs.writeFileSync(file, JSON.stringify({ ...wiped, failedPins: 0 }));
    refuses(() => deviceInfo(file, pin), 'element_wiped');
  });

  it('refuses an element path that is a symbolic link: ten wrong PINs through it try nothing', () => {
    const { file, info } = elementWithTokens(1);
    const link = path.join(path.dirname(file), 'link.json');
    fs.symlinkSync(file, link);
    const before = fs.readFileSync(file);
    for (let i = 0; i < pinTriesMax; i += 1) {
      refuses(() => deviceInfo(link, '0000'), 'element_not_regular');
    }
    refuses(() => deviceInfo(link, pin), 'element_not_regular');
    refuses(() => pay(link, pin, terminalRequest(), startMs), 'element_not_regular');
    assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link was not replaced');
    assert.deepEqual(fs.readFileSync(file), before, 'the real file was not touched');
    assert.deepEqual(deviceInfo(file, pin), info);
  });

  it('refuses an element with a second hard link, by either name', () => {
    const { file } = newElement();
    const hard = path.join(path.dirname(file), 'hard.json');
    fs.linkSync(file, hard);
    const before = fs.readFileSync(file);
    refuses(() => deviceInfo(file, '0000'), 'element_not_regular');
    refuses(() => deviceInfo(hard, '0000'), 'element_not_regular');
    assert.deepEqual(fs.readFileSync(file), before);
    assert.equal(fs.statSync(file).nlink, 2);
  });

  it('never initialises an element through a symbolic link, even a dangling one', () => {
    const dir = temporaryDir('coffer-element-');
    dirs.push(dir);
    const target = path.join(dir, 'target.json');
    const link = path.join(dir, 'element.json');
    fs.symlinkSync(target, link);
    refuses(() => initElement(link, pin, chainId, { scryptLogN }), 'element_not_regular');
    assert.ok(!fs.existsSync(target));
    assert.ok(fs.lstatSync(link).isSymbolicLink());
  });

  it('refuses a file that is not an element', () => {
    const { file } = newElement();
    fs.writeFileSync(file, 'not json');
    refuses(() => deviceInfo(file, pin), 'element_damaged');
    fs.writeFileSync(file, JSON.stringify({ ...header(newElement().file), N: 2 ** 30 }));
    refuses(() => deviceInfo(file, pin), 'element_damaged');
    refuses(() => deviceInfo(file + '.none', pin), 'element_missing');
  });
});

describe('paying', () => {
  it('select shows the face and the usable tokens; each payment a new token and a valid cryptogram', () => {
    const { file, batch } = elementWithTokens(3);
    const display = selectCard(file, pin, 'card-1', startMs);
    assert.deepEqual(
      [display.issuerName, display.product, display.last4, display.expiry, display.asset],
      ['First Bank', 'Everyday Debit', '7899', '2030-12', 'USD'],
    );
    assert.equal(display.tokens, 3);
    const activated = activate(file, pin, startMs);
    const first = pay(file, pin, terminalRequest(), startMs);
    assert.equal(first.token, activated.token);
    checkAnswer(first, batch, 1);
    const second = pay(file, pin, terminalRequest({ amount: '99' }), startMs + 1);
    checkAnswer(second, batch, 2);
    assert.notEqual(second.token, first.token);
    const contents = readElementContents(file, pin);
    assert.deepEqual(contents.cards['card-1']!.consumed, [first.token, second.token]);
    assert.deepEqual(contents.cards['card-1']!.payments, [startMs, startMs + 1]);
    assert.equal(contents.pending?.token, second.token);
    assert.equal(selectCard(file, pin, 'card-1', startMs).tokens, 1);
    const third = pay(file, pin, terminalRequest(), startMs + 2);
    checkAnswer(third, batch, 3);
    refuses(() => pay(file, pin, terminalRequest(), startMs + 3), 'no_tokens');
    assert.equal(new Set([first.token, second.token, third.token]).size, 3);
  });

  it('refuses with no card selected, and a currency that is not the card asset', () => {
    const { file, info } = newElement();
    addCard(file, pin, 'card-1', cardRecord('card-1', info.device), startMs);
    refuses(() => pay(file, pin, terminalRequest(), startMs), 'no_card_selected');
    const { file: ready } = elementWithTokens(1);
    const before = readElementContents(ready, pin);
    const error = refuses(
      () => pay(ready, pin, terminalRequest({ currency: 'EUR' }), startMs),
      'currency_mismatch',
    );
    assert.match(error.message, /USD, not EUR/);
    assert.deepEqual(readElementContents(ready, pin), before);
    refuses(
      () => pay(ready, pin, terminalRequest({ amount: '0' }), startMs),
      'invalid_terminal_request',
    );
  });

  it('never activates an expired token, and drops expired ones at the next import', () => {
    const soon = startMs + dayMs;
    const { file, info, batch } = elementWithTokens(3, [soon, startMs + 2 * dayMs, soon + 1]);
    const later = soon + 1;
    assert.equal(selectCard(file, pin, 'card-1', later).tokens, 1);
    const answer = pay(file, pin, terminalRequest(), later);
    assert.equal(
      batch.result.tokens.find((t) => t.token === answer.token)?.expiresAt,
      startMs + 2 * dayMs,
    );
    refuses(() => activate(file, pin, later), 'no_tokens');
    // An activated token that expires is not paid with.
    const fresh = mintBatch({
      card: 'card-1',
      device: info.device,
      boxKey: info.boxKey,
      n: 2,
      expiresAt: later + 10,
    });
    importBatch(file, pin, fresh.result, later);
    assert.equal(
      readElementContents(file, pin).cards['card-1']!.tokens.length,
      1,
      'the expired ones dropped',
    );
    activate(file, pin, later);
    refuses(() => pay(file, pin, terminalRequest(), later + 10), 'no_tokens');
  });

  it('releases a token activated for a card when another card is selected', () => {
    const { file, info } = elementWithTokens(2);
    addCard(file, pin, 'card-2', cardRecord('card-2', info.device, { asset: 'EUR' }), startMs);
    const { token } = activate(file, pin, startMs);
    selectCard(file, pin, 'card-2', startMs);
    assert.equal(readElementContents(file, pin).activated, undefined);
    selectCard(file, pin, 'card-1', startMs);
    assert.equal(selectCard(file, pin, 'card-1', startMs).tokens, 2);
    assert.equal(pay(file, pin, terminalRequest(), startMs).token, token, 'earliest first again');
  });
});

describe('importing batches', () => {
  it('keeps no duplicate and never brings a consumed token back', () => {
    const { file, batch } = elementWithTokens(2);
    const paid = pay(file, pin, terminalRequest(), startMs);
    const again = importBatch(file, pin, batch.result, startMs);
    assert.deepEqual([again.imported, again.skipped, again.tokens], [0, 2, 1]);
    const contents = readElementContents(file, pin);
    assert.ok(!contents.cards['card-1']!.tokens.some((t) => t.token === paid.token));
  });

  it('refuses a key the ledger did not record, a batch for another device and one it cannot open', () => {
    const { file, info } = newElement();
    addCard(file, pin, 'card-1', cardRecord('card-1', info.device), startMs);
    const batch = mintBatch({
      card: 'card-1',
      device: info.device,
      boxKey: info.boxKey,
      n: 1,
      expiresAt: startMs + dayMs,
      count: 2,
    });
    const wrong = { ...batch.keyHashes, [batch.result.tokens[1]!.token]: '00'.repeat(32) };
    refuses(
      () => importBatch(file, pin, batch.result, startMs, { keyHashes: wrong }),
      'key_hash_mismatch',
    );
    assert.equal(readElementContents(file, pin).cards['card-1']!.tokens.length, 0);
    const other = newElement().info;
    const theirs = mintBatch({
      card: 'card-1',
      device: other.device,
      boxKey: other.boxKey,
      n: 1,
      expiresAt: startMs + dayMs,
    });
    refuses(() => importBatch(file, pin, theirs.result, startMs), 'batch_mismatch');
    const otherBox = Buffer.from(newBoxKeyPair().publicKey).toString('hex');
    const unopened = mintBatch({
      card: 'card-1',
      device: info.device,
      boxKey: otherBox,
      n: 1,
      expiresAt: startMs + dayMs,
    });
    refuses(() => importBatch(file, pin, unopened.result, startMs), 'batch_unopened');
    const otherChain = mintBatch({
      card: 'card-1',
      device: info.device,
      boxKey: info.boxKey,
      n: 1,
      expiresAt: startMs + dayMs,
      chain: 'other',
    });
    refuses(() => importBatch(file, pin, otherChain.result, startMs), 'batch_unopened');
    refuses(
      () => importBatch(file, pin, { ...batch.result, card: 'card-9' }, startMs),
      'unknown_card',
    );
  });

  it('adds only a card that lists the device and is not closed', () => {
    const { file, info } = newElement();
    refuses(
      () => addCard(file, pin, 'card-1', cardRecord('card-1', newElement().info.device), startMs),
      'invalid_card',
    );
    refuses(
      () =>
        addCard(
          file,
          pin,
          'card-1',
          cardRecord('card-1', info.device, { status: 'closed' }),
          startMs,
        ),
      'card_closed',
    );
    refuses(
      () => addCard(file, pin, 'x', { ...cardRecord('card-1', info.device), card: 'x' }, startMs),
      'invalid_card',
    );
    addCard(file, pin, 'card-1', cardRecord('card-1', info.device, { status: 'pending' }), startMs);
    assert.deepEqual(
      listCards(file, pin, startMs).map((c) => [c.card, c.status]),
      [['card-1', 'pending']],
    );
  });
});

describe("the node's card record", () => {
  it('is checked with the payload rules, each bad field refused and nothing added', () => {
    const { file, info } = newElement();
    const good = cardRecord('card-1', info.device);
    const others = Array.from({ length: 10 }, () => newElement().info.device);
    const bad: [string, Record<string, unknown>][] = [
      ['an escape sequence in the face', { face: { ...good.face, product: 'Debit\u001b[2J' } }],
      ['a megabyte of face', { face: { ...good.face, issuerName: 'A'.repeat(1 << 20) } }],
      ['tokensMax past the limit', { tokensMax: 1e9 }],
      ['tokensMax 0', { tokensMax: 0 }],
      ['an asset that is not a symbol', { asset: 'usd; rm' }],
      ['last4 of letters', { last4: 'abcd' }],
      ['last4 of five digits', { last4: '78999' }],
      ['an expiry that is not YYYY-MM', { expiry: '2030-13' }],
      ['an unknown status', { status: 'frozen' }],
      ['too many devices', { devices: [info.device, ...others] }],
      ['a device that is not an address', { devices: [info.device, 'not-an-address'] }],
      ['a token life of zero', { tokenLifeMs: 0 }],
    ];
    for (const [what, override] of bad) {
      const error = refuses(
        () => addCard(file, pin, 'card-1', { ...good, ...override }, startMs),
        'invalid_card',
      );
      assert.match(error.message, /card-1/, what);
    }
    assert.deepEqual(listCards(file, pin, startMs), []);
    // The record must be the card asked for.
    refuses(() => addCard(file, pin, 'card-2', good, startMs), 'card_mismatch');
    assert.deepEqual(listCards(file, pin, startMs), []);
    // The good record is taken, without fields the node added.
    addCard(file, pin, 'card-1', { ...good, extra: 'x'.repeat(1000) }, startMs);
    const kept = readElementContents(file, pin).cards['card-1']!.record;
    assert.deepEqual(kept, good);
  });
});

describe('the lock and crashes', () => {
  const nonce = '0123456789abcdef';

  it('refuses while a live process holds the lock, and takes over a dead one', () => {
    const { file, info } = newElement();
    fs.writeFileSync(`${file}.lock`, `${process.pid} ${nonce}`);
    refuses(() => deviceInfo(file, pin), 'element_busy');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.writeFileSync(`${file}.lock`, `${dead} ${nonce}`);
    assert.deepEqual(deviceInfo(file, pin), info);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['element.json']);
  });

  it('holds its pid and a nonce in the lock while it works, and never takes an empty lock', () => {
    const { file } = elementWithTokens(1);
    const seen: string[] = [];
    selectCard(file, pin, 'card-1', startMs, {
      hooks: { beforeRename: () => void seen.push(fs.readFileSync(`${file}.lock`, 'utf8')) },
    });
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, new RegExp(`^${process.pid} [0-9a-f]{16}$`));
    // An empty (or unfinished) lock is a holder's that has not written yet, not a stale one.
    fs.writeFileSync(`${file}.lock`, '');
    refuses(() => deviceInfo(file, pin), 'element_busy');
    assert.equal(fs.readFileSync(`${file}.lock`, 'utf8'), '');
  });

  it('taking over a dead lock, does not delete the lock another process took over first', () => {
    const { file } = newElement();
    const lock = `${file}.lock`;
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.writeFileSync(lock, `${dead} ${nonce}`);
    const theirs = `${process.pid} fedcba9876543210`;
    const lockHooks: ElementLockHooks = {
      // Another process reads the same dead lock, takes it over first and holds it.
      beforeTakeover: () => {
        fs.rmSync(lock);
        fs.writeFileSync(lock, theirs);
      },
    };
    refuses(() => deviceInfo(file, pin, { lockHooks }), 'element_busy');
    assert.equal(fs.readFileSync(lock, 'utf8'), theirs, 'their lock is still there');
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), [
      'element.json',
      'element.json.lock',
    ]);
  });

  it('releases only its own lock', () => {
    const { file } = elementWithTokens(1);
    const lock = `${file}.lock`;
    const theirs = `${process.pid} fedcba9876543210`;
    // Someone took the lock over while this process worked (it was wrongly thought dead).
    selectCard(file, pin, 'card-1', startMs, {
      hooks: { afterWrite: () => fs.writeFileSync(lock, theirs) },
    });
    assert.equal(fs.readFileSync(lock, 'utf8'), theirs);
  });

  it('refuses to write over an element another writer changed since it was read', () => {
    const { file } = elementWithTokens(2);
    // The other writer's element: the same one after another operation.
    const copy = path.join(path.dirname(file), 'copy.json');
    fs.copyFileSync(file, copy);
    activate(copy, pin, startMs);
    const theirs = fs.readFileSync(copy, 'utf8');
    fs.rmSync(copy);
    refuses(
      () =>
        pay(file, pin, terminalRequest(), startMs, {
          hooks: { beforeRename: () => fs.writeFileSync(file, theirs) },
        }),
      'element_busy',
    );
    assert.equal(fs.readFileSync(file, 'utf8'), theirs, 'the other write stands');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['element.json']);
  });

  it('a crash before the write changes nothing; after it, the token is lost but never reused', () => {
    const { file, batch } = elementWithTokens(3);
    const before = readElementContents(file, pin);
    const crash = new Error('crash');
    const throwCrash = () => {
      throw crash;
    };
    assert.throws(() =>
      pay(file, pin, terminalRequest(), startMs, { hooks: { beforeRename: throwCrash } }),
    );
    assert.deepEqual(readElementContents(file, pin), before);
    assert.deepEqual(
      fs.readdirSync(path.dirname(file)),
      ['element.json'],
      'no temporary file left',
    );
    assert.throws(() =>
      pay(file, pin, terminalRequest(), startMs, { hooks: { afterWrite: throwCrash } }),
    );
    const lost = readElementContents(file, pin);
    assert.equal(lost.cards['card-1']!.consumed.length, 1);
    assert.equal(lost.counter, 1);
    const answer = pay(file, pin, terminalRequest(), startMs);
    assert.notEqual(answer.token, lost.cards['card-1']!.consumed[0]);
    checkAnswer(answer, batch, 2);
    assert.equal(elementStatus(file, pin, startMs).lastPayment?.token, answer.token);
  });
});

type Step =
  | { kind: 'pay'; crash?: 'beforeRename' | 'afterWrite' }
  | { kind: 'import'; count: number; replay: boolean; crash?: 'beforeRename' | 'afterWrite' }
  | { kind: 'activate' }
  | { kind: 'select'; card: 'card-1' | 'card-2' }
  | { kind: 'wait'; ms: number };

const crashPoint = fc.option(fc.constantFrom('beforeRename' as const, 'afterWrite' as const), {
  nil: undefined,
});
const steps = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('pay' as const), crash: crashPoint }),
    fc.record({
      kind: fc.constant('import' as const),
      count: fc.integer({ min: 1, max: 4 }),
      replay: fc.boolean(),
      crash: crashPoint,
    }),
    fc.record({ kind: fc.constant('activate' as const) }),
    fc.record({
      kind: fc.constantFrom('select' as const),
      card: fc.constantFrom('card-1' as const, 'card-2' as const),
    }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: dayMs / 2 }) }),
  ),
  { minLength: 1, maxLength: 25 },
);

describe('the write-ahead property', () => {
  it('payments, replenishments and crashes at any write never put one token behind two cryptograms', () => {
    fc.assert(
      fc.property(steps, (plan: Step[]) => {
        const { file, info } = newElement();
        for (const card of ['card-1', 'card-2'])
          addCard(file, pin, card, cardRecord(card, info.device), startMs);
        selectCard(file, pin, 'card-1', startMs);
        let now = startMs;
        let n = 0;
        const batches: TestBatch[] = [];
        const answers: DeviceAnswer[] = [];
        const everConsumed = new Set<string>();
        for (const step of plan) {
          const crash = step.kind === 'pay' || step.kind === 'import' ? step.crash : undefined;
          const hooks: ElementWriteHooks = crash
            ? {
                [crash]: () => {
                  throw new Error('crash');
                },
              }
            : {};
          const before = readElementContents(file, pin);
          try {
            if (step.kind === 'pay') {
              answers.push(pay(file, pin, terminalRequest(), now, { hooks }));
            } else if (step.kind === 'import') {
              const card = before.selected ?? 'card-1';
              n += 1;
              const replayed = step.replay ? batches[n % Math.max(1, batches.length)] : undefined;
              const batch =
                replayed ??
                mintBatch({
                  card,
                  device: info.device,
                  boxKey: info.boxKey,
                  n,
                  expiresAt: now + dayMs,
                  count: step.count,
                });
              if (!replayed) batches.push(batch);
              importBatch(file, pin, batch.result, now, { hooks, keyHashes: batch.keyHashes });
            } else if (step.kind === 'activate') {
              activate(file, pin, now);
            } else if (step.kind === 'select') {
              selectCard(file, pin, step.card, now);
            } else {
              now += step.ms;
            }
          } catch (error) {
            if (error instanceof CardDeviceError) {
              assert.ok(['no_tokens', 'too_many_tokens'].includes(error.code), error.code);
            } else {
              assert.equal((error as Error).message, 'crash');
              if (crash === 'beforeRename') {
                assert.deepEqual(
                  readElementContents(file, pin),
                  before,
                  'a crash before the rename changes nothing',
                );
              }
            }
          }
          if (step.kind === 'pay') {
            // The tokens this step consumed (its answer's, or the one a crash after the write lost)
            // were never consumed before: a token is consumed once, whatever the crash point.
            const after = readElementContents(file, pin);
            const newly = Object.values(after.cards)
              .flatMap((c) => c.consumed)
              .filter(
                (token) => !Object.values(before.cards).some((c) => c.consumed.includes(token)),
              );
            assert.ok(newly.length <= 1);
            for (const token of newly) {
              assert.ok(!everConsumed.has(token), 'consumed twice');
              everConsumed.add(token);
            }
          }
        }
        const tokens = answers.map((a) => a.token);
        assert.equal(new Set(tokens).size, tokens.length, 'no token behind two cryptograms');
        const contents = readElementContents(file, pin);
        const consumed = new Set(Object.values(contents.cards).flatMap((c) => c.consumed));
        const held = Object.values(contents.cards).flatMap((c) => c.tokens.map((t) => t.token));
        for (const token of tokens) assert.ok(consumed.has(token), 'every paid token is consumed');
        for (const token of tokens) assert.ok(everConsumed.has(token));
        for (const token of held)
          assert.ok(!consumed.has(token), 'no token both held and consumed');
        assert.ok(contents.counter >= answers.length);
        for (const answer of answers) {
          const batch = batches.find((b) => b.keys.has(answer.token))!;
          const { cryptogram, ...payment } = answer;
          assert.ok(cryptogramValid(batch.keys.get(answer.token)!, chainId, payment, cryptogram));
        }
      }),
      { numRuns: 60 },
    );
  });
});
