import { transliterate } from 'transliteration';

/** A name reduced for matching: latin tokens, and the same tokens as a transliteration-proof skeleton. */
export interface NormalizedName {
  /** Lowercase ASCII tokens, particles and legal-form suffixes removed, in original order. */
  tokens: string[];
  /** Per token: spelling variants folded (kh→h, x→ks, y→i, doubled letters, …) then vowels after the first letter dropped. */
  skeletons: string[];
}

/** Arabic articles/particles and legal forms: they carry no identity and differ between lists. */
const STOP_TOKENS = new Set([
  'al',
  'el',
  'ul',
  'ad',
  'ash',
  'as',
  'bin',
  'ibn',
  'ben',
  'bint',
  'abu',
  'llc',
  'ltd',
  'limited',
  'inc',
  'co',
  'company',
  'corp',
  'plc',
  'gmbh',
  'ag',
  'sa',
  'fze',
  'ojsc',
  'oao',
  'zao',
  'jsc',
  'pjsc',
  'ooo',
]);

/**
 * Folds the common ways one name is romanised (Russian/Ukrainian/Arabic/German conventions) onto one spelling.
 * Order matters: longer clusters first.
 */
const FOLDS: Array<[RegExp, string]> = [
  [/schtsch|shch|sch/g, 'sh'],
  [/tsch|tch/g, 'ch'],
  [/dzh|dj/g, 'j'],
  [/zh/g, 'j'],
  [/kh/g, 'h'],
  [/gh/g, 'g'],
  [/ph/g, 'f'],
  [/th/g, 't'],
  [/ck/g, 'k'],
  [/q/g, 'k'],
  [/x/g, 'ks'],
  [/w/g, 'v'],
  [/tz|ts/g, 'c'],
  [/z/g, 's'],
  [/oe/g, 'o'],
  [/ue/g, 'u'],
  [/ou|oo/g, 'u'],
  [/ee/g, 'i'],
  [/^ye/g, 'e'],
  [/^yu/g, 'iu'],
  [/y/g, 'i'],
  [/(.)\1+/g, '$1'],
];

function fold(token: string): string {
  let out = token;
  for (const [pattern, replacement] of FOLDS) out = out.replace(pattern, replacement);
  return out;
}

/** Consonant skeleton: first letter kept, later vowels dropped (Mohammed, Muhammad, Mohamed → mhmd). */
function skeleton(folded: string): string {
  if (folded.length <= 2) return folded;
  return (
    (folded[0] ?? '') +
    folded
      .slice(1)
      .replace(/[aeiou]/g, '')
      .replace(/(.)\1+/g, '$1')
  );
}

/** Normalises a name in any script for fuzzy comparison. Pure and deterministic; never logs its input. */
export function normalizeName(raw: string): NormalizedName {
  const latin = transliterate(raw.normalize('NFKC'))
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  const tokens = latin.split(/[^a-z0-9]+/).filter((t) => t.length > 0 && !STOP_TOKENS.has(t));
  return { tokens, skeletons: tokens.map((t) => skeleton(fold(t))) };
}
