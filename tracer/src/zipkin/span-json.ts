import { SpanStatusCode, type AttributeValue, type SpanKind } from '@opentelemetry/api';
import { quoteJson, type Endpoint } from '@pintrace/model';
import type { FinishedSpan } from '../trace/finished-span.js';
import { firstOf, KINDS, PEER_ADDRESS, PEER_PORT, PEER_SERVICE, REMOTE_KEYS, remoteEndpoint, tagValue, toAnnotation } from './to-zipkin.js';

/**
 * Encodes a finished span straight into bytes as one Zipkin v2 JSON line, byte for byte what
 * `encodeSpanLine(toZipkinSpan(span))` gives (same mapping, same key order, tags sorted), without
 * building the intermediate Zipkin object or the line as a string. This is the span logger's hot
 * path, and building a string first and UTF-8 writing it afterwards cost as much again as the
 * encoding (concatenation ropes get flattened, every character is visited twice):
 * - ids are our own validated lower-hex, copied without escaping;
 * - the local endpoint is the same object for every span of a provider: encoded once, cached;
 * - span names and tag keys repeat: their encoded fragments are cached (bounded), and so is each
 *   sequence of attribute keys' layout (which are tags, in what order, which make the remote
 *   endpoint), so a span whose keys come as an earlier one's only compares them;
 * - the part from the local endpoint to the end of the tags repeats per peer (see Tail): when it
 *   does, it is one copy;
 * - strings are copied character by character while they need no escaping and are ASCII (the
 *   usual case); anything else goes through the model's quoteJson and a UTF-8 write;
 * - integers (timestamps, durations, integer tags) are written as digits, no number → string;
 * - constant pieces, ids and digits are stored four (or two) bytes at a time through a DataView
 *   rather than byte by byte: a line is ~180 bytes, and a typed-array store per byte was most of
 *   the encoder's time.
 */

/**
 * Constant bytes (a key, a cached endpoint), kept as little-endian 32-bit words and written a
 * word at a time. The last word is padded with zeros; writing it stores up to 3 bytes past the
 * fragment, which whatever follows overwrites (nothing past the returned end is meaningful).
 */
class Fragment {
  readonly words: Int32Array;
  /** For a remote endpoint's fragment: the last tail written after it (see Tail). */
  tail: Tail | undefined = undefined;
  constructor(
    readonly length: number,
    text: Buffer,
  ) {
    const padded = Buffer.alloc(Math.ceil(length / 4) * 4);
    text.copy(padded);
    this.words = new Int32Array(padded.length / 4);
    for (let i = 0; i < this.words.length; i++) this.words[i] = padded.readInt32LE(i * 4);
  }
}

function fragmentOf(text: string): Fragment {
  const bytes = Buffer.from(text, 'utf8');
  return new Fragment(bytes.length, bytes);
}

const EMPTY_BUFFER = Buffer.alloc(0);
const EMPTY = fragmentOf('');
/**
 * The buffer being written and a view of it, kept between calls (a logger fills the same buffer
 * with many spans, and a view per span would be an allocation per span).
 */
let out: Buffer = EMPTY_BUFFER;
let view: DataView = new DataView(EMPTY_BUFFER.buffer, 0, 0);
let viewed: Buffer = EMPTY_BUFFER;
let pos = 0;
let limit = 0;
/** Set when the buffer ran out; the caller retries the span in a fresh or bigger buffer. */
let overflow = false;

const endpointFragments = new WeakMap<Endpoint, Fragment>();
let lastEndpoint: Endpoint | undefined;
let lastEndpointFragment: Fragment = EMPTY;
/** 1 at the (ASCII) first characters of the network attributes' keys. */
const REMOTE_FIRST = new Uint8Array(128);
for (const key of REMOTE_KEYS) REMOTE_FIRST[key.charCodeAt(0)] = 1;
const MAX_CACHED = 2048;
const headFragments = new Map<string, Fragment[]>();
const keyFragments = new Map<string, Fragment>();
const firstKeyFragments = new Map<string, Fragment>();

const ZERO = 0x30;
const QUOTE = 0x22;
const TRACE_ID = fragmentOf('{"traceId":"');
const PARENT_ID = fragmentOf('","parentId":"');
const ID = fragmentOf('","id":"');
const DURATION = fragmentOf(',"duration":');
const ANNOTATIONS = fragmentOf(',"annotations":[');
const ANNOTATION_TIMESTAMP = fragmentOf('{"timestamp":');
const ANNOTATION_VALUE = fragmentOf(',"value":');
const DEBUG = fragmentOf(',"debug":true');
const SHARED = fragmentOf(',"shared":true');
const TRUE = fragmentOf('"true"');
const FALSE = fragmentOf('"false"');

