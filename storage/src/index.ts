// What the collector, the ui-proxy, the integration tests and the benchmarks use; everything else
// is internal (storage's own tests import src files directly).
export { createEsHttp } from './http.js';
export type { EsHttp, EsHttpOptions, EsRequest, EsResponse } from './http.js';
export { readClusterVersion, checkStoreHealth } from './cluster-check.js';
export type { StoreHealth } from './cluster-check.js';
export { parseClusterVersion } from './version.js';
export type { ClusterVersion } from './version.js';
export { buildTemplates } from './templates.js';
export { IndexNameFormatter } from './index-names.js';
export type { IndexNameOptions } from './index-names.js';
export { StorageError } from './errors.js';
export { quoteJackson } from './jackson-json.js';
export { encodeSpanDocument, spanIndexTimestamp } from './span-document.js';
export { ElasticsearchSpanWriter } from './elasticsearch-span-writer.js';
export type { ElasticsearchSpanWriterOptions, RetryEvent } from './elasticsearch-span-writer.js';
export { ElasticsearchDependencyLinkWriter } from './dependency-link-writer.js';
export type { DependencyLinkDocument, DependencyLinkWriterOptions } from './dependency-link-writer.js';
export { ElasticsearchSpanStore } from './query/elasticsearch-span-store.js';
export type { ElasticsearchSpanStoreOptions } from './query/elasticsearch-span-store.js';
export { QueryError } from './query/errors.js';
export { buildQueryRequest } from './query/query-request.js';
export type { QueryRequest, QueryRequestInput } from './query/query-request.js';
export { normalizeQueryTraceId, parseTraceIdList } from './query/trace-ids.js';
export { javaTrim } from './query/java-strings.js';
export { RED_BUCKET_BOUNDS_US, RED_BUCKET_FIELDS, bucketIndex, histogramQuantile } from './red-histogram.js';
export { ElasticsearchRedWindowStore } from './red-window-store.js';
export type { RedWindowDocument, RedStep, RedQuery, RootWindow } from './red-window-store.js';
