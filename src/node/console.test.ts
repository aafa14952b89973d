import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { consoleSecurityHeaders } from './console.js';

describe('consoleSecurityHeaders', () => {
  it('allows the own origin only, unless media origins are configured', () => {
    const own = consoleSecurityHeaders()['content-security-policy']!;
    assert.match(own, /connect-src 'self' ws: wss:;/);
    assert.match(own, /media-src 'self';/);
    const withGateway = consoleSecurityHeaders(['http://127.0.0.1:7480'])[
      'content-security-policy'
    ]!;
    assert.match(withGateway, /connect-src 'self' ws: wss: http:\/\/127\.0\.0\.1:7480;/);
    assert.match(withGateway, /media-src 'self' http:\/\/127\.0\.0\.1:7480;/);
    // Scripts still come from the node alone.
    assert.match(withGateway, /script-src 'self';/);
  });
});