/**
 * Writes the span's JSON line (with its newline) into `buffer` at `offset`; returns the offset
 * after it, or -1 when it did not fit (nothing after `offset` is meaningful then). Up to 3 bytes
 * past the returned offset may be written too (see Fragment).
 */
export function encodeSpanJsonInto(span: FinishedSpan, buffer: Buffer, offset: number): number {
  out = buffer;
  if (buffer !== viewed) {
    view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
    viewed = buffer;
  }
  pos = offset;
  limit = buffer.length;
  overflow = false;
  writeSpan(span);
  return overflow ? -1 : pos;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/** The span's JSON line as a string (tests, and spans too big for the logger's write buffer). */
export function encodeSpanJsonLine(span: FinishedSpan): string {
  for (;;) {
    const end = encodeSpanJsonInto(span, scratch, 0);
    if (end >= 0) return scratch.toString('utf8', 0, end);
    scratch = Buffer.allocUnsafe(scratch.length * 2);
  }
}

function writeSpan(span: FinishedSpan): void {
  bytes(TRACE_ID);
  // OTel form → Zipkin form: a 64-bit id (high half zero) is written as its 16 low characters
  const traceIdHex = span.traceIdHex;
  if (traceIdHex !== undefined) hex(traceIdHex, span.traceIdHexAt!, span.traceIdHexLength!);
  else {
    const traceId = span.traceId;
    ascii(traceId, traceId.length === 32 && isZeroHigh(traceId) ? 16 : 0);
  }
  if (span.parentSpanId !== undefined) {
    bytes(PARENT_ID);
    ascii(span.parentSpanId, 0);
  }
  bytes(ID);
  const spanIdHex = span.spanIdHex;
  if (spanIdHex !== undefined) hex(spanIdHex, span.spanIdHexAt!, 16);
  else ascii(span.spanId, 0);
  const timestamp = span.startMicros;
  bytes(headFragment(span.name, span.kind, timestamp ? 1 : 0));
  if (timestamp) uint(timestamp);
  bytes(DURATION);
  uint(Math.max(1, span.durationMicros));
  const attributes = span.attributes;
  const count = collectAttributes(attributes);
  const layout = layoutOf(count);
  const local = span.localEndpoint;
  let localFragment = EMPTY;
  if (local) {
    // one provider's spans share one endpoint: the last one is checked before the WeakMap
    let fragment = local === lastEndpoint ? lastEndpointFragment : endpointFragments.get(local);
    if (fragment === undefined) {
      const json = encodeEndpoint(local);
      fragment = fragmentOf(json === '' ? '' : `,"localEndpoint":${json}`);
      endpointFragments.set(local, fragment);
    }
    lastEndpoint = local;
    lastEndpointFragment = fragment;
    localFragment = fragment;
  }
  // a status error without an `error` attribute adds a tag the layout has no place for
  if (span.status.code === SpanStatusCode.ERROR && !layout.hasErrorKey) {
    releaseAttributes(count);
    bytes(localFragment);
    writeAttributesSorted(span);
  } else {
    const remote = layout.hasRemote ? remoteEndpointFragment(valueAt(layout.service), valueAt(layout.address), valueAt(layout.port), attributes) : EMPTY;
    if (span.events.length === 0) writeTail(localFragment, remote, layout);
    else {
      bytes(localFragment);
      bytes(remote);
      writeEvents(span.events);
      writeTags(layout);
    }
    releaseAttributes(count);
  }
  if (span.debug) bytes(DEBUG);
  if (span.shared) bytes(SHARED);
  byte(0x7d);
  byte(0x0a);
}

function writeTags(layout: TagLayout): void {
  const values = attributeValues;
  const tags = layout.tags;
  const fragments = layout.fragments;
  for (let i = 0; i < tags.length; i++) {
    bytes(fragments[i]);
    tag(values[tags[i]]);
  }
  if (tags.length > 0) byte(0x7d);
}

/**
 * The bytes from the local endpoint to the end of the tags, as the last span with the same local
 * endpoint, remote endpoint, key layout and tag values wrote them. A server span's tail repeats
 * from one request to the next on a connection (same peer, same method, path and status), and
 * writing it piece by piece (two endpoints, a key and a value per tag) was about half of the
 * encoder's instructions; one copy replaces it. Kept on the remote endpoint's fragment (one per
 * peer address and port, bounded by that cache), so each connection keeps its own. Only captured
 * when a remote endpoint's spans repeat a tail twice in a row: spans whose values change every
 * time (a path per request) pay a comparison and never a copy.
 */
class Tail {
  local: Fragment = EMPTY;
  layout: TagLayout | undefined = undefined;
  /** The tag values, in the layout's written order; primitives only. */
  readonly values: AttributeValue[] = [];
  bytes: Uint8Array | undefined = undefined;
}

/** Tails longer than this are written piece by piece, not kept. */
const MAX_TAIL = 512;

function writeTail(local: Fragment, remote: Fragment, layout: TagLayout): void {
  const values = attributeValues;
  const tags = layout.tags;
  let cached = remote.tail;
  let same = cached !== undefined && cached.local === local && cached.layout === layout;
  if (same) {
    const seen = cached!.values;
    for (let i = 0; i < tags.length; i++) {
      if (values[tags[i]] !== seen[i]) {
        same = false;
        break;
      }
    }
  }
  if (same && cached!.bytes !== undefined) {
    const tail = cached!.bytes;
    const p = pos;
    if (p + tail.length > limit) overflow = true;
    else {
      out.set(tail, p);
      pos = p + tail.length;
    }
    return;
  }
  const start = pos;
  bytes(local);
  bytes(remote);
  writeTags(layout);
  if (same) {
    // the second time in a row: keep what was just written
    if (!overflow && pos - start <= MAX_TAIL) cached!.bytes = new Uint8Array(out.subarray(start, pos));
    return;
  }
  // remember this tail's inputs, so that the next span with the same ones keeps its bytes
  if (cached === undefined) cached = remote.tail = new Tail();
  cached.local = local;
  cached.bytes = undefined;
  // only the layout's count of values is ever compared: the array is not shortened (setting an
  // array's length is a call into the runtime)
  const seen = cached.values;
  let primitive = true;
  for (let i = 0; i < tags.length; i++) {
    let value = values[tags[i]];
    // an array's elements can change under the same identity: such a tail is never kept
    if (typeof value === 'object') {
      primitive = false;
      value = 0;
    }
    if (i < seen.length) seen[i] = value;
    else seen.push(value);
  }
  cached.layout = primitive ? layout : undefined;
}

/**
 * The attributes' part of the line for a span no layout fits (an error status without an `error`
 * attribute): keys classified and sorted span by span.
 */
function writeAttributesSorted(span: FinishedSpan): void {
  const attributes = span.attributes;
  // tag keys, sorted as they come in: `tagKeys[0, tagCount)`
  let tagCount = 0;
  let hasError = false;
  let hasRemote = false;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    // most keys are ruled out by their first character, without hashing them
    const first = key.charCodeAt(0);
    if (first < 128 && REMOTE_FIRST[first] === 1 && REMOTE_KEYS.has(key)) hasRemote = true;
    else {
      tagCount = insertSorted(key, tagCount);
      if (key === 'error') hasError = true;
    }
  }
  if (hasRemote) bytes(remoteEndpointFragment(attributes[PEER_SERVICE], firstOf(attributes, PEER_ADDRESS), firstOf(attributes, PEER_PORT), attributes));
  writeEvents(span.events);
  const error = span.status.code === SpanStatusCode.ERROR && !hasError;
  if (error) tagCount = insertSorted('error', tagCount);
  if (tagCount > 0) {
    for (let i = 0; i < tagCount; i++) {
      const key = tagKeys[i];
      // the keys are the application's strings: not kept alive past the span
      tagKeys[i] = '';
      bytes(i === 0 ? firstKeyFragment(key) : keyFragment(key));
      if (key === 'error' && error) str(span.status.message || 'true');
      else tag(attributes[key]!);
    }
    byte(0x7d);
  }
}

