/** Addresses of the devstack the integration tests run against (the same defaults as every part). */
export const kafkaBrokers = (process.env.PINTRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const esUrl = process.env.PINTRACE_ES_URL ?? 'http://127.0.0.1:9200';
export const zipkinUrl = process.env.PINTRACE_ZIPKIN_URL ?? 'http://127.0.0.1:9411';

/** A name no other test run uses: topics, groups, index prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Polls until check returns a value (not undefined) or the time is up; the last error explains a timeout. */
export async function eventually<T>(check: () => Promise<T | undefined>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}

/** Index names matching a pattern; wildcard deletes are refused by ES 8, so deletes go by name. */
export async function deleteIndices(pattern: string): Promise<void> {
  const res = await fetch(`${esUrl}/_cat/indices/${pattern}?h=index&format=json`);
  if (!res.ok) return;
  const rows = (await res.json()) as Array<{ index: string }>;
  for (const { index } of rows) await fetch(`${esUrl}/${index}`, { method: 'DELETE' });
}

/** Removes what a collector wrote under an index prefix: its indices and its index templates. */
export async function deleteIndexPrefix(prefix: string): Promise<void> {
  await deleteIndices(`${prefix}-*`);
  for (const type of ['span', 'dependency', 'autocomplete', 'red']) await fetch(`${esUrl}/_template/${prefix}-${type}_template`, { method: 'DELETE' });
}

export interface EsHit<T> {
  _index: string;
  _id: string;
  _source: T;
}

/** All documents of indices matching the pattern (refreshes first so fresh writes are visible). */
export async function searchAll<T>(pattern: string, query: unknown = { match_all: {} }): Promise<EsHit<T>[]> {
  await fetch(`${esUrl}/${pattern}/_refresh?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' });
  const body = await getJson<{ hits: { hits: EsHit<T>[] } }>(
    `${esUrl}/${pattern}/_search?allow_no_indices=true&ignore_unavailable=true&expand_wildcards=open`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 10000, query }) },
  );
  return body.hits.hits;
}

export async function countDocs(pattern: string, query: unknown = { match_all: {} }): Promise<number> {
  await fetch(`${esUrl}/${pattern}/_refresh?allow_no_indices=true&ignore_unavailable=true`, { method: 'POST' });
  const body = await getJson<{ count: number }>(`${esUrl}/${pattern}/_count?allow_no_indices=true&ignore_unavailable=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return body.count;
}
