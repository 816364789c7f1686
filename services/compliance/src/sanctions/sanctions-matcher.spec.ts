import path from 'node:path';
import { jaroWinkler } from './jaro-winkler';
import { normalizeName } from './name-normalizer';
import { loadSanctionsFile, parseSanctionsCsv } from './sanctions-list';
import { nameSimilarity, SanctionsMatcher, sortedJoin } from './sanctions-matcher';
import type { NormalizedName } from './name-normalizer';

const matcher = new SanctionsMatcher(loadSanctionsFile(path.resolve(__dirname, '../../rules/sanctions.sample.csv')));
const DECLINE = 0.95;
const REVIEW = 0.9;

describe('jaroWinkler', () => {
  it('gives the textbook values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('abc', 'abc')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('', 'abc')).toBe(0);
  });
});

describe('normalizeName', () => {
  it('folds scripts, diacritics and romanisation variants onto one skeleton', () => {
    expect(normalizeName('Александр Волконов').skeletons).toEqual(normalizeName('Alexander Volkonov').skeletons);
    expect(normalizeName('Mohammed').skeletons).toEqual(normalizeName('Muhammad').skeletons);
    expect(normalizeName('Yusuf Öztürk').tokens).toEqual(['yusuf', 'ozturk']);
    expect(normalizeName('Schtschukin').skeletons).toEqual(normalizeName('Shchukin').skeletons);
  });

  it('drops particles and legal forms', () => {
    expect(normalizeName('Abdullah al-Rashidi').tokens).toEqual(['abdullah', 'rashidi']);
    expect(normalizeName('Golden Crescent Trading LLC').tokens).toEqual(['golden', 'crescent', 'trading']);
  });
});

describe('parseSanctionsCsv', () => {
  it('reads aliases and quoted fields', () => {
    const [entry] = parseSanctionsCsv('id,list,entity_type,primary_name,aliases,country,program\nX-1,L,entity,"Acme, Ltd",A1|A2,DE,P');
    expect(entry).toEqual({ id: 'X-1', list: 'L', entityType: 'entity', names: ['Acme, Ltd', 'A1', 'A2'], country: 'DE', program: 'P' });
  });

  it('refuses a malformed line', () => {
    expect(() => parseSanctionsCsv('id,list,entity_type,primary_name,aliases,country,program\nX-1,L,robot,N,,DE,P')).toThrow('line 2');
  });
});

