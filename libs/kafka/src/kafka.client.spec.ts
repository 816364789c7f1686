import { logLevel, type LogEntry } from 'kafkajs';
import { pinoLogCreator, type KafkaLogger } from './kafka.client';

function recorder(): { logger: KafkaLogger; lines: Array<{ level: string; msg?: string; fields: object }> } {
  const lines: Array<{ level: string; msg?: string; fields: object }> = [];
  const at = (level: string) => (fields: object, msg?: string) => void lines.push({ level, msg, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function entry(namespace: string, level: logLevel, log: Record<string, unknown>): LogEntry {
  return {
    namespace,
    level,
    label: 'ERROR',
    log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message: 'm', ...log },
  } as LogEntry;
}

describe('pinoLogCreator', () => {
  it('logs a failed request of the Connection namespace at WARN: kafkajs throws it on to a caller that decides', () => {
    const { logger, lines } = recorder();
    pinoLogCreator(logger)(logLevel.INFO)(
      entry('Connection', logLevel.ERROR, {
        message: 'Response AddPartitionsToTxn(key: 24, version: 1)',
        error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      }),
    );
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'Response AddPartitionsToTxn(key: 24, version: 1)',
        fields: { kafka: { namespace: 'Connection', error: expect.stringContaining('concurrent operation') } },
      },
    ]);
  });

  it('logs a retried attempt at WARN and a final failure at ERROR', () => {
    const { logger, lines } = recorder();
    const log = pinoLogCreator(logger)(logLevel.INFO);
    log(entry('Producer', logLevel.ERROR, { message: 'Failed to send messages: timeout', retryCount: 1, retryTime: 300 }));
    log(entry('Consumer', logLevel.ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded', retryCount: undefined }));
    log(entry('Runner', logLevel.ERROR, { message: 'Error when calling eachBatch' }));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Failed to send messages: timeout'],
      ['error', 'Crash: KafkaJSNumberOfRetriesExceeded'],
      ['error', 'Error when calling eachBatch'],
    ]);
  });

  it('keeps the other levels and drops kafkajs timestamp and logger name', () => {
    const { logger, lines } = recorder();
    const log = pinoLogCreator(logger)(logLevel.INFO);
    log(entry('Admin', logLevel.WARN, { message: 'w' }));
    log(entry('Admin', logLevel.INFO, { message: 'i', broker: 'b:1' }));
    log(entry('Admin', logLevel.DEBUG, { message: 'd' }));
    expect(lines).toEqual([
      { level: 'warn', msg: 'w', fields: { kafka: { namespace: 'Admin' } } },
      { level: 'info', msg: 'i', fields: { kafka: { namespace: 'Admin', broker: 'b:1' } } },
      { level: 'debug', msg: 'd', fields: { kafka: { namespace: 'Admin' } } },
    ]);
  });
});
