import { jvmArgs, newClusterId, serverProperties } from './kafka-runtime';

const props = (text: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('=') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

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
        security: {
          keystorePem: '/x/broker.pem',
          truststorePem: '/x/ca.crt',
          brokerPassword: 'pw',
          brokerPrincipal: 'kafka-broker',
          superUsers: ['kafka-broker', 'tessera-admin'],
        },
      }),
    );

  it('configures a combined KRaft node with every node as a voter', () => {
    const p = node(2, 3, 2);
    expect(p['process.roles']).toBe('broker,controller');
    expect(p['node.id']).toBe('2');
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097');
    expect(p['listeners']).toBe('SASL_SSL://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095');
    expect(p['advertised.listeners']).toBe('SASL_SSL://127.0.0.1:19094');
  });

  it('has no listener without authentication, and refuses what no ACL allows', () => {
    const p = node(1, 1, 1);
    expect(p['listener.security.protocol.map']).toBe('SASL_SSL:SASL_SSL,CONTROLLER:SSL');
    expect(p['listeners']).not.toMatch(/PLAINTEXT/);
    expect(p['listener.name.controller.ssl.client.auth']).toBe('required');
    expect(p['sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    expect(p['allow.everyone.if.no.acl.found']).toBe('false');
    expect(p['super.users']).toBe('User:kafka-broker;User:tessera-admin');
    expect(p['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config']).toContain('username="kafka-broker" password="pw";');
  });

  it('replicates internal topics like application topics (3 and min ISR 2 in the 3-broker layout)', () => {
    const p = node(1, 3, 2);
    expect([
      p['offsets.topic.replication.factor'],
      p['transaction.state.log.replication.factor'],
      p['transaction.state.log.min.isr'],
      p['min.insync.replicas'],
    ]).toEqual(['3', '3', '2', '2']);
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