function writeEvents(events: FinishedSpan['events']): void {
  if (events.length === 0) return;
  bytes(ANNOTATIONS);
  for (let i = 0; i < events.length; i++) {
    const a = toAnnotation(events[i]);
    if (i > 0) byte(0x2c);
    bytes(ANNOTATION_TIMESTAMP);
    uint(a.timestamp);
    bytes(ANNOTATION_VALUE);
    str(a.value);
    byte(0x7d);
  }
  byte(0x5d);
}

/**
 * What writing a span's attributes takes, worked out once per sequence of attribute keys: the
 * spans of one instrumentation repeat theirs (a server span's are always http.method, http.path,
 * network.peer.address, network.peer.port, http.status_code). Classifying each key, sorting the
 * tags and looking their fragments up, span by span, was most of the encoder's work on a server
 * span (bench/README); with a layout, a span's keys are only compared, by identity, with the
 * layout's. A span with a single attribute pays a little more this way (nothing to sort).
 */
class TagLayout {
  /** Where the tags come from (indices into `keys`), in the order they are written (sorted). */
  readonly tags: Int32Array;
  /** Per written tag: `,"tags":{"key":` for the first, `,"key":` after it. */
  readonly fragments: Fragment[];
  readonly hasErrorKey: boolean;
  readonly hasRemote: boolean;
  /** Indices of the remote endpoint's inputs as remoteEndpoint picks them (first present key); -1 when absent. */
  readonly service: number;
  readonly address: number;
  readonly port: number;

