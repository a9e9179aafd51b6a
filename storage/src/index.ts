export { encodeSpanDocument, spanDocumentJson, spanIndexTimestamp, SHORT_STRING_LENGTH } from './span-document.js';
export type { SpanDocument, SpanDocumentOptions } from './span-document.js';
export { quoteJackson } from './jackson-json.js';
export { IndexNameFormatter } from './index-names.js';
export type { IndexType, IndexNameOptions } from './index-names.js';
export {
  parseClusterVersion, assertSupported, indexTypeDelimiter, supportsTypes, versionAtLeast,
} from './version.js';
export type { ClusterVersion } from './version.js';
export { buildTemplates, ensureTemplates } from './templates.js';
export type { TemplateOptions, IndexTemplate, EnsureTemplatesResult } from './templates.js';
export { AutocompleteIndexer } from './autocomplete.js';
export type { AutocompleteDocument, AutocompleteOptions } from './autocomplete.js';
export { bulkBody, bulkOutcomes, isRetryableItem } from './bulk-request.js';
export type { BulkItem, ItemOutcome } from './bulk-request.js';
export { createEsHttp } from './http.js';
export type { EsHttp, EsHttpOptions, EsRequest, EsResponse } from './http.js';
export type { SpanWriter, WriteResult, FailedSpan } from './span-writer.js';
export { ElasticsearchSpanWriter } from './elasticsearch-span-writer.js';
export type { ElasticsearchSpanWriterOptions, RetryOptions, RetryEvent } from './elasticsearch-span-writer.js';
export { StorageError, isRetryable, isRetryableStatus } from './errors.js';
export type { StorageErrorCode } from './errors.js';