describe('SanctionsMatcher', () => {
  it('loads the sample list with every alias', () => {
    expect(matcher.size).toBeGreaterThan(120);
  });

  describe('bestMatch', () => {
    it.each([
      ['Volkonov Aleksandr', 'TSL-0001', 'word order'],
      ['Александр Волконов', 'TSL-0001', 'Cyrillic'],
      ['Alexandr Volkonov', 'TSL-0001', 'Aleksandr/Alexander'],
      ['Muhammad Haddad', 'TSL-0002', 'Mohammed/Muhammad, name parts omitted'],
      ['Haddad Mohammed Abdelkarim', 'TSL-0002', 'merged tokens and word order'],
      ['KRUTOV, Yevgeniy Sergeevich', 'TSL-0003', 'case, punctuation, Ye/E'],
      ['Dmitry Zhukovsky', 'TSL-0008', 'y/ii endings'],
      ['Schukin Arkady', 'TSL-0032', 'German romanisation'],
      ['Bjorn Lindqvist', 'TSL-0021', 'diacritics stripped'],
      ['Yusuf Ozturk', 'TSL-0024', 'Turkish diacritics'],
      ['Golden Crescent Trading', 'TSL-0007', 'entity without legal form'],
      ['Ruslan Jabrailov', 'TSL-0023', 'Dzh/J'],
      ['Νικόλαος Παπαδημητρίου-Βλάχος', 'TSL-0010', 'Greek'],
      ['عبد الله يوسف الراشدي', 'TSL-0012', 'Arabic script'],
    ])('declines-level hit for %s (%s: %s)', (query, entryId) => {
      const hit = matcher.bestMatch(query);
      expect(hit?.entryId).toBe(entryId);
      expect(hit?.score).toBeGreaterThanOrEqual(DECLINE);
    });

    it.each([
      'Anna Schmidt',
      'John Smith',
      'Maria Garcia Lopez',
      'Mohammed Ali',
      'Volkov Sergei',
      'Acme Trading LLC',
      'Ivan Ivanov',
      'Tatiana Morozova',
      'Omar Hassan',
      'Dmitri Volkov',
      'Zoran Petrovic',
      'Alexander Petrov',
    ])('does not flag the unrelated name %s', (query) => {
      expect(matcher.bestMatch(query)?.score ?? 0).toBeLessThan(REVIEW);
    });

    it('treats a partial name as a review-level, not a decline-level, hit', () => {
      const hit = matcher.bestMatch('Jose Luis Cardenas');
      expect(hit?.entryId).toBe('TSL-0009');
      expect(hit?.score).toBeGreaterThanOrEqual(REVIEW);
      expect(hit?.score).toBeLessThan(DECLINE);
    });

    it('returns nothing for an empty or symbol-only name', () => {
      expect(matcher.bestMatch('  -- ')).toBeUndefined();
    });
  });

  describe('speed-ups keep every result', () => {
    // The first version, kept as the reference: every pair as an object, a stable sort, two Sets (issue #10).
    function referenceSimilarity(query: NormalizedName, alias: NormalizedName): number {
      const tokenSim = (a: string, skA: string, b: string, skB: string) => {
        const spelled = jaroWinkler(a, b);
        if (spelled === 1) return 1;
        const sk = skA.length >= 2 && skB.length >= 2 ? jaroWinkler(skA, skB) * 0.96 : 0;
        return Math.max(spelled, sk);
      };
      const q = query.tokens;
      const a = alias.tokens;
      if (q.length === 0 || a.length === 0) return 0;
      const pairs: Array<{ i: number; j: number; s: number }> = [];
      for (let i = 0; i < q.length; i++)
        for (let j = 0; j < a.length; j++)
          pairs.push({ i, j, s: tokenSim(q[i] ?? '', query.skeletons[i] ?? '', a[j] ?? '', alias.skeletons[j] ?? '') });
      pairs.sort((x, y) => y.s - x.s);
      const usedQ = new Set<number>();
      const usedA = new Set<number>();
      let weighted = 0;
      let weights = 0;
      for (const p of pairs) {
        if (usedQ.has(p.i) || usedA.has(p.j)) continue;
        usedQ.add(p.i);
        usedA.add(p.j);
        const w = Math.max(q[p.i]?.length ?? 0, a[p.j]?.length ?? 0);
        weighted += p.s * w;
        weights += w;
      }
      const free = a.length >= 3 && usedA.has(0) && usedA.has(a.length - 1) ? 1 : 0;
      const penalty = 0.08 * Math.max(0, a.length - usedQ.size - free) + 0.04 * (q.length - usedQ.size);
      const joinedQ = [...query.skeletons].sort().join('');
      const joined = q.length !== a.length ? jaroWinkler(joinedQ, sortedJoin(alias)) - 0.04 : 0;
      return Math.max(0, Math.min(1, Math.max(weighted / weights - penalty, joined)));
    }

    const entries = loadSanctionsFile(path.resolve(__dirname, '../../rules/sanctions.sample.csv'));
    const aliases = entries.flatMap((e) => e.names.map((raw, aliasIndex) => ({ e, aliasIndex, name: normalizeName(raw), raw })));
    const first = ['Anna', 'Jonas', 'Mohammed', 'Aleksandr', 'Jose Luis', 'Kim', 'Dmitry', 'Abdel'];
    const last = ['Müller', 'Lange', 'Volkonov', 'Haddad', 'Cardenas', 'Chol Ryong', 'Zhukovsky', 'Karim Haddad'];
    // Generated names, every alias itself and every fourth alias with its words reversed: near misses, exact hits, the rest.
    const queries = [
      ...first.flatMap((f) => last.map((l) => `${f} ${l}`)),
      ...aliases.map((a) => a.raw),
      ...aliases.filter((_, k) => k % 4 === 0).map((a) => a.raw.split(/\s+/).reverse().join(' ')),
    ];

    // Reference scores of every query against every alias, computed once for both tests (~35,000 pairs).
    let reference: number[][] = [];
    beforeAll(() => {
      reference = queries.map((raw) => {
        const query = normalizeName(raw);
        return aliases.map((a) => referenceSimilarity(query, a.name));
      });
    });

    it('nameSimilarity equals the reference for every query and alias', () => {
      const differing: string[] = [];
      queries.forEach((raw, n) => {
        const query = normalizeName(raw);
        aliases.forEach((alias, k) => {
          if (nameSimilarity(query, alias.name) !== reference[n]![k]) differing.push(`${raw} ~ ${alias.raw}`);
        });
      });
      expect(differing).toEqual([]);
      expect(queries.length * aliases.length).toBeGreaterThan(30_000);
    });

    it('bestMatch (bound-pruned, cached) returns what a full scan with the reference returns, at every threshold', () => {
      const fresh = new SanctionsMatcher(entries, 50); // a small cache: hits, misses and evictions all happen
      const differing: unknown[] = [];
      let hits = 0;
      const order = [...queries.keys(), ...queries.keys()].slice(0, queries.length + 40); // the first 40 twice
      for (const n of order) {
        const raw = queries[n]!;
        const scores = normalizeName(raw).tokens.length === 0 ? [] : reference[n]!;
        for (const minScore of [0, 0.5, REVIEW, DECLINE]) {
          let want: { entryId: string; program: string; aliasIndex: number; score: number } | undefined;
          scores.forEach((score, k) => {
            const a = aliases[k]!;
            if (score >= minScore && (!want || score > want.score))
              want = { entryId: a.e.id, program: a.e.program, aliasIndex: a.aliasIndex, score };
          });
          const got = fresh.bestMatch(raw, minScore);
          if (JSON.stringify(got) !== JSON.stringify(want)) differing.push({ raw, minScore, got, want });
          if (want && want.score >= REVIEW) hits++;
        }
      }
      expect(differing).toEqual([]);
      expect(hits).toBeGreaterThan(100); // the comparison covered real hits, not only misses
    });

    it('hands out copies: a caller changing a result does not change the next answer', () => {
      const first = matcher.bestMatch('Volkonov Aleksandr');
      (first as { score: number }).score = 0;
      expect(matcher.bestMatch('Volkonov Aleksandr')?.score).toBeGreaterThanOrEqual(DECLINE);
    });
  });
});
