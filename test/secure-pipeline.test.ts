/**
 * Acceptance (issue 14): the whole pipeline against the secured devstack — Kafka whose only port
 * is SASL_SSL with SCRAM users, the store behind TLS with basic auth — configured by the
 * devstack's client-config.json alone: a traced request (our tracer, zero-code start) → span file
 * → agent → Kafka → collector → store → ui-proxy, and zipkin-server given the same store
 * credentials returns the same trace. `decider set --fleet` over SASL_SSL reaches the agent's
 * decider file. No password appears in any part's log or /metrics page.
 * Private devstack var/devstack-secure-pipeline on its own ports.
 * Run alone: npx vitest run --project integration test/secure-pipeline.test.ts
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installBuiltTracer, installOtelApi, runNode, writeFiles } from './support/installed-tracer.js';
import { agentArgs, collectorArgs } from './support/part-args.js';
import { freePort } from './support/ports.js';
import { privateDevstack } from './support/private-devstack.js';
import { startPart, type RunningPart } from './support/processes.js';
import { eventually, uniqueName } from './support/servers.js';

interface ZipkinSpan {
  traceId: string;
  id: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
}

// Its own ports (base 35000: 44092, 44200, 44411), clear of the numbered blocks other files use.
const ds = privateDevstack('secure-pipeline', 3.5, ['kafka', 'elasticsearch', 'zipkin'], { secure: true, heap: '384m' });

describe('the pipeline on secured Kafka and a secured store (client-config.json only)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'pintrace-secure-pipeline-'));
  const spansDir = path.join(root, 'spans');
  const deciderFile = path.join(root, 'config', 'decider.json');
  const topic = uniqueName('secure-spans');
  const deciderTopic = uniqueName('secure-decider');
  const parts: RunningPart[] = [];
  const ports = { agent: 0, collector: 0, ui: 0 };
  let config: Record<string, string>;
  let secrets: string[];

  beforeAll(async () => {
    await ds.start();
    config = JSON.parse(readFileSync(ds.clientConfig, 'utf8')) as Record<string, string>;
    // Every secret the devstack generated: none may show up anywhere below.
    secrets = [config.kafkaSaslPasswordFile, config.esPasswordFile].map((f) => readFileSync(f, 'utf8').trim());
    expect(config.kafkaSecurityProtocol).toBe('SASL_SSL');
    expect(config.es).toMatch(/^https:\/\//);
    ports.agent = await freePort();
    ports.collector = await freePort();
    ports.ui = await freePort();
    const withConfig = ['--config', ds.clientConfig];
    parts.push(
      startPart(
        'secure-collector',
        collectorArgs({ config: ds.clientConfig, topic, groupId: `${topic}-collector`, indexReplicas: 0, groupWindowMs: 500, metricsPort: ports.collector }),
      ),
      startPart(
        'secure-agent',
        agentArgs({
          config: ds.clientConfig,
          topic,
          spansDir,
          stateDir: path.join(root, 'state'),
          metricsPort: ports.agent,
          deciderTopic,
          deciderFile,
          pollIntervalMs: 200,
        }),
      ),
      startPart('secure-ui', ['ui', ...withConfig, '--topic', topic, '--port', String(ports.ui)]),
    );
  }, 300_000);

  afterAll(async () => {
    await Promise.all(parts.map((p) => p.stop()));
    await ds.stop();
  }, 120_000);

  it('a traced request reaches the store; the ui-proxy and zipkin-server return the same trace', async () => {
    // A service started the zero-code way; its server prints the trace id it was called with.
    const project = path.join(root, 'app');
    installBuiltTracer(project);
    installOtelApi(project, 'api-1.10');
    writeFiles(project, {
      'package.json': JSON.stringify({ name: 'secure-app', version: '1.0.0' }),
      'app.mjs': `import http from 'node:http';
        const server = http.createServer((req, res) => { console.log(req.headers.traceparent.split('-')[1]); res.end('ok'); });
        server.listen(0, '127.0.0.1', () => {
          http.get('http://127.0.0.1:' + server.address().port + '/checkout', (res) => { res.resume(); res.on('end', () => server.close()); });
        });`,
    });
    const run = await runNode(['--import', '@pintrace/tracer/register', 'app.mjs'], project, {
      OTEL_SERVICE_NAME: 'secure-shop',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_PROPAGATORS: 'tracecontext',
      PINTRACE_SPANS_DIR: spansDir,
    });
    expect(run.code, run.stderr).toBe(0);
    const traceId = run.stdout.trim();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const ui = `http://127.0.0.1:${ports.ui}`;
    const ours = await eventually(
      async () => {
        const res = await fetch(`${ui}/api/v2/trace/${traceId}`);
        if (res.status !== 200) return undefined;
        const spans = (await res.json()) as ZipkinSpan[];
        return spans.length >= 2 ? spans : undefined;
      },
      { what: `trace ${traceId} from the ui-proxy`, timeoutMs: 120_000 },
    );
    expect(ours.map((s) => s.kind).sort()).toEqual(['CLIENT', 'SERVER']);
    expect(ours.every((s) => s.localEndpoint?.serviceName === 'secure-shop')).toBe(true);

    const theirs = await eventually(
      async () => {
        const res = await fetch(`${ds.zipkin}/api/v2/trace/${traceId}`);
        return res.status === 200 ? ((await res.json()) as ZipkinSpan[]) : undefined;
      },
      { what: `trace ${traceId} from zipkin-server` },
    );
    const byId = (spans: ZipkinSpan[]) => [...spans].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(ours)).toEqual(byId(theirs));
  });

  it("decider set --fleet over SASL_SSL reaches the agent's decider file", async () => {
    const set = startPart('secure-decider', [
      'decider',
      'set',
      'pintrace.sample_rate.secure-shop',
      '7.5',
      '--fleet',
      '--config',
      ds.clientConfig,
      '--decider-topic',
      deciderTopic,
    ]);
    expect(await set.exited, readFileSync(set.logFile, 'utf8')).toBe(0);
    const values = await eventually(
      async () => {
        try {
          const v = JSON.parse(readFileSync(deciderFile, 'utf8')) as Record<string, number>;
          return v['pintrace.sample_rate.secure-shop'] === 7.5 ? v : undefined;
        } catch {
          return undefined;
        }
      },
      { what: "the fleet value in the agent's decider file", timeoutMs: 60_000 },
    );
    expect(values['pintrace.sample_rate.secure-shop']).toBe(7.5);
  });

  it('no secret in any log line or /metrics page', async () => {
    const pages = await Promise.all([ports.agent, ports.collector, ports.ui].map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()));
    const logs = parts.map((p) => readFileSync(p.logFile, 'utf8'));
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      for (const text of [...pages, ...logs]) expect(text.includes(secret)).toBe(false);
    }
    // The parts did log their start (so the search above read real output).
    expect(logs.every((l) => l.length > 0)).toBe(true);
  });
});
