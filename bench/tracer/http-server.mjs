/**
 * The HTTP server of the throughput bench, run as its own process:
 *   node bench/tracer/http-server.mjs off|<percent>
 * `off` = no tracer loaded; `als` = no tracer, each request handled inside
 * AsyncLocalStorage.run (what any context propagation costs on this Node); a percent = startTracing
 * with that sample rate (node:http patched globally, spans to a span file in a temp dir, as a
 * service would run). Prints "listening <port>".
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mode = process.argv[2] ?? 'off';
let tracing;
if (mode !== 'off' && mode !== 'als') {
  const { startTracing, silentLogger } = await import(new URL('../../tracer/dist/index.js', import.meta.url).href);
  tracing = startTracing({ serviceName: 'bench-http', spansDir: mkdtempSync(join(tmpdir(), 'bench-http-')), sampleRate: Number(mode), logger: silentLogger, dev: false });
}
const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
const handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const storage = mode === 'als' ? new AsyncLocalStorage() : undefined;
const server = http.createServer(storage ? (req, res) => storage.run({ req }, handler, req, res) : handler);
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', async () => {
  server.close();
  server.closeAllConnections();
  const stats = tracing?.spanLogger?.stats();
  await tracing?.shutdown();
  process.stdout.write(`stats ${JSON.stringify(stats ?? null)}\n`);
  process.exit(0);
});
