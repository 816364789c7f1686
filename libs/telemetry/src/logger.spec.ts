import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { createLogger } from './logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  const provider = new node.NodeTracerProvider();
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('adds trace_id and span_id of the active span', () => {
    const out = capture();
    const logger = createLogger('OrderHandler', { service: 'svc', destination: out.stream, level: 'info' });
    const span = trace.getTracer('test').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    span.end();
    logger.info('outside');

    const [inside, outside] = out.lines();
    expect(inside).toMatchObject({
      name: 'OrderHandler',
      service: 'svc',
      level: 'info',
      msg: 'inside',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('redacts secrets and PII at top level and nested', () => {
    const out = capture();
    const logger = createLogger('Auth', { destination: out.stream, level: 'info' });
    logger.info(
      {
        password: 'p',
        user: { nationalId: 'X123', email: 'a@b.c', id: 'u1' },
        req: { headers: { authorization: 'Bearer t', 'content-type': 'json' } },
      },
      'login',
    );
    const [line] = out.lines();
    expect(line).toMatchObject({
      password: '[REDACTED]',
      user: { nationalId: '[REDACTED]', email: '[REDACTED]', id: 'u1' },
      req: { headers: { authorization: '[REDACTED]', 'content-type': 'json' } },
    });
    expect(JSON.stringify(line)).not.toMatch(/X123|Bearer t|a@b\.c/);
  });

  it('masks down to the deepest listed nesting, inside arrays and errors, without touching the logged objects', () => {
    const out = capture();
    const logger = createLogger('Auth', { destination: out.stream, level: 'info' });
    const call = { a: { headers: { authorization: 'Bearer deep', accept: 'x' } } };
    const err = Object.assign(new Error('failed'), { token: 'tok-1', code: 'E1' });
    logger.info({ call, items: [{ iban: 'DE89' }, { id: 1 }], err }, 'nested');
    const [line] = out.lines();
    expect(line).toMatchObject({
      call: { a: { headers: { authorization: '[REDACTED]', accept: 'x' } } },
      items: [{ iban: '[REDACTED]' }, { id: 1 }],
      err: { type: 'Error', message: 'failed', token: '[REDACTED]', code: 'E1' },
    });
    expect(JSON.stringify(line)).not.toMatch(/Bearer deep|DE89|tok-1/);
    expect(call.a.headers.authorization).toBe('Bearer deep');
    expect(err.token).toBe('tok-1');
  });
});
