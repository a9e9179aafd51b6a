export { encodeSpanDocument, spanDocumentJson, spanIndexTimestamp, SHORT_STRING_LENGTH } from './span-document.js';
export type { SpanDocument, SpanDocumentOptions } from './span-document.js';
export { quoteJackson } from './jackson-json.js';
