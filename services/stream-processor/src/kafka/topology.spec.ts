import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { streamProcessorConfigSchema } from '../config';
import { ChangelogLayout } from './changelog.store';

interface Topology {
  topics: Array<{ name: string; partitions: number; cleanupPolicy: string }>;
  services: Array<{ name: string; produces: string[]; consumes: string[] }>;
}

/** infra/topology.yaml must declare the topics the processor creates and checks at start, with matching partitions. */
describe('infra/topology.yaml for the stream processor', () => {
  const topology = parse(readFileSync(join(__dirname, '../../../../infra/topology.yaml'), 'utf8')) as Topology;
  const config = streamProcessorConfigSchema.parse({});
  const topic = (name: string) => topology.topics.find((t) => t.name === name);
  const service = topology.services.find((s) => s.name === 'stream-processor');

  it('sizes the compacted changelog as one partition per stateful input partition', () => {
    const layout = new ChangelogLayout(
      [config.STREAM_PROCESSOR_RAW_TOPIC, config.STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC].map((name) => ({
        topic: name,
        partitions: topic(name)?.partitions ?? 0,
      })),
    );
    expect(topic(config.STREAM_PROCESSOR_CHANGELOG_TOPIC)).toMatchObject({ partitions: layout.partitions, cleanupPolicy: 'compact' });
    expect(topic(config.STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC)?.partitions).toBe(1);
  });

  it('lists every topic the processor reads and writes', () => {
    expect(service?.consumes).toEqual(
      expect.arrayContaining([
        config.STREAM_PROCESSOR_RAW_TOPIC,
        config.STREAM_PROCESSOR_PAYMENTS_TOPIC,
        config.STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC,
      ]),
    );
    expect(service?.produces).toEqual(
      expect.arrayContaining([
        config.STREAM_PROCESSOR_AGGREGATES_TOPIC,
        config.STREAM_PROCESSOR_DLQ_TOPIC,
        config.STREAM_PROCESSOR_CHANGELOG_TOPIC,
        config.STREAM_PROCESSOR_PAYMENTS_REPARTITION_TOPIC,
      ]),
    );
  });
});
