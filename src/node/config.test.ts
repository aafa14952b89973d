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
});
