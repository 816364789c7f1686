import { jaroWinkler } from './jaro-winkler';
import { normalizeName, type NormalizedName } from './name-normalizer';
import type { SanctionsEntry } from './sanctions-list';

/** The best hit for a screened name; `aliasIndex` points into the entry's names (no name is copied out). */
export interface SanctionsHit {
  entryId: string;
  program: string;
  aliasIndex: number;
  /** 0..1, 1 = same name after normalisation. */
  score: number;
}

interface IndexedAlias extends BoundedName {
  entry: SanctionsEntry;
  aliasIndex: number;
}

/** Middle alias tokens the query may omit for free (patronymics, middle names) when it matched the first and last. */
const FREE_MISSING_ALIAS_TOKENS = 1;
const MISSING_ALIAS_TOKEN_PENALTY = 0.08;
const EXTRA_QUERY_TOKEN_PENALTY = 0.04;
/** A skeleton-only agreement counts a little less than a spelling agreement. */
const SKELETON_WEIGHT = 0.96;

/** Similarity of two tokens: spelling (Jaro-Winkler) or transliteration-folded skeleton, whichever is higher. */
export function tokenSimilarity(a: string, skA: string, b: string, skB: string): number {
  const spelled = jaroWinkler(a, b);
  if (spelled === 1) return 1;
  const sk = skA.length >= 2 && skB.length >= 2 ? jaroWinkler(skA, skB) * SKELETON_WEIGHT : 0;
  return Math.max(spelled, sk);
}

/** Scratch for nameSimilarity: the token-pair similarity matrix and the paired flags (no allocation per alias). */
let sims = new Float64Array(64);
let usedQ = new Uint8Array(16);
let usedA = new Uint8Array(16);

/**
 * Word-order-free name similarity: query tokens are paired greedily with alias tokens by best token
 * similarity (so "Volkonov Aleksandr" = "Aleksandr Volkonov"), averaged by token length, then penalised for
 * unpaired tokens. A token-sort comparison of the joined names catches split/merged tokens
 * ("Abdel Karim" vs "Abdelkarim"); the higher of the two wins.
 *
 * Greedy pairing = repeatedly the most similar pair of two unpaired tokens, ties to the earlier (query token, alias
 * token) pair: the same pairs, in the same order, as sorting all pairs by similarity (stable) and scanning them, which
 * the first version did with an object per pair, a sort and two Sets per alias (the reference in the spec).
 */
export function nameSimilarity(
  query: NormalizedName,
  alias: NormalizedName,
  aliasSortedJoined = sortedJoin(alias),
  querySortedJoined?: string,
): number {
  const q = query.tokens;
  const a = alias.tokens;
  const nq = q.length;
  const na = a.length;
  if (nq === 0 || na === 0) return 0;
  if (nq * na > sims.length) sims = new Float64Array(nq * na * 2);
  if (nq > usedQ.length) usedQ = new Uint8Array(nq * 2);
  if (na > usedA.length) usedA = new Uint8Array(na * 2);
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < na; j++)
      sims[i * na + j] = tokenSimilarity(q[i] ?? '', query.skeletons[i] ?? '', a[j] ?? '', alias.skeletons[j] ?? '');
  }
  usedQ.fill(0, 0, nq);
  usedA.fill(0, 0, na);
  let weighted = 0;
  let weights = 0;
  const rounds = Math.min(nq, na);
  for (let r = 0; r < rounds; r++) {
    let bi = -1;
    let bj = -1;
    let bs = -1;
    for (let i = 0; i < nq; i++) {
      if (usedQ[i]) continue;
      for (let j = 0; j < na; j++) {
        if (usedA[j]) continue;
        const v = sims[i * na + j] as number;
        if (v > bs) {
          bs = v;
          bi = i;
          bj = j;
        }
      }
    }
    usedQ[bi] = 1;
    usedA[bj] = 1;
    const w = Math.max(q[bi]?.length ?? 0, a[bj]?.length ?? 0);
    weighted += bs * w;
    weights += w;
  }
  const paired = rounds;
  const missingAlias = na - paired;
  const free = na >= 3 && usedA[0] && usedA[na - 1] ? FREE_MISSING_ALIAS_TOKENS : 0;
  const penalty = MISSING_ALIAS_TOKEN_PENALTY * Math.max(0, missingAlias - free) + EXTRA_QUERY_TOKEN_PENALTY * (nq - paired);
  const aligned = weighted / weights - penalty;
  // Whole-name comparison only when token counts differ (split/merged words); it would otherwise reward near-misses twice.
  const joined = nq !== na ? jaroWinkler(querySortedJoined ?? sortedJoin(query), aliasSortedJoined) - EXTRA_QUERY_TOKEN_PENALTY : 0;
  return Math.max(0, Math.min(1, Math.max(aligned, joined)));
}

