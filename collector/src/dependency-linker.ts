/**
 * Dependency links of one trace, by the rules of zipkin's DependencyLinker (behaviour ported,
 * not code):
 *
 * 1. Clean the trace as zipkin's Trace.merge does: spans sharing an id, shared flag and a
 *    compatible local endpoint are merged; a SERVER span after a CLIENT span of the same id is
 *    marked shared; a shared span without parent inherits the client's parent.
 * 2. Build the tree as SpanNode does: a shared span's parent is the client span with its id; a
 *    span whose parent id names a shared span on its own endpoint hangs under that span; the
 *    first span without a parent is the root; spans whose parent is missing hang under the root
 *    (a synthetic one when no root exists).
 * 3. Walk breadth-first. A CLIENT span with children is skipped (the server side names the
 *    link). A span without kind counts as CLIENT when it has both service names, else skipped.
 *    SERVER/CONSUMER: parent = remote service, child = local service (the root needs a remote
 *    service). CLIENT/PRODUCER: parent = local, child = remote. Messaging spans link to the
 *    broker only when both names are known. Otherwise the nearest ancestor with a kind decides:
 *    a CLIENT whose service differs from that ancestor's gets an extra (ancestor → client
 *    service) link without error; SERVER spans (and spans lacking a parent name) take the
 *    ancestor's service as parent; a span whose parent id is that CLIENT ancestor inherits its
 *    error. Error = the `error` tag (an annotation named "error" is not an error).
 */
import type { DependencyLink, Endpoint, Span } from '@pintrace/model';

interface Node {
  span: Span | undefined;
  parent: Node | undefined;
  children: Node[];
}

const isShared = (s: Span) => s.shared === true;

function compareNullable(a: string | undefined, b: string | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cleanupOrder(a: Span, b: Span): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  const as = isShared(a);
  const bs = isShared(b);
  if (as !== bs) return as ? 1 : -1;
  if (!as) {
    const ac = a.kind === 'CLIENT';
    const bc = b.kind === 'CLIENT';
    if (ac !== bc) return ac ? -1 : 1;
  }
  const ea = a.localEndpoint;
  const eb = b.localEndpoint;
  if (ea === undefined || eb === undefined) return ea === eb ? 0 : ea === undefined ? -1 : 1;
  return compareNullable(ea.serviceName, eb.serviceName) || compareNullable(ea.ipv4, eb.ipv4) || compareNullable(ea.ipv6, eb.ipv6);
}

class EndpointTracker {
  private serviceName?: string;
  private ipv4?: string;
  private ipv6?: string;
  private port = 0;
  tryMerge(e: Endpoint | undefined): boolean {
    if (e === undefined) return true;
    if (this.serviceName !== undefined && e.serviceName !== undefined && this.serviceName !== e.serviceName) return false;
    if (this.ipv4 !== undefined && e.ipv4 !== undefined && this.ipv4 !== e.ipv4) return false;
    if (this.ipv6 !== undefined && e.ipv6 !== undefined && this.ipv6 !== e.ipv6) return false;
    if (this.port !== 0 && (e.port ?? 0) !== 0 && this.port !== e.port) return false;
    this.serviceName ??= e.serviceName;
    this.ipv4 ??= e.ipv4;
    this.ipv6 ??= e.ipv6;
    if (this.port === 0) this.port = e.port ?? 0;
    return true;
  }
}

function mergeEndpoint(a: Endpoint | undefined, b: Endpoint | undefined): Endpoint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { serviceName: a.serviceName ?? b.serviceName, ipv4: a.ipv4 ?? b.ipv4, ipv6: a.ipv6 ?? b.ipv6, port: a.port ?? b.port };
}

/** Fills what `a` lacks from `b` (the fields linking reads). */
function mergeSpan(a: Span, b: Span): Span {
  return {
    ...a,
    parentId: a.parentId ?? b.parentId,
    kind: a.kind ?? b.kind,
    name: a.name ?? b.name,
    localEndpoint: mergeEndpoint(a.localEndpoint, b.localEndpoint),
    remoteEndpoint: mergeEndpoint(a.remoteEndpoint, b.remoteEndpoint),
    tags: a.tags === undefined ? b.tags : b.tags === undefined ? a.tags : { ...b.tags, ...a.tags },
  };
}

/** Trace.merge's clean-up (see the file comment). */
export function mergeTrace(input: readonly Span[]): Span[] {
  if (input.length <= 1) return [...input];
  const sorted = [...input].sort(cleanupOrder);
  const out: Span[] = [];
  let last: Span | undefined;
  for (let i = 0; i < sorted.length; i++) {
    let span = sorted[i]!;
    const shared = isShared(span);
    let tracker: EndpointTracker | undefined;
    while (i + 1 < sorted.length && sorted[i + 1]!.id === span.id) {
      const next = sorted[i + 1]!;
      if (tracker === undefined) {
        tracker = new EndpointTracker();
        tracker.tryMerge(span.localEndpoint);
      }
      if (isShared(next) === shared && tracker.tryMerge(next.localEndpoint)) {
        span = mergeSpan(span, next);
        i++;
        continue;
      }
      break;
    }
    if (last !== undefined && last.id === span.id) {
      let nowShared = shared;
      if (last.kind === 'CLIENT' && span.kind === 'SERVER' && !shared) {
        nowShared = true;
        span = { ...span, shared: true };
      }
      if (nowShared && span.parentId === undefined && last.parentId !== undefined) span = { ...span, parentId: last.parentId };
    }
    out.push(span);
    last = span;
  }
  return out;
}