  constructor(readonly keys: readonly string[]) {
    const tagIndices: number[] = [];
    for (let i = 0; i < keys.length; i++) if (!REMOTE_KEYS.has(keys[i])) tagIndices.push(i);
    // the order Array#sort gives strings (UTF-16 code units), as writeAttributesSorted's
    tagIndices.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    this.tags = Int32Array.from(tagIndices);
    this.fragments = tagIndices.map((at, i) => fragmentOf(i === 0 ? `,"tags":{${quote(keys[at])}:` : `,${quote(keys[at])}:`));
    this.hasErrorKey = keys.includes('error');
    this.hasRemote = tagIndices.length < keys.length;
    this.service = keys.indexOf(PEER_SERVICE);
    this.address = firstIndexOf(keys, PEER_ADDRESS);
    this.port = firstIndexOf(keys, PEER_PORT);
  }
}

function firstIndexOf(keys: readonly string[], wanted: readonly string[]): number {
  for (const key of wanted) {
    const at = keys.indexOf(key);
    if (at >= 0) return at;
  }
  return -1;
}

/** The span being encoded: its attribute keys and values in for-in order (one pair of arrays for every span). */
const attributeKeys: string[] = [];
const attributeValues: AttributeValue[] = [];

/**
 * Copies the attributes' keys and values into attributeKeys/attributeValues, leaving out null
 * and undefined values (no tag, no endpoint, as in the sorted path); returns their count.
 */
function collectAttributes(attributes: FinishedSpan['attributes']): number {
  const keys = attributeKeys;
  const values = attributeValues;
  let n = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    keys[n] = key;
    values[n] = value;
    n++;
  }
  return n;
}

function valueAt(index: number): AttributeValue | undefined {
  return index < 0 ? undefined : attributeValues[index];
}

/** The application's keys and values are not kept alive past the span. */
function releaseAttributes(count: number): void {
  const keys = attributeKeys;
  const values = attributeValues;
  for (let i = 0; i < count; i++) {
    keys[i] = '';
    values[i] = 0;
  }
}

/** Layouts of the key sequences seen lately, the last one used first. */
const LAYOUTS = 32;
const layouts: TagLayout[] = [];
let nextLayout = 0;
let lastLayout: TagLayout | undefined;

function layoutOf(count: number): TagLayout {
  if (lastLayout !== undefined && fits(lastLayout, count)) return lastLayout;
  for (let i = 0; i < layouts.length; i++) {
    const layout = layouts[i];
    if (fits(layout, count)) return (lastLayout = layout);
  }
  const layout = new TagLayout(attributeKeys.slice(0, count));
  // a ring: a service with more key sequences than this in rotation rebuilds some, and that is
  // the sorted path's work plus a small allocation
  layouts[nextLayout] = layout;
  nextLayout = (nextLayout + 1) % LAYOUTS;
  return (lastLayout = layout);
}

function fits(layout: TagLayout, count: number): boolean {
  const keys = layout.keys;
  if (keys.length !== count) return false;
  const seen = attributeKeys;
  for (let i = 0; i < count; i++) if (keys[i] !== seen[i]) return false;
  return true;
}

/**
 * Tag keys of the span being encoded, one array for every span (an array per span was a sixth
 * of the encoder's allocations and of its time): filled by insertion, so the keys come out in
 * the order Array#sort gives strings (UTF-16 code units; attribute keys are unique).
 */
