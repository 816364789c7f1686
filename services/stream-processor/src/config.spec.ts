import { streamProcessorConfigSchema } from './config';

describe('stream-processor config', () => {
  it('remembers event ids for the largest window + the allowed lateness at least, by default 120 s', () => {
    expect(streamProcessorConfigSchema.parse({}).STREAM_PROCESSOR_DEDUPE_HORIZON_MS).toBe(120_000);
    expect(streamProcessorConfigSchema.safeParse({ STREAM_PROCESSOR_DEDUPE_HORIZON_MS: '90s' }).success).toBe(true);
  });

  it('refuses a dedupe horizon shorter than the largest window + the allowed lateness, naming the variable', () => {
    const tooShort = streamProcessorConfigSchema.safeParse({ STREAM_PROCESSOR_DEDUPE_HORIZON_MS: '89s' });
    expect(tooShort.success).toBe(false);
    expect(tooShort.error?.issues[0]).toMatchObject({
      path: ['STREAM_PROCESSOR_DEDUPE_HORIZON_MS'],
      message: expect.stringContaining('90000 ms'),
    });
    expect(
      streamProcessorConfigSchema.safeParse({ STREAM_PROCESSOR_DEDUPE_HORIZON_MS: '100s', STREAM_PROCESSOR_WINDOWS: '10s,2m' }).success,
    ).toBe(false);
  });
});
