import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError, parseNodeConfig } from './config.js';

describe('parseNodeConfig', () => {
  it('names a bad value as the user gave it: the environment variable or the flag', () => {
    assert.throws(
      () => parseNodeConfig({}, { COFFER_PORT: 'abc' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === 'invalid_config' &&
        error.message.startsWith('config port (COFFER_PORT="abc" (environment)): '),
    );
    assert.throws(
      () => parseNodeConfig({ blockIntervalMs: 'soon' }, {}),
      /^Error: config blockIntervalMs \(--block-interval-ms\): /,
    );
    // A flag wins over the environment, and is what a bad value is blamed on.
    assert.throws(() => parseNodeConfig({ port: 'x' }, { COFFER_PORT: '7420' }), /\(--port\)/);
    assert.equal(parseNodeConfig({}, { COFFER_PORT: '7421' }).port, 7421);
  });

  it('reads the heap growing percent (25; 0: V8 decides) and refuses a negative or huge one', () => {
    assert.equal(parseNodeConfig({}, {}).heapGrowingPercent, 25);
    assert.equal(parseNodeConfig({}, { COFFER_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent, 0);
    assert.equal(parseNodeConfig({}, { COFFER_HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent, 30);
    assert.throws(
      () => parseNodeConfig({}, { COFFER_HEAP_GROWING_PERCENT: '-1' }),
      /config heapGrowingPercent \(COFFER_HEAP_GROWING_PERCENT/,
    );
    assert.throws(() => parseNodeConfig({ heapGrowingPercent: 5000 }, {}), /heapGrowingPercent/);
  });

  it('reads the webhook settings and the admin token, and refuses ones that cannot work', () => {
    const config = parseNodeConfig(
      {},
      {
        COFFER_ADMIN_TOKEN: 'a'.repeat(32),
        COFFER_WEBHOOK_ATTEMPTS_MAX: '3',
        COFFER_WEBHOOK_RETRY_BASE_MS: '10',
        COFFER_WEBHOOK_RETRY_MAX_MS: '40',
        COFFER_WEBHOOK_TIMEOUT_MS: '500',
      },
    );
    assert.deepEqual(
      [config.adminToken, config.webhookAttemptsMax, config.webhookRetryBaseMs],
      ['a'.repeat(32), 3, 10],
    );
    assert.deepEqual([config.webhookRetryMaxMs, config.webhookTimeoutMs], [40, 500]);
    const defaults = parseNodeConfig({}, {});
    assert.equal(defaults.adminToken, undefined);
    assert.equal(defaults.webhookAttemptsMax, 8);
    // A short or odd token would be guessable or mangled in a header.
    assert.throws(() => parseNodeConfig({}, { COFFER_ADMIN_TOKEN: 'short' }), /adminToken/);
    assert.throws(
      () => parseNodeConfig({}, { COFFER_ADMIN_TOKEN: `${'a'.repeat(32)} b` }),
      /adminToken/,
    );
    assert.throws(() => parseNodeConfig({}, { COFFER_WEBHOOK_ATTEMPTS_MAX: '0' }), /Attempts/);
    assert.throws(
      () =>
        parseNodeConfig(
          {},
          { COFFER_WEBHOOK_RETRY_BASE_MS: '5000', COFFER_WEBHOOK_RETRY_MAX_MS: '1000' },
        ),
      /webhookRetryBaseMs: must not exceed webhookRetryMaxMs/,
    );
  });

  it('reads the console media origins (a content gateway) and refuses what is not an origin', () => {
    const config = parseNodeConfig(
      {},
      { COFFER_CONSOLE_MEDIA_ORIGINS: 'http://127.0.0.1:7480, https://media.example.org' },
    );
    assert.deepEqual(config.consoleMediaOrigins, [
      'http://127.0.0.1:7480',
      'https://media.example.org',
    ]);
    assert.equal(parseNodeConfig({}, {}).consoleMediaOrigins, undefined);
    for (const bad of [
      'http://a.example/path',
      'ftp://a.example',
      'a.example',
      "http://a.example'",
    ]) {
      assert.throws(
        () => parseNodeConfig({}, { COFFER_CONSOLE_MEDIA_ORIGINS: bad }),
        /^Error: config consoleMediaOrigins \(COFFER_CONSOLE_MEDIA_ORIGINS=.*is not an origin/,
        bad,
      );
    }
  });
});
