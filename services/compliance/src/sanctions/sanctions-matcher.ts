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

interface IndexedAlias {
  entry: SanctionsEntry;
  aliasIndex: number;
  name: NormalizedName;
  sortedJoined: string;
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

/**
 * Word-order-free name similarity: query tokens are paired greedily with alias tokens by best token
 * similarity (so "Volkonov Aleksandr" = "Aleksandr Volkonov"), averaged by token length, then penalised for
 * unpaired tokens. A token-sort comparison of the joined names catches split/merged tokens
 * ("Abdel Karim" vs "Abdelkarim"); the higher of the two wins.
 */
export function nameSimilarity(query: NormalizedName, alias: NormalizedName, aliasSortedJoined = sortedJoin(alias)): number {
  const q = query.tokens;
  const a = alias.tokens;
  if (q.length === 0 || a.length === 0) return 0;
  const pairs: Array<{ i: number; j: number; s: number }> = [];
  for (let i = 0; i < q.length; i++) {
    for (let j = 0; j < a.length; j++) {
      pairs.push({ i, j, s: tokenSimilarity(q[i] ?? '', query.skeletons[i] ?? '', a[j] ?? '', alias.skeletons[j] ?? '') });
    }
  }
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
  const paired = usedQ.size;
  const missingAlias = a.length - paired;
  const free = a.length >= 3 && usedA.has(0) && usedA.has(a.length - 1) ? FREE_MISSING_ALIAS_TOKENS : 0;
  const penalty = MISSING_ALIAS_TOKEN_PENALTY * Math.max(0, missingAlias - free) + EXTRA_QUERY_TOKEN_PENALTY * (q.length - paired);
  const aligned = weighted / weights - penalty;
  // Whole-name comparison only when token counts differ (split/merged words); it would otherwise reward near-misses twice.
  const joined = q.length !== a.length ? jaroWinkler(sortedJoin(query), aliasSortedJoined) - EXTRA_QUERY_TOKEN_PENALTY : 0;
  return Math.max(0, Math.min(1, Math.max(aligned, joined)));
}

function sortedJoin(name: NormalizedName): string {
  return [...name.skeletons].sort().join('');
}

/**
 * Screens names against a sanctions list. Every alias (any script) is normalised once at construction, so a
 * query costs one normalisation plus a token comparison per alias (~150 aliases: tens of microseconds).
 */
export class SanctionsMatcher {
  private readonly aliases: IndexedAlias[];

  constructor(entries: SanctionsEntry[]) {
    this.aliases = entries.flatMap((entry) =>
      entry.names.map((raw, aliasIndex) => {
        const name = normalizeName(raw);
        return { entry, aliasIndex, name, sortedJoined: sortedJoin(name) };
      }),
    );
  }

  get size(): number {
    return this.aliases.length;
  }

  /** The best-scoring alias at or above `minScore`, or undefined. */
  bestMatch(rawName: string, minScore = 0): SanctionsHit | undefined {
    const query = normalizeName(rawName);
    if (query.tokens.length === 0) return undefined;
    let best: SanctionsHit | undefined;
    for (const alias of this.aliases) {
      const score = nameSimilarity(query, alias.name, alias.sortedJoined);
      if (score >= minScore && (!best || score > best.score)) {
        best = { entryId: alias.entry.id, program: alias.entry.program, aliasIndex: alias.aliasIndex, score };
      }
    }
    return best;
  }
}
