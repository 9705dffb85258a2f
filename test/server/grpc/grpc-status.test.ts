import { describe, expect, it } from 'vitest';
import { encodeStatusMessage } from '../../../src/server/grpc/grpc-status.js';

describe('encodeStatusMessage', () => {
  it('leaves printable ASCII without % as it is', () => {
    expect(encodeStatusMessage('client identity is not allowed on this listener')).toBe('client identity is not allowed on this listener');
  });

  it.each(['100% sure', 'unknown method /café', 'line\r\nx-injected: 1', 'tab\there', '\u0000'])(
    'percent-encodes %j into header-safe ASCII that decodes back to it',
    (message) => {
      const encoded = encodeStatusMessage(message);
      expect(encoded).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeURIComponent(encoded)).toBe(message);
    },
  );

  it('sends a lone surrogate, which has no UTF-8, as U+FFFD instead of failing the answer', () => {
    expect(decodeURIComponent(encodeStatusMessage('bad \ud800 path'))).toBe('bad \ufffd path');
  });
});