export function sortedJoin(name: NormalizedName): string {
  return [...name.skeletons].sort().join('');
}

/** Character counts of a token over [a-z0-9] (what normalised tokens and skeletons are made of), and which are non-zero. */
interface Histogram {
  counts: Uint8Array;
  present: Uint8Array;
}

function histogram(token: string): Histogram {
  const counts = new Uint8Array(36);
  const present: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const k = c >= 97 && c <= 122 ? c - 97 : c >= 48 && c <= 57 ? 26 + c - 48 : -1;
    if (k < 0) continue;
    if (counts[k] === 0) present.push(k);
    if ((counts[k] as number) < 255) counts[k] = (counts[k] as number) + 1;
  }
  return { counts, present: Uint8Array.from(present) };
}

/**
 * An upper bound of jaroWinkler(a, b) from the characters the two share: Jaro matches m are at most the common
 * characters (multiset intersection), transpositions at least 0, and the Winkler boost at most the common prefix.
 */
function jaroWinklerBound(a: string, ha: Histogram, b: string, hb: Histogram): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  let m = 0;
  const present = ha.present;
  for (let x = 0; x < present.length; x++) {
    const k = present[x] as number;
    m += Math.min(ha.counts[k] as number, hb.counts[k] as number);
  }
  if (m === 0) return 0;
  const jaro = (m / la + m / lb + 1) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return Math.min(1, jaro + prefix * 0.1 * (1 - jaro));
}

/** Absorbs floating-point rounding (a weighted mean can exceed its largest term by an ulp): the bound never prunes a tie. */
const BOUND_SLACK = 1e-9;

/** A name with the histograms its bound needs, computed once (aliases at construction, a query per screening). */
interface BoundedName {
  name: NormalizedName;
  sortedJoined: string;
  tokenHist: Histogram[];
  skeletonHist: Histogram[];
  joinedHist: Histogram;
}

export function bounded(name: NormalizedName): BoundedName {
  const sortedJoined = sortedJoin(name);
  return {
    name,
    sortedJoined,
    tokenHist: name.tokens.map(histogram),
    skeletonHist: name.skeletons.map(histogram),
    joinedHist: histogram(sortedJoined),
  };
}

/**
 * An upper bound of nameSimilarity(query, alias): the aligned score is a weighted mean of paired token similarities
 * (at most the best pair's bound) minus a penalty that is at least the one for the token counts (min(q, a) pairs are
 * always formed; the free missing middle token assumed granted); the joined score is bounded like one token pair.
 */