const tagKeys: string[] = [];

/** Inserts `key` into the sorted `tagKeys[0, count)`; returns the new count. */
function insertSorted(key: string, count: number): number {
  let i = count;
  while (i > 0 && tagKeys[i - 1] > key) {
    tagKeys[i] = tagKeys[i - 1];
    i--;
  }
  tagKeys[i] = key;
  return count + 1;
}

/**
 * `,"remoteEndpoint":{...}` (or nothing) for a span's network attributes. A service talks to the
 * same few peers over and over, so the fragment is cached by the attribute values it comes from
 * (parsing the address and encoding the endpoint cost more than the rest of a server span). The
 * cache is nested (service, then address, then port) rather than keyed by one joined string: a
 * server span's peer port changes with every connection, and building and hashing a joined key
 * per span cost as much as the rest of its tags.
 */
const remoteFragments = new Map<string, Map<string, Map<number, Fragment>>>();
let remoteCached = 0;
/**
 * In front of the nested maps, the last fragment seen per low byte of the port: a keep-alive
 * connection's requests find theirs with one array read and three comparisons (the address is
 * the socket's one cached string), where the three map lookups hashed both strings per span.
 */
const RECENT_SLOTS = 256;
const recentPort = new Float64Array(RECENT_SLOTS).fill(-1);
const recentService: string[] = new Array<string>(RECENT_SLOTS).fill('');
const recentAddress: string[] = new Array<string>(RECENT_SLOTS).fill('');
const recentFragment: Fragment[] = new Array<Fragment>(RECENT_SLOTS).fill(EMPTY);

/**
 * `service`, `address` and `port` are the attribute values remoteEndpoint reads from
 * `attributes` (the first present of each key list): the fragment is cached by them.
 */
function remoteEndpointFragment(service: unknown, address: unknown, portValue: unknown, attributes: FinishedSpan['attributes']): Fragment {
  const port = Number(portValue);
  const serviceKey = typeof service === 'string' ? service : '';
  const addressKey = typeof address === 'string' ? address : '';
  const slot = port & (RECENT_SLOTS - 1);
  if (recentPort[slot] === port && recentAddress[slot] === addressKey && recentService[slot] === serviceKey) return recentFragment[slot];
  const fragment = cachedRemoteFragment(attributes, serviceKey, addressKey, port);
  // a NaN port never matches itself: such spans always take the maps
  recentPort[slot] = port;
  recentService[slot] = serviceKey;
  recentAddress[slot] = addressKey;
  recentFragment[slot] = fragment;
  return fragment;
}

function cachedRemoteFragment(attributes: FinishedSpan['attributes'], serviceKey: string, addressKey: string, port: number): Fragment {
  let byAddress = remoteFragments.get(serviceKey);
  let byPort = byAddress?.get(addressKey);
  let fragment = byPort?.get(port);
  if (fragment === undefined) {
    const remote = remoteEndpoint(attributes);
    const json = remote ? encodeEndpoint(remote) : '';
    fragment = json === '' ? EMPTY : fragmentOf(`,"remoteEndpoint":${json}`);
    if (remoteCached >= MAX_CACHED) {
      remoteFragments.clear();
      remoteCached = 0;
      byAddress = byPort = undefined;
    }
    if (byAddress === undefined) remoteFragments.set(serviceKey, (byAddress = new Map()));
    if (byPort === undefined) byAddress.set(addressKey, (byPort = new Map()));
    byPort.set(port, fragment);
    remoteCached++;
  }
  return fragment;
}

function isZeroHigh(traceId: string): boolean {
  for (let i = 0; i < 16; i++) if (traceId.charCodeAt(i) !== ZERO) return false;
  return true;
}

let lastHeadName = '';
let lastHeadSlot = -1;
let lastHead: Fragment = EMPTY;

/**
 * What follows the span id up to the timestamp's digits, in one piece: `"` (closing the id),
 * the kind, the name, and `,"timestamp":` when there is one. Cached by name, then kind and
 * whether a timestamp follows: one copy instead of four.
 */
