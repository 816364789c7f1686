import { analyticsV1 } from '@tessera/contracts';
import { isCleanText, validateEvent, type ValidationLimits } from './event-validator';
import { RejectionCodes } from './ingest.errors';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const LIMITS: ValidationLimits = { maxEventAgeMs: 7 * 86_400_000, maxFutureSkewMs: 300_000, maxAttributes: 4, maxAttributesBytes: 200 };

function event(overrides: Partial<analyticsV1.AnalyticsEvent> = {}): analyticsV1.AnalyticsEvent {
  return analyticsV1.AnalyticsEvent.fromPartial({
    tenantId: 'acme',
    streamId: 'web',
    eventId: 'evt-1',
    eventType: 'page.view',
    occurredAt: new Date(NOW.getTime() - 1000),
    value: 1.5,
    attributes: { country: 'DE', plan: 'pro' },
    ...overrides,
  });
}

const codeOf = (e: analyticsV1.AnalyticsEvent, limits: ValidationLimits = LIMITS) => validateEvent(e, 7, 'acme', NOW, limits)?.code;

describe('validateEvent', () => {
  it('accepts a well-formed event of the caller tenant', () => {
    expect(validateEvent(event(), 0, 'acme', NOW, LIMITS)).toBeUndefined();
  });

  it.each<[string, Partial<analyticsV1.AnalyticsEvent>, string]>([
    ['missing tenant', { tenantId: '' }, RejectionCodes.tenantRequired],
    ['another tenant', { tenantId: 'globex' }, RejectionCodes.tenantMismatch],
    ['malformed tenant', { tenantId: 'ac me' }, RejectionCodes.invalidId],
    ['missing stream', { streamId: '' }, RejectionCodes.invalidId],
    ['stream with a slash (breaks the tenant/stream key)', { streamId: 'a/b' }, RejectionCodes.invalidId],
    ['missing event id', { eventId: '' }, RejectionCodes.invalidId],
    ['overlong event id', { eventId: 'x'.repeat(129) }, RejectionCodes.invalidId],
    ['empty event type', { eventType: '' }, RejectionCodes.invalidEventType],
    ['upper-case event type', { eventType: 'PageView' }, RejectionCodes.invalidEventType],
    ['event type starting with a digit', { eventType: '1click' }, RejectionCodes.invalidEventType],
    ['event type of 65 characters', { eventType: `a${'b'.repeat(64)}` }, RejectionCodes.invalidEventType],
    ['missing occurred_at', { occurredAt: undefined }, RejectionCodes.occurredAtRequired],
    ['far future', { occurredAt: new Date(NOW.getTime() + 300_001) }, RejectionCodes.occurredAtOutOfRange],
    ['far past', { occurredAt: new Date(NOW.getTime() - 7 * 86_400_000 - 1) }, RejectionCodes.occurredAtOutOfRange],
    ['NaN value', { value: Number.NaN }, RejectionCodes.invalidValue],
    ['infinite value', { value: Number.POSITIVE_INFINITY }, RejectionCodes.invalidValue],
    ['too many attributes', { attributes: { a: '1', b: '2', c: '3', d: '4', e: '5' } }, RejectionCodes.attributesTooLarge],
    ['oversize attribute value', { attributes: { note: 'x'.repeat(257) } }, RejectionCodes.attributesTooLarge],
    ['attributes over the byte budget', { attributes: { a: 'é'.repeat(60), b: 'é'.repeat(60) } }, RejectionCodes.attributesTooLarge],
    ['malformed attribute key', { attributes: { 'bad key': 'x' } }, RejectionCodes.invalidAttributes],
    // Found by the analytics fuzz e2e: a NUL passed ingest and would reach insights' PostgreSQL as a dimension value.
    ['NUL in an attribute value', { attributes: { country: 'D\u0000E' } }, RejectionCodes.invalidAttributes],
    ['replacement character from invalid UTF-8 in an attribute', { attributes: { city: 'M\uFFFDnchen' } }, RejectionCodes.invalidUtf8],
    ['lone surrogate in the stream id', { streamId: 'web\uD800' }, RejectionCodes.invalidUtf8],
    ['invalid UTF-8 in an attribute key', { attributes: { 'k\uFFFD': 'v' } }, RejectionCodes.invalidUtf8],
  ])('rejects %s', (_name, overrides, code) => {
    expect(codeOf(event(overrides))).toBe(code);
  });

  it('accepts the edges of the allowed time range', () => {
    expect(codeOf(event({ occurredAt: new Date(NOW.getTime() + 300_000) }))).toBeUndefined();
    expect(codeOf(event({ occurredAt: new Date(NOW.getTime() - 7 * 86_400_000) }))).toBeUndefined();
  });

  it('refuses types outside the registered list when one is configured', () => {
    const limits = { ...LIMITS, eventTypes: ['page.view'] };
    expect(codeOf(event(), limits)).toBeUndefined();
    expect(codeOf(event({ eventType: 'checkout' }), limits)).toBe(RejectionCodes.unknownEventType);
  });

  it('reports the index and echoes only a well-formed event id', () => {
    expect(validateEvent(event({ value: Number.NaN }), 7, 'acme', NOW, LIMITS)).toMatchObject({ index: 7, eventId: 'evt-1' });
    expect(validateEvent(event({ eventId: 'no spaces allowed' }), 3, 'acme', NOW, LIMITS)).toMatchObject({ index: 3, eventId: '' });
  });

  it('sees invalid UTF-8 bytes that went through the protobuf decoder', () => {
    const wire = analyticsV1.AnalyticsEvent.encode(event({ attributes: { city: 'MARK' } })).finish();
    const bytes = Buffer.from(wire);
    const at = bytes.indexOf(Buffer.from('MARK'));
    bytes[at] = 0xff; // not a UTF-8 lead byte
    const decoded = analyticsV1.AnalyticsEvent.decode(bytes);
    expect(codeOf(decoded)).toBe(RejectionCodes.invalidUtf8);
  });
});

describe('isCleanText', () => {
  it('accepts ordinary and astral text', () => {
    expect(isCleanText('Zürich 🚀')).toBe(true);
  });
});
