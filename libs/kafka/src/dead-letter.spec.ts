import type { KafkaMessage } from 'kafkajs';
import { deadLetterMessage, dlqTopicFor, failureReason } from './dead-letter';
import { computeLag } from './consumer-lag.monitor';

describe('dlqTopicFor', () => {
  it('puts the DLQ beside its topic', () => {
    expect(dlqTopicFor('payments.transfer.events.v1')).toBe('payments.transfer.events.v1.dlq');
  });
});

describe('deadLetterMessage', () => {
  it('keeps key, value and headers and adds the failure headers', () => {
    const original: KafkaMessage = {
      key: Buffer.from('acc-1'),
      value: Buffer.from([1, 2, 3]),
      headers: { ce_id: Buffer.from('e1') },
      timestamp: '0',
      attributes: 0,
      offset: '42',
    };
    const error = Object.assign(new Error('limit exceeded'), { code: 'PAYMENTS.LIMIT' });
    const msg = deadLetterMessage(original, {
      topic: 't.v1',
      partition: 2,
      offset: '42',
      attempts: 5,
      groupId: 'svc.purpose',
      error,
      now: new Date(0),
    });
    expect(msg.key).toEqual(original.key);
    expect(msg.value).toEqual(original.value);
    expect(msg.headers).toEqual({
      ce_id: Buffer.from('e1'),
      'dlq-reason': 'Error: limit exceeded',
      'dlq-error-code': 'PAYMENTS.LIMIT',
      'dlq-original-topic': 't.v1',
      'dlq-original-partition': '2',
      'dlq-original-offset': '42',
      'dlq-attempts': '5',
      'dlq-consumer-group': 'svc.purpose',
      'dlq-failed-at': '1970-01-01T00:00:00.000Z',
    });
  });
});

describe('failureReason', () => {
  it('truncates long messages and handles non-errors', () => {
    expect(failureReason(new Error('x'.repeat(2_000))).reason).toHaveLength(500);
    expect(failureReason('boom')).toEqual({ reason: 'Error: boom', code: 'UNHANDLED' });
  });
});

describe('computeLag', () => {
  it('is the distance from the committed offset to the log end', () => {
    expect(computeLag('10', '0', '7')).toBe(3);
    expect(computeLag('10', '4', '-1')).toBe(6);
    expect(computeLag('10', '0', '10')).toBe(0);
  });
});
