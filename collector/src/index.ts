export { startCollector } from './collector.js';
export type { Collector, CollectorDeps } from './collector.js';
export { collectorOptions } from './options.js';
export type { CollectorConfig } from './options.js';
