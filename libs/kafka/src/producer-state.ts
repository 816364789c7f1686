/**
 * Errors after which a kafkajs producer's id, epoch or sequence numbers are wrong for good: every later send with the
 * same producer fails the same way (kafkajs keeps the state across its own retries and a reconnect). The cure is a new
 * producer (InitProducerId: a new id or epoch; for a transactional one it also aborts and fences the open transaction).
 * Seen in the chaos broker-loss scenario (issue #14): the stream processor's transactional producer got
 * OUT_OF_ORDER_SEQUENCE_NUMBER after a broker was killed and the processor stopped for good.
 */
const PRODUCER_STATE_ERRORS = [
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_TXN_STATE',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
];
/** kafkajs' messages for those codes (a KafkaJSNonRetriableError keeps only the message of its cause). */
const PRODUCER_STATE_MESSAGES = [
  /out of order sequence number/i,
  /producer id .*(unknown|not known)/i,
  /producer attempted an operation with an old epoch/i,
  /invalid transition attempted|invalid_txn_state/i,
  /producer.*fenced/i,
];

export function isProducerStateError(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && depth < 5;
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError, depth++
  ) {
    const { type, message } = e as { type?: unknown; message?: unknown };
    if (typeof type === 'string' && PRODUCER_STATE_ERRORS.includes(type)) return true;
    if (typeof message === 'string' && PRODUCER_STATE_MESSAGES.some((re) => re.test(message))) return true;
  }
  return false;
}