export function similarityBound(q: BoundedName, a: BoundedName): number {
  const nq = q.name.tokens.length;
  const na = a.name.tokens.length;
  if (nq === 0 || na === 0) return 0;
  let best = 0;
  for (let i = 0; i < nq && best < 1; i++) {
    for (let j = 0; j < na && best < 1; j++) {
      const qt = q.name.tokens[i] as string;
      const at = a.name.tokens[j] as string;
      let b = jaroWinklerBound(qt, q.tokenHist[i] as Histogram, at, a.tokenHist[j] as Histogram);
      const qs = q.name.skeletons[i] as string;
      const as = a.name.skeletons[j] as string;
      if (qs.length >= 2 && as.length >= 2)
        b = Math.max(b, jaroWinklerBound(qs, q.skeletonHist[i] as Histogram, as, a.skeletonHist[j] as Histogram) * SKELETON_WEIGHT);
      if (b > best) best = b;
    }
  }
  const paired = Math.min(nq, na);
  const free = na >= 3 ? FREE_MISSING_ALIAS_TOKENS : 0;
  const penalty = MISSING_ALIAS_TOKEN_PENALTY * Math.max(0, na - paired - free) + EXTRA_QUERY_TOKEN_PENALTY * (nq - paired);
  const joined = nq !== na ? jaroWinklerBound(q.sortedJoined, q.joinedHist, a.sortedJoined, a.joinedHist) - EXTRA_QUERY_TOKEN_PENALTY : 0;
  return Math.min(1, Math.max(best - penalty, joined));
}

/** Screened names whose result is kept per matcher (one list version): ~1-2 MB at most. */
const RESULT_CACHE_SIZE = 10_000;

/**
 * Screens names against a sanctions list. Every alias (any script) is normalised once at construction, so a
 * query costs one normalisation plus a cheap bound per alias; only aliases whose bound reaches the threshold (0.3% of the
 * sample list for German holder names at 0.90) are compared in full. A cold screened name costs ~130-190 us against the
 * 144 sample aliases (the first version: ~710 us, every alias in full; issue #10).
 *
 * Results are cached per (name, minimum score), least recently used out first: a result depends only on the name and
 * this matcher's list, which never changes (a new list is a new matcher), and payments repeat counterparties (payroll,
 * rent, regular suppliers). A hit copies the cached result, so callers cannot alter it.
 */
export class SanctionsMatcher {
  private readonly aliases: IndexedAlias[];
  private readonly results = new Map<string, SanctionsHit | null>();

  constructor(
    entries: SanctionsEntry[],
    private readonly cacheSize = RESULT_CACHE_SIZE,
  ) {
    this.aliases = entries.flatMap((entry) =>
      entry.names.map((raw, aliasIndex) => ({ entry, aliasIndex, ...bounded(normalizeName(raw)) })),
    );
  }

  get size(): number {
    return this.aliases.length;
  }

  /** The best-scoring alias at or above `minScore`, or undefined. */
  bestMatch(rawName: string, minScore = 0): SanctionsHit | undefined {
    const key = `${minScore}\u0000${rawName}`;
    let hit = this.results.get(key);
    if (hit !== undefined) {
      this.results.delete(key); // re-inserted below: most recently used last
    } else {
      hit = this.compute(rawName, minScore) ?? null;
      if (this.results.size >= this.cacheSize) this.results.delete(this.results.keys().next().value as string);
    }
    if (this.cacheSize > 0) this.results.set(key, hit);
    return hit ? { ...hit } : undefined;
  }

  private compute(rawName: string, minScore: number): SanctionsHit | undefined {
    const query = bounded(normalizeName(rawName));
    if (query.name.tokens.length === 0) return undefined;
    let best: SanctionsHit | undefined;
    for (const alias of this.aliases) {
      // Aliases whose bound cannot reach minScore, or beat the best so far, are skipped: the same result, ~10x less work.
      const bound = similarityBound(query, alias) + BOUND_SLACK;
      if (bound < minScore || (best && bound <= best.score)) continue;
      const score = nameSimilarity(query.name, alias.name, alias.sortedJoined, query.sortedJoined);
      if (score >= minScore && (!best || score > best.score)) {
        best = { entryId: alias.entry.id, program: alias.entry.program, aliasIndex: alias.aliasIndex, score };
      }
    }
    return best;
  }
}
