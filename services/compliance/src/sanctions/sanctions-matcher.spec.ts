import path from 'node:path';
import { jaroWinkler } from './jaro-winkler';
import { normalizeName } from './name-normalizer';
import { loadSanctionsFile, parseSanctionsCsv } from './sanctions-list';
import { SanctionsMatcher } from './sanctions-matcher';

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

    it.each(['Anna Schmidt', 'John Smith', 'Maria Garcia Lopez', 'Mohammed Ali', 'Volkov Sergei', 'Acme Trading LLC', 'Ivan Ivanov', 'Tatiana Morozova', 'Omar Hassan', 'Dmitri Volkov', 'Zoran Petrovic', 'Alexander Petrov'])(
      'does not flag the unrelated name %s',
      (query) => {
        expect(matcher.bestMatch(query)?.score ?? 0).toBeLessThan(REVIEW);
      },
    );

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
});
