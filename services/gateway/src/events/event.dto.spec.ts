import { AppError } from '@tessera/errors';
import { ZodPipe } from '../http/zod-body.pipe';
import { ingestEventsBody, MALFORMED_EVENT_CODE, toAnalyticsEvent } from './event.dto';

const event = (overrides: Record<string, unknown> = {}) => ({
  tenantId: 'acme',
  streamId: 'web',
  eventId: 'evt-1',
  eventType: 'page.view',
  occurredAt: '2025-06-01T12:00:00Z',
  value: 1,
  attributes: { country: 'DE' },
  ...overrides,
});

describe('toAnalyticsEvent', () => {
  it('maps a well-formed event to the contract', () => {
    const mapped = toAnalyticsEvent(event(), 0);
    expect('event' in mapped && mapped.event).toMatchObject({ tenantId: 'acme', streamId: 'web', attributes: { country: 'DE' } });
  });

  // The analytics fuzz e2e sent U+0000 inside one event: the whole batch was refused with 400 although the
  // route promises per-event rejections. PostgreSQL text (insights) cannot hold it, so the event alone is refused.
  it.each<[string, Record<string, unknown>, string]>([
    ['tenantId', { tenantId: 'ac\u0000me' }, 'tenantId'],
    ['streamId', { streamId: 'w\u0000' }, 'streamId'],
    ['eventId', { eventId: '\u0000' }, 'eventId'],
    ['eventType', { eventType: 'page\u0000view' }, 'eventType'],
    ['an attribute value', { attributes: { country: 'D\u0000E' } }, 'attributes.country'],
    ['an attribute key', { attributes: { 'coun\u0000try': 'DE' } }, 'attributes'],
  ])('rejects U+0000 in %s as a malformed event naming the field', (_what, overrides, field) => {
    const mapped = toAnalyticsEvent(event(overrides), 4);
    expect(mapped).toEqual({
      rejection: { index: 4, eventId: expect.any(String), code: MALFORMED_EVENT_CODE, reason: expect.stringContaining(`${field}`) },
    });
    expect('rejection' in mapped && mapped.rejection.reason).toContain('must not contain the NUL character (U+0000)');
  });
});

describe('the batch pipe of POST /v1/events', () => {
  const pipe = new ZodPipe(ingestEventsBody, 'HTTP.INVALID_REQUEST', '(body)', { refuseNul: false });

  it('lets a batch with a NUL in one event through, for toAnalyticsEvent to reject that event alone', () => {
    const body = { events: [event({ streamId: 'w\u0000' }), event()] };
    expect(pipe.transform(body)).toEqual(body);
  });

  it('still refuses a malformed batch, and the default pipe still refuses NUL anywhere', () => {
    expect(() => pipe.transform({ events: [], 'x\u0000': 1 })).toThrow(AppError);
    expect(() => new ZodPipe(ingestEventsBody).transform({ events: [event({ streamId: 'w\u0000' })] })).toThrow(AppError);
  });
});