function headFragment(name: string, kind: SpanKind, withTimestamp: 0 | 1): Fragment {
  const slot = (kind >= 0 && kind <= 4 ? kind : 0) * 2 + withTimestamp;
  // spans in a row often share their name and kind: the last fragment before the Map
  if (name === lastHeadName && slot === lastHeadSlot) return lastHead;
  let byKind = headFragments.get(name);
  if (byKind === undefined) {
    byKind = [];
    if (headFragments.size >= MAX_CACHED) headFragments.clear();
    headFragments.set(name, byKind);
  }
  let fragment = byKind[slot];
  if (fragment === undefined) {
    const kindName = KINDS[kind];
    fragment = fragmentOf(
      `"${kindName ? `,"kind":"${kindName}"` : ''}${name ? `,"name":${quote(name.toLowerCase())}` : ''}${withTimestamp ? ',"timestamp":' : ''}`,
    );
    byKind[slot] = fragment;
  }
  lastHeadName = name;
  lastHeadSlot = slot;
  lastHead = fragment;
  return fragment;
}

/** `,"key":` (a tag after the first). */
function keyFragment(key: string): Fragment {
  let fragment = keyFragments.get(key);
  if (fragment === undefined) {
    fragment = fragmentOf(`,${quote(key)}:`);
    if (keyFragments.size >= MAX_CACHED) keyFragments.clear();
    keyFragments.set(key, fragment);
  }
  return fragment;
}

let lastFirstKey = '';
let lastFirstKeyFragment: Fragment = EMPTY;

/** `,"tags":{"key":` (the first tag opens the object). */
function firstKeyFragment(key: string): Fragment {
  // spans in a row often start their tags with the same key: the last one before the Map
  if (key === lastFirstKey) return lastFirstKeyFragment;
  let fragment = firstKeyFragments.get(key);
  if (fragment === undefined) {
    fragment = fragmentOf(`,"tags":{${quote(key)}:`);
    if (firstKeyFragments.size >= MAX_CACHED) firstKeyFragments.clear();
    firstKeyFragments.set(key, fragment);
  }
  lastFirstKey = key;
  lastFirstKeyFragment = fragment;
  return fragment;
}

/** A tag value as String(value) would give it, quoted; integers without a detour through a string. */
function tag(value: AttributeValue): void {
  if (typeof value === 'string') str(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    byte(QUOTE);
    if (value < 0) {
      byte(0x2d);
      uint(-value);
    } else uint(value);
    byte(QUOTE);
  } else if (typeof value === 'boolean') bytes(value ? TRUE : FALSE);
  else str(tagValue(value));
}

// The primitives copy the module's `out` and `pos` into locals: TurboFan reloads module
// variables on every loop iteration, which made the copy loops several times slower.

function byte(b: number): void {
  if (pos < limit) out[pos++] = b;
  else overflow = true;
}

function bytes(fragment: Fragment): void {
  const words = fragment.words;
  const n = words.length;
  const p = pos;
  if (p + n * 4 > limit) {
    overflow = true;
    return;
  }
  const v = view;
  for (let i = 0; i < n; i++) v.setInt32(p + i * 4, words[i], true);
  pos = p + fragment.length;
}

/**
 * Hex characters already in bytes (tracer-made ids; `n` is 16 or 32), eight at a time as a
 * float64: eight hex digits (bytes 0x30-0x66) never make a NaN, whose bits a double could lose.
 */
function hex(source: Buffer, at: number, n: number): void {
  const p = pos;
  if (p + n > limit) {
    overflow = true;
    return;
  }
  const from = sourceView(source);
  const v = view;
  for (let i = 0; i < n; i += 8) v.setFloat64(p + i, from.getFloat64(at + i, true), true);
  pos = p + n;
}

/**
 * Views of the id pools' buffers. A pool buffer serves 256 ids, and a child span's trace id
 * may sit in an older one than its span id: two views are kept.
 */
let sourceA: Buffer = EMPTY_BUFFER;
let sourceViewA: DataView = view;
let sourceB: Buffer = EMPTY_BUFFER;
let sourceViewB: DataView = view;

function sourceView(source: Buffer): DataView {
  if (source === sourceA) return sourceViewA;
  if (source === sourceB) return sourceViewB;
  sourceB = sourceA;
  sourceViewB = sourceViewA;
  sourceA = source;
  sourceViewA = new DataView(source.buffer, source.byteOffset, source.length);
  return sourceViewA;
}

/** Characters known to be ASCII needing no escape (our hex ids), from `start`. */
function ascii(value: string, start: number): void {
  const n = value.length - start;
  const p = pos;
  if (p + n > limit) {
    overflow = true;
    return;
  }
  const o = out;
  for (let i = 0; i < n; i++) o[p + i] = value.charCodeAt(start + i);
  pos = p + n;
}

