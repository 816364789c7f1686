import { parsePortList } from './proc';
import { allListenPorts, loadTopology } from './topology';

describe('parsePortList (net.ipv4.ip_local_reserved_ports)', () => {
  it('reads single ports and ranges, ignoring blanks', () => {
    expect([...parsePortList('8080,50051-50053, 55432\n')]).toEqual([8080, 50051, 50052, 50053, 55432]);
    expect(parsePortList('').size).toBe(0);
  });
});

describe('allListenPorts', () => {
  it('holds every listener of every layout, the ephemeral-range ones included', () => {
    const ports = allListenPorts(loadTopology());
    // 50052 (compliance) and 55432 (PostgreSQL) lie in Linux's default ephemeral range 32768-60999: the ports
    // `up` reserves so an outgoing connection cannot take them (a CI run failed on exactly that).
    expect(ports).toEqual(expect.arrayContaining([50051, 50052, 50053, 50054, 55432, 8080]));
    expect(new Set(ports).size).toBe(ports.length);
  });
});
