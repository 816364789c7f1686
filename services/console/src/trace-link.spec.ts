import { newTraceparent, traceIdOf, traceLink, traceUrl } from './trace-link';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('traceIdOf', () => {
  it('reads a trace id or a traceparent and ignores invalid or all-zero ids', () => {
    expect(traceIdOf({ traceId: ID.toUpperCase() })).toBe(ID);
    expect(traceIdOf({ traceparent: `00-${ID}-00f067aa0ba902b7-01` })).toBe(ID);
    expect(traceIdOf({ traceId: '0'.repeat(32) })).toBeUndefined();
    expect(traceIdOf({ traceparent: 'garbage' })).toBeUndefined();
    expect(traceIdOf({})).toBeUndefined();
  });

  it('reads the traceId of gateway alert and aggregate views, null when untraced', () => {
    expect(traceIdOf({ windowKey: 'acme|web|page.view|=|10|10|0', revision: 3, traceId: ID } as { traceId: string | null })).toBe(ID);
    expect(traceIdOf({ traceId: null })).toBeUndefined();
  });
});

describe('traceUrl', () => {
  it('fills the template, and links nothing without a template or an id', () => {
    expect(traceUrl('http://localhost:16686/trace/{traceId}', ID)).toBe(`http://localhost:16686/trace/${ID}`);
    expect(traceUrl('https://t.example/{traceId}?x={traceId}', ID)).toBe(`https://t.example/${ID}?x=${ID}`);
    expect(traceUrl(null, ID)).toBeUndefined();
    expect(traceUrl('http://x/{traceId}', undefined)).toBeUndefined();
    expect(traceUrl('http://x/{traceId}', '"><script>')).toBeUndefined();
  });
});

describe('traceLink', () => {
  it('links an item with a trace id, and otherwise gives the reason shown as the cell tooltip', () => {
    expect(traceLink('http://x/{traceId}', { traceId: ID })).toEqual({ href: `http://x/${ID}` });
    expect(traceLink('http://x/{traceId}', { traceId: null })).toEqual({
      reason: 'no trace recorded for this item (not sampled, or made before tracing)',
    });
    expect(traceLink(null, { traceId: ID })).toEqual({ reason: 'no trace UI configured (TESSERA_TRACE_URL)' });
  });
});

describe('newTraceparent', () => {
  it('makes a sampled W3C traceparent whose trace id it returns', () => {
    let n = 0;
    const { traceId, traceparent } = newTraceparent((len) => Uint8Array.from({ length: len }, () => ++n));
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(traceparent.split('-')[1]).toBe(traceId);
  });
});
