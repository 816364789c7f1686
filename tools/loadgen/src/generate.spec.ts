import { EventGenerator, generateEvents, MALFORMATIONS, tenantIds } from './generate';

const START = Date.parse('2030-01-01T00:00:00Z');

describe('generateEvents', () => {
  it('is deterministic for a seed and start time', () => {
    const options = { seed: 42, tenants: 3, late: 0.05, duplicates: 0.02, malformed: 0.01, startTime: START, count: 500 };
    expect(generateEvents(options)).toEqual(generateEvents(options));
    expect(generateEvents({ ...options, seed: 43 })).not.toEqual(generateEvents(options));
  });

  it('produces the requested shares of late, duplicate and malformed events', () => {
    const events = generateEvents({ seed: 9, tenants: 3, late: 0.05, duplicates: 0.02, malformed: 0.01, startTime: START, count: 50_000 });
    const share = (kind: string) => events.filter((e) => e.kind === kind).length / events.length;
    expect(share('late')).toBeCloseTo(0.05, 2);
    expect(share('duplicate')).toBeCloseTo(0.02, 2);
    expect(share('malformed')).toBeCloseTo(0.01, 2);
  });

  it('spaces event times by 1/rate and puts late events 10-120 s behind', () => {
    const events = generateEvents({ seed: 5, late: 0.2, startTime: START, rate: 200, count: 2000 });
    events.forEach((e, i) => {
      const scheduled = START + (i * 1000) / 200;
      const time = Date.parse(e.event.occurredAt);
      if (e.kind === 'valid') expect(Math.abs(time - scheduled)).toBeLessThanOrEqual(1);
      if (e.kind === 'late') {
        expect(scheduled - time).toBeGreaterThanOrEqual(10_000 - 1);
        expect(scheduled - time).toBeLessThanOrEqual(120_000 + 1);
      }
    });
    expect(events.some((e) => e.kind === 'late')).toBe(true);
  });

  it('repeats an earlier event exactly as a duplicate (same id and payload)', () => {
    const events = generateEvents({ seed: 11, duplicates: 0.1, startTime: START, count: 2000 });
    const byId = new Map(events.filter((e) => e.kind !== 'duplicate').map((e) => [e.event.eventId, e]));
    const duplicates = events.filter((e) => e.kind === 'duplicate');
    expect(duplicates.length).toBeGreaterThan(100);
    for (const dup of duplicates) {
      const original = byId.get(dup.event.eventId);
      expect(original).toBeDefined();
      expect(dup.event).toEqual(original!.event);
      expect(dup.tenant).toBe(original!.tenant);
    }
    // apart from duplicates, ids are unique
    expect(byId.size).toBe(events.length - duplicates.length);
  });

  it('breaks exactly one rule in each malformed event, covering every malformation', () => {
    const events = generateEvents({ seed: 13, malformed: 0.5, startTime: START, count: 2000 });
    const malformed = events.filter((e) => e.kind === 'malformed');
    expect(new Set(malformed.map((e) => e.malformation))).toEqual(new Set(MALFORMATIONS));
    for (const e of malformed) {
      const { event } = e;
      const broken = [
        event.tenantId === '',
        event.eventId === '',
        !/^[a-z][a-z0-9._-]*$/.test(event.eventType),
        Math.abs(Date.parse(event.occurredAt) - START) > 86_400_000,
        JSON.stringify(event.attributes).length > 10_000,
        typeof event.value !== 'number',
      ];
      expect(broken.filter(Boolean)).toHaveLength(1);
    }
    for (const e of events.filter((x) => x.kind === 'valid')) {
      expect(e.event.tenantId).toBe(e.tenant);
      expect(e.event.eventType).toMatch(/^[a-z][a-z0-9._-]*$/);
      expect(typeof e.event.value).toBe('number');
    }
  });

  it('skews users: the top 1% of 10 000 users make a large share of events', () => {
    const events = generateEvents({ seed: 17, skew: 1.2, startTime: START, count: 20_000 });
    const perUser = new Map<string, number>();
    for (const e of events) perUser.set(e.event.attributes['user_id']!, (perUser.get(e.event.attributes['user_id']!) ?? 0) + 1);
    const top = [...perUser.values()]
      .sort((a, b) => b - a)
      .slice(0, 100)
      .reduce((a, b) => a + b, 0);
    expect(top / events.length).toBeGreaterThan(0.5);
    const uniform = generateEvents({ seed: 17, skew: 0, startTime: START, count: 20_000 });
    const uniformUsers = new Set(uniform.map((e) => e.event.attributes['user_id'])).size;
    expect(uniformUsers).toBeGreaterThan(perUser.size);
  });

  it('gives each user one stable country and plan', () => {
    const events = generateEvents({ seed: 19, startTime: START, count: 5000 });
    const traits = new Map<string, string>();
    for (const e of events) {
      const { user_id, country, plan } = e.event.attributes;
      const t = `${country}/${plan}`;
      expect(traits.get(user_id!) ?? t).toBe(t);
      traits.set(user_id!, t);
    }
  });

  it('spreads traffic over tenants with the skew, most to the first', () => {
    const events = generateEvents({ seed: 23, tenants: 3, startTime: START, count: 10_000 });
    const counts = ['demo', 'acme', 'globex'].map((t) => events.filter((e) => e.tenant === t).length);
    expect(counts[0]).toBeGreaterThan(counts[1]!);
    expect(counts[1]).toBeGreaterThan(counts[2]!);
    expect(counts[2]).toBeGreaterThan(0);
  });
});

describe('EventGenerator', () => {
  it('rejects shares outside [0, 1] or summing above 1', () => {
    expect(() => new EventGenerator({ late: 1.5 })).toThrow(RangeError);
    expect(() => new EventGenerator({ late: 0.6, malformed: 0.6 })).toThrow(/must not exceed 1/);
  });
});

describe('tenantIds', () => {
  it('names tenants demo, acme, ... or takes explicit ids', () => {
    expect(tenantIds(3)).toEqual(['demo', 'acme', 'globex']);
    expect(tenantIds(['a', 'b'])).toEqual(['a', 'b']);
    expect(tenantIds(10)[9]).toBe('tenant-10');
    expect(() => tenantIds(0)).toThrow(RangeError);
  });
});
