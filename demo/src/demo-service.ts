import { createRequire } from 'node:module';
import type { ThriftService } from '@pintrace/tracer';

/**
 * The generated code of `demo/thrift/demo.thrift` (thrift-compiler `js:node,es6`, committed in
 * `demo/gen/`), with the types the demo uses. The path is the same from `src/` and `dist/`.
 */
const require = createRequire(import.meta.url);

export interface WorkResult {
  n: number;
  result: number;
  cached: boolean;
}

/** The DemoService handler (server side). */
export interface DemoHandler {
  work(n: number, mode: string): Promise<WorkResult>;
}

/** The generated DemoService client. */
export interface DemoClient {
  work(n: number, mode: string): Promise<WorkResult>;
}

export type DemoErrorClass = new (args: { message: string }) => Error;

export const DemoService = require('../gen/DemoService.js') as ThriftService & { Client: unknown };
export const DemoError = (require('../gen/demo_types.js') as { DemoError: DemoErrorClass }).DemoError;

const thrift = require('thrift') as { createClient(service: unknown, connection: unknown): unknown };

/** A DemoService client on a connection (e.g. a TTwitterConnection). */
export function createDemoClient(connection: unknown): DemoClient {
  return thrift.createClient(DemoService, connection) as DemoClient;
}
