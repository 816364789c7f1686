import { problemInstanceOf, requestIdOf } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it('keeps a sane inbound X-Request-Id', () => {
    expect(requestIdOf({ headers: { 'x-request-id': 'lb-3f2a.9c:01_x' } })).toBe('lb-3f2a.9c:01_x');
    expect(requestIdOf({ headers: { 'x-request-id': ['first-id-123', 'second-id-456'] } })).toBe('first-id-123');
  });

  it.each([undefined, '', 'short', 'x'.repeat(129), 'has space inside', 'new\nline-injected', '<script>alert(1)</script>'])(
    'generates a UUID instead of %p',
    (inbound) => {
      expect(requestIdOf({ headers: inbound === undefined ? {} : { 'x-request-id': inbound } })).toMatch(UUID);
    },
  );
});

describe('problemInstanceOf', () => {
  it('names the occurrence by request id', () => {
    expect(problemInstanceOf('abc-12345')).toBe('urn:tessera:request:abc-12345');
  });
});
