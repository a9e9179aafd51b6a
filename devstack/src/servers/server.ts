import type { LaunchSpec } from '../process.js';
import type { ProbeResult } from '../probes.js';
import type { DevstackConfig } from '../options.js';

export type ServerName = 'kafka' | 'elasticsearch' | 'zipkin';

export interface PrepareContext {
  config: DevstackConfig;
  /** Where this server keeps jars, data and logs: <dir>/<name>. */
  home: string;
  /** Reports a step of the preparation for the progress display. */
  step: (detail: string) => void;
}

/** One JVM of a server; a server may run several (Kafka brokers). */
export type ServerLaunch = Omit<LaunchSpec, 'logFile' | 'pidFile' | 'name'> & {
  /** Where its console output goes; default the server's log file. */
  logFile?: string;
  /** Which of the server's processes this is (0-based; names its pid file); default its place in the list. */
  instance?: number;
};

/** One real server the devstack runs: how to prepare and launch it, and how to tell it is ready. */
export interface ServerSpec {
  name: ServerName;
  /** The port users connect to; a foreign process on it is reported instead of started over. */
  port: (config: DevstackConfig) => number;
  /** What to print for users, e.g. 127.0.0.1:9092 or http://127.0.0.1:9200. */
  address: (config: DevstackConfig) => string;
  /** Servers that must be ready before this one starts. */
  after: ServerName[];
  /** How long a start may take before it is reported as failed. */
  startTimeoutMs: number;
  /** How many processes the server runs (default 1); `up` starts the missing ones of a partly running server. */
  processes?: (config: DevstackConfig) => number;
  /** Makes config and data ready and says what to launch: one process, or one per node not running. */
  prepare: (ctx: PrepareContext) => Promise<ServerLaunch | ServerLaunch[]>;
  probe: (config: DevstackConfig) => Promise<ProbeResult>;
  /** The log whose tail explains a failed start; default <dir>/<name>/console.log. */
  logFile?: (config: DevstackConfig) => string;
  /**
   * Why this dir's running processes cannot serve `config` (say a plain Kafka when `--secure` is
   * asked), or undefined. `up` refuses with this message instead of waiting for a probe that
   * cannot succeed.
   */
  conflict?: (config: DevstackConfig) => string | undefined;
}
