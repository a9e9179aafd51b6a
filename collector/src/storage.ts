/**
 * What the collector needs from storage, and the default: Elasticsearch in Zipkin's format.
 */
import type { Logger } from '@pintrace/runtime';
import type { SinkWriter } from './sink.js';

export interface StorageCheck {
  ok: boolean;
  [detail: string]: unknown;
}

export interface CollectorStorage {
  writer: SinkWriter;
  /** Verifies the cluster and installs Zipkin's index templates where missing. */
  ensureReady(): Promise<void>;
  /** Whether storage is reachable now (for /health). */
  check(): Promise<StorageCheck>;
  close(): Promise<void>;
}

export interface StorageOptions {
  url: string;
  indexPrefix: string;
  shards: number;
  replicas: number;
  log: Logger;
}

export function createStorage(options: StorageOptions): CollectorStorage {
  void options;
  throw new Error('Elasticsearch storage is not wired yet');
}
