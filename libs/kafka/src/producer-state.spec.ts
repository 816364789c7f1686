import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { isProducerStateError } from './producer-state';

describe('isProducerStateError', () => {
  it('knows the protocol errors that leave a producer unusable, bare or wrapped by kafkajs', () => {
    const protocol = Object.assign(new KafkaJSProtocolError('The broker received an out of order sequence number'), {
      type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
    });
    expect(isProducerStateError(protocol)).toBe(true);
    expect(isProducerStateError(new KafkaJSNonRetriableError(protocol))).toBe(true);
    expect(isProducerStateError(new KafkaJSNonRetriableError(new Error('The broker received an out of order sequence number')))).toBe(true);
    expect(isProducerStateError(Object.assign(new Error('x'), { type: 'INVALID_PRODUCER_EPOCH' }))).toBe(true);
  });

  it('leaves every other error to the normal handling (authorisation, connection, a handler bug)', () => {
    expect(
      isProducerStateError(
        Object.assign(new KafkaJSProtocolError('Not authorized to access topics'), { type: 'TOPIC_AUTHORIZATION_FAILED' }),
      ),
    ).toBe(false);
    expect(isProducerStateError(new KafkaJSError('Connection error: connect ECONNREFUSED'))).toBe(false);
    expect(isProducerStateError(new Error('a bug'))).toBe(false);
    expect(isProducerStateError(undefined)).toBe(false);
  });
});