const sharedKey = (id: string, e: Endpoint | undefined) =>
  `${id}\u0000s\u0000${e ? `${e.serviceName ?? ''}\u0000${e.ipv4 ?? ''}\u0000${e.ipv6 ?? ''}\u0000${e.port ?? ''}` : '-'}`;
const keyOf = (id: string, shared: boolean, e: Endpoint | undefined) => (shared ? sharedKey(id, e) : id);

/** SpanNode.Builder's tree (see the file comment). */
export function buildTree(spans: readonly Span[]): Node {
  const cleaned = mergeTrace(spans);
  const spanToParent = new Map<string, string | undefined>();
  const keyToNode = new Map<string, Node>();
  let root: Node | undefined;
  for (const s of cleaned) {
    if (isShared(s)) spanToParent.set(sharedKey(s.id, s.localEndpoint), s.id);
    else spanToParent.set(s.id, s.parentId);
  }
  for (const s of cleaned) {
    const shared = isShared(s);
    const key = keyOf(s.id, shared, s.localEndpoint);
    const noEndpointKey = s.localEndpoint !== undefined ? keyOf(s.id, shared, undefined) : key;
    let parent: string | undefined;
    if (shared) {
      parent = s.id;
    } else if (s.parentId !== undefined) {
      const sharedParent = sharedKey(s.parentId, s.localEndpoint);
      if (spanToParent.has(sharedParent)) {
        parent = sharedParent;
        spanToParent.set(noEndpointKey, sharedParent);
      } else {
        parent = s.parentId;
      }
    }
    const node: Node = { span: s, parent: undefined, children: [] };
    if (parent === undefined && root === undefined) {
      root = node;
      spanToParent.delete(noEndpointKey);
    } else if (shared) {
      keyToNode.set(key, node);
      keyToNode.set(noEndpointKey, node);
    } else {
      keyToNode.set(noEndpointKey, node);
    }
  }
  root ??= { span: undefined, parent: undefined, children: [] };
  for (const [childKey, parentKey] of spanToParent) {
    const child = keyToNode.get(childKey);
    if (child === undefined) continue;
    const parent = parentKey === undefined ? undefined : keyToNode.get(parentKey);
    const owner = parent ?? root;
    if (owner === child) continue;
    owner.children.push(child);
    child.parent = owner;
  }
  return root;
}

function firstRemoteAncestor(node: Node): Span | undefined {
  for (let a = node.parent; a !== undefined; a = a.parent) {
    if (a.span !== undefined && a.span.kind !== undefined) return a.span;
  }
  return undefined;
}

const hasError = (s: Span) => s.tags !== undefined && Object.hasOwn(s.tags, 'error');

/** Adds the links of one trace (all spans share a trace ID) to `into`, keyed "parent|child". */
export function linkTrace(spans: readonly Span[], into: Map<string, DependencyLink> = new Map()): Map<string, DependencyLink> {
  if (spans.length === 0) return into;
  const add = (parent: string, child: string, error: boolean) => {
    const key = `${parent}|${child}`;
    let link = into.get(key);
    if (link === undefined) {
      link = { parent, child, callCount: 0, errorCount: 0 };
      into.set(key, link);
    }
    link.callCount += 1;
    if (error) link.errorCount += 1;
  };
  const root = buildTree(spans);
  const queue: Node[] = [root];
  for (let qi = 0; qi < queue.length; qi++) {
    const node = queue[qi]!;
    for (const c of node.children) queue.push(c);
    const span = node.span;
    if (span === undefined) continue;
    let kind = span.kind;
    if (kind === 'CLIENT' && node.children.length > 0) continue;
    const service = span.localEndpoint?.serviceName;
    const remote = span.remoteEndpoint?.serviceName;
    if (kind === undefined) {
      if (service !== undefined && remote !== undefined) kind = 'CLIENT';
      else continue;
    }
    let parent: string | undefined;
    let child: string | undefined;
    if (kind === 'SERVER' || kind === 'CONSUMER') {
      child = service;
      parent = remote;
      if (node === root && parent === undefined) continue;
    } else {
      parent = service;
      child = remote;
    }
    let error = hasError(span);
    if (kind === 'PRODUCER' || kind === 'CONSUMER') {
      if (parent !== undefined && child !== undefined) add(parent, child, error);
      continue;
    }
    const ancestor = firstRemoteAncestor(node);
    const ancestorName = ancestor?.localEndpoint?.serviceName;
    if (ancestor !== undefined && ancestorName !== undefined) {
      if (kind === 'CLIENT' && service !== undefined && ancestorName !== service) add(ancestorName, service, false);
      if (kind === 'SERVER' || parent === undefined) parent = ancestorName;
      if (!error && ancestor.kind === 'CLIENT' && span.parentId !== undefined && span.parentId === ancestor.id) error = hasError(ancestor);
    }
    if (parent === undefined || child === undefined) continue;
    add(parent, child, error);
  }
  return into;
}
