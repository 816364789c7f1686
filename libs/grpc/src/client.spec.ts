import { Metadata } from '@grpc/grpc-js';
import { paymentsV1 } from '@tessera/contracts';
import { callContextFromMetadata } from './call-context';
import { buildServiceConfig, DEFAULT_CLIENT_RETRY } from './client';

describe('buildServiceConfig', () => {
  it('declares a retry policy only for the listed methods, by client key or proto name', () => {
    const config = buildServiceConfig(paymentsV1.AccountServiceService, ['getAccount', 'GetBalance']);
    expect(config).toEqual({
      methodConfig: [
        {
          name: [
            { service: 'tessera.payments.v1.AccountService', method: 'GetAccount' },
            { service: 'tessera.payments.v1.AccountService', method: 'GetBalance' },
          ],
          retryPolicy: {
            maxAttempts: DEFAULT_CLIENT_RETRY.maxAttempts,
            initialBackoff: '0.100s',
            maxBackoff: '2.000s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        },
      ],
    });
  });

  it('has no method config without idempotent methods and rejects unknown names', () => {
    expect(buildServiceConfig(paymentsV1.AccountServiceService, [])).toEqual({ methodConfig: [] });
    expect(() => buildServiceConfig(paymentsV1.AccountServiceService, ['openAcount'])).toThrow(/unknown method "openAcount"/);
  });
});

describe('callContextFromMetadata', () => {
  it('reads identity metadata and an absolute deadline', () => {
    const md = new Metadata();
    md.set('authorization', 'Bearer t');
    md.set('x-api-key', 'tsk_a_b');
    md.set('x-tessera-principal', 'user-1');
    const ctx = callContextFromMetadata(md, '/s/M', 1_000, new AbortController().signal);
    expect(ctx).toMatchObject({
      authorization: 'Bearer t',
      apiKey: 'tsk_a_b',
      method: '/s/M',
      deadline: new Date(1_000),
      transport: 'plaintext',
      peer: undefined,
    });
    // An unverifiable name header never becomes part of the identity a handler sees.
    expect(ctx).not.toHaveProperty('principal');
  });

  it('leaves absent values and infinite deadlines undefined', () => {
    const ctx = callContextFromMetadata(new Metadata(), '/s/M', Infinity, new AbortController().signal);
    expect(ctx.authorization).toBeUndefined();
    expect(ctx.apiKey).toBeUndefined();
    expect(ctx.deadline).toBeUndefined();
  });
});
