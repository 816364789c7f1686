import { jvmArgs, newClusterId, serverProperties } from './kafka-runtime';

const props = (text: string) => Object.fromEntries(text.split('\n').filter((l) => l.includes('=') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('serverProperties', () => {
  const node = (nodeId: number, replicationFactor: number, minInsyncReplicas: number) =>
    props(
      serverProperties({
        nodeId,
        host: '127.0.0.1',
        port: 19092 + (nodeId - 1) * 2,
        controllerPort: 19093 + (nodeId - 1) * 2,
        voters: [1, 2, 3].map((id) => ({ id, controllerPort: 19093 + (id - 1) * 2 })),
        dataDir: `/x/node-${nodeId}/data`,
        replicationFactor,
        minInsyncReplicas,
      }),
    );

  it('configures a combined KRaft node with every node as a voter', () => {
    const p = node(2, 3, 2);
    expect(p['process.roles']).toBe('broker,controller');
    expect(p['node.id']).toBe('2');
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097');
    expect(p['listeners']).toBe('PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095');
    expect(p['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:19094');
  });

  it('replicates internal topics like application topics (3 and min ISR 2 in the 3-broker layout)', () => {
    const p = node(1, 3, 2);
    expect([p['offsets.topic.replication.factor'], p['transaction.state.log.replication.factor'], p['transaction.state.log.min.isr'], p['min.insync.replicas']]).toEqual(['3', '3', '2', '2']);
  });

  it('disables topic auto-creation so only declared topics exist', () => {
    expect(node(1, 1, 1)['auto.create.topics.enable']).toBe('false');
  });
});

describe('jvmArgs', () => {
  it('pins the heap to the topology size', () => {
    expect(jvmArgs(448, '/logs')).toEqual(expect.arrayContaining(['-Xms448m', '-Xmx448m', '-Dkafka.logs.dir=/logs']));
  });
});

describe('newClusterId', () => {
  it('returns 22 base64url characters and never a leading dash', () => {
    const bytes = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0x01)]; // 0xfb... encodes to "-..."
    const id = newClusterId(() => bytes.shift()!);
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
  });
});
