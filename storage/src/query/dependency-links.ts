/**
 * Dependency links as zipkin reads them from `zipkin*dependency-*`: `_source` fields parent,
 * child, callCount, errorCount (others ignored, names lower-cased), merged by (parent, child)
 * with counts summed in first-seen order (DependencyLinker.merge). The API's encoding of them
 * is ui-proxy's (zipkin-json.ts).
 */
import type { DependencyLink } from '@pintrace/model';
import { hitSources } from './search-results.js';

function count(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** Reads link documents from a search response; documents without parent or child are skipped. */
export function parseDependencyHits(body: unknown): DependencyLink[] {
  const out: DependencyLink[] = [];
  for (const source of hitSources(body)) {
    if (typeof source.parent !== 'string' || typeof source.child !== 'string') continue;
    out.push({
      parent: source.parent.toLowerCase(),
      child: source.child.toLowerCase(),
      callCount: count(source.callCount),
      errorCount: count(source.errorCount),
    });
  }
  return out;
}

/** Sums links per (parent, child), keeping first-seen order. */
export function mergeDependencyLinks(links: readonly DependencyLink[]): DependencyLink[] {
  const merged = new Map<string, DependencyLink>();
  for (const link of links) {
    const key = `${link.parent}\u0000${link.child}`;
    const seen = merged.get(key);
    if (seen === undefined) merged.set(key, { ...link });
    else {
      seen.callCount += link.callCount;
      seen.errorCount += link.errorCount;
    }
  }
  return [...merged.values()];
}
