/**
 * FinagleIssue343Adjuster (pinterest-design §1.4; twitter/finagle#343): the Finagle memcached
 * client submitted a span twice, and the extra "finagle.flush" annotation stretched its
 * duration. A span with an annotation exactly "finagle.flush" and a tag whose value is exactly
 * "Hit" or "Miss" (a memcache span) loses every "finagle.flush" annotation; nothing else changes.
 * Opt-in, as upstream (`adjust-issue343`, default false).
 */
import type { Span } from '@pintrace/model';
import type { SpanAdjuster } from './span-adjuster.js';

const FLUSH = 'finagle.flush';

export class FinagleIssue343Adjuster implements SpanAdjuster {
  readonly name = 'finagle_issue343';

  shouldAdjust(span: Span): boolean {
    if (span.annotations === undefined || span.tags === undefined) return false;
    if (!span.annotations.some((a) => a.value === FLUSH)) return false;
    return Object.values(span.tags).some((v) => v === 'Hit' || v === 'Miss');
  }

  adjust(span: Span): Span {
    const annotations = (span.annotations ?? []).filter((a) => a.value !== FLUSH);
    const out: Span = { ...span, annotations };
    if (annotations.length === 0) delete out.annotations;
    return out;
  }
}