/** 00 to 99 as the little-endian 16-bit value of their two ASCII digits. */
const DIGIT_PAIRS = new Int16Array(100);
for (let v = 0; v < 100; v++) DIGIT_PAIRS[v] = (ZERO + Math.floor(v / 10)) | ((ZERO + (v % 10)) << 8);

/** The last 8-digit high half written by uint, and its digits as two little-endian words. */
let lastHigh = -1;
let lastHighWords0 = 0;
let lastHighWords1 = 0;

/** A non-negative integer below 2^53 as decimal digits; anything else as JavaScript prints it. */
function uint(value: number): void {
  if (!(value >= 0 && Number.isSafeInteger(value))) {
    utf8(String(value));
    return;
  }
  // two int32 halves of up to 8 digits (2^53 / 1e8 < 1e8): integer division instead of
  // floating-point, two digits per division and per store
  if (value >= 1e8) {
    const high = Math.floor(value / 1e8);
    // a timestamp's high half changes every 100 s: its 8 digits are kept as two words
    if (high === lastHigh && pos + 8 <= limit) {
      view.setInt32(pos, lastHighWords0, true);
      view.setInt32(pos + 4, lastHighWords1, true);
      pos += 8;
    } else {
      const from = pos;
      uint(high);
      if (high >= 1e7 && !overflow) {
        lastHigh = high;
        lastHighWords0 = view.getInt32(from, true);
        lastHighWords1 = view.getInt32(from + 4, true);
      }
    }
    const p = pos;
    if (p + 8 > limit) {
      overflow = true;
      return;
    }
    // an int32 (below 1e8), so the divisions by constants below are integer ones
    const low = (value - high * 1e8) | 0;
    const a = (low / 10000) | 0;
    const b = low - a * 10000;
    const a1 = (a / 100) | 0;
    const b1 = (b / 100) | 0;
    const v = view;
    v.setInt16(p, DIGIT_PAIRS[a1], true);
    v.setInt16(p + 2, DIGIT_PAIRS[a - a1 * 100], true);
    v.setInt16(p + 4, DIGIT_PAIRS[b1], true);
    v.setInt16(p + 6, DIGIT_PAIRS[b - b1 * 100], true);
    pos = p + 8;
    return;
  }
  let n = value | 0;
  const digits = n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : 8;
  const p = pos;
  if (p + digits > limit) {
    overflow = true;
    return;
  }
  const v = view;
  let i = p + digits;
  while (i - p >= 2) {
    const q = (n / 100) | 0;
    i -= 2;
    v.setInt16(i, DIGIT_PAIRS[n - q * 100], true);
    n = q;
  }
  if (i > p) out[p] = ZERO + n;
  pos = p + digits;
}

/** A JSON string: copied while ASCII and escape-free, else the model's exact escaping. */
function str(value: string): void {
  const n = value.length;
  const start = pos;
  // worst case of the fast path; the slow path checks its own size
  if (start + n + 2 > limit) {
    utf8(quoteJson(value));
    return;
  }
  const o = out;
  o[start] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
      utf8(quoteJson(value));
      return;
    }
    o[start + 1 + i] = c;
  }
  o[start + 1 + n] = QUOTE;
  pos = start + n + 2;
}

function utf8(text: string): void {
  // a UTF-16 code unit takes at most 3 bytes in UTF-8
  if (pos + text.length * 3 > limit && pos + Buffer.byteLength(text) > limit) {
    overflow = true;
    return;
  }
  pos += out.write(text, pos, 'utf8');
}

/** JSON string for cached fragments and endpoints (built once, not on the hot path). */
function quote(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff) || c === 0x2028 || c === 0x2029) return quoteJson(value);
  }
  return `"${value}"`;
}

function encodeEndpoint(e: Endpoint): string {
  let text = '';
  if (e.serviceName !== undefined) text += `,"serviceName":${quote(e.serviceName)}`;
  if (e.ipv4 !== undefined) text += `,"ipv4":${quote(e.ipv4)}`;
  if (e.ipv6 !== undefined) text += `,"ipv6":${quote(e.ipv6)}`;
  if (e.port !== undefined && e.port !== 0) text += `,"port":${e.port}`;
  return text === '' ? '' : `{${text.slice(1)}}`;
}
