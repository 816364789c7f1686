import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { commonV1, descriptorSetPath, eventTypeName, paymentsV1 } from './index';

function messageNames(): Set<string> {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
  const names = new Set<string>();
  for (const file of set.file) {
    for (const msg of file.messageType) names.add(`${file.package}.${msg.name}`);
  }
  return names;
}

describe('descriptorSetPath', () => {
  it('points at a descriptor set containing every Tessera service', () => {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
    const services = set.file.flatMap((f) => f.service.map((s) => `${f.package}.${s.name}`));
    expect(services).toEqual(
      expect.arrayContaining([
        'tessera.payments.v1.AccountService',
        'tessera.payments.v1.TransferService',
        'tessera.compliance.v1.ComplianceService',
        'tessera.analytics.v1.IngestService',
        'tessera.analytics.v1.InsightsService',
      ]),
    );
  });
});

describe('eventTypeName', () => {
  it('names only messages that exist in the contracts', () => {
    const known = messageNames();
    const missing = Object.values(eventTypeName).filter((name) => !known.has(name));
    expect(missing).toEqual([]);
  });

  it('uses the message name as its key', () => {
    for (const [key, name] of Object.entries(eventTypeName)) expect(name.endsWith(`.${key}`)).toBe(true);
  });
});

describe('generated messages', () => {
  it('round-trip an envelope carrying an int64 payload through the wire format', () => {
    const transfer = paymentsV1.TransferCreated.fromPartial({
      transfer: { id: 't-1', amount: { amountMinor: 9_007_199_254_740_993n, currency: 'EUR' } },
    });
    const envelope = commonV1.EventEnvelope.fromPartial({
      id: 'e-1',
      type: eventTypeName.TransferCreated,
      time: new Date('2025-01-02T03:04:05.678Z'),
      schemaVersion: 1,
      data: paymentsV1.TransferCreated.encode(transfer).finish(),
    });
    const decoded = commonV1.EventEnvelope.decode(commonV1.EventEnvelope.encode(envelope).finish());
    expect(decoded.time).toEqual(new Date('2025-01-02T03:04:05.678Z'));
    expect(paymentsV1.TransferCreated.decode(decoded.data).transfer?.amount?.amountMinor).toBe(9_007_199_254_740_993n);
  });
});
