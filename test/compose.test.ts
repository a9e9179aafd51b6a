import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { devstackOptions } from '@pintrace/devstack';
import { uiOptions } from '@pintrace/ui-proxy';

const root = fileURLToPath(new URL('../', import.meta.url));
const file = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: Array<{ published: number | string; target: number }>;
}

/** The version a devstack pom pins for an artifact. */
function pomVersion(server: string, groupId: string, artifactId: string): string {
  const pom = readFileSync(file(`devstack/maven/${server}/pom.xml`), 'utf8');
  const m = new RegExp(`<groupId>${groupId}</groupId>\\s*<artifactId>${artifactId}</artifactId>\\s*<version>([^<]+)</version>`).exec(pom);
  if (!m) throw new Error(`no ${artifactId} version in the ${server} pom`);
  return m[1];
}

const published = (s: Service) => (s.ports ?? []).map((p) => Number(p.published));

describe('docker-compose.yml', () => {
  // docker-compose (Debian package) validates and normalises the file offline; no Docker engine needed.
  const normalised = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8' });
  const services = (parse(normalised) as { services: Record<string, Service> }).services;

  it('runs the same servers, versions and ports as the devstack', () => {
    expect(services.kafka.image).toBe(`apache/kafka:${pomVersion('kafka', 'org.apache.kafka', 'kafka_2.13')}`);
    expect(services.elasticsearch.image).toMatch(new RegExp(`elasticsearch:${pomVersion('elasticsearch', 'org.elasticsearch', 'elasticsearch')}$`));
    expect(services.zipkin.image).toBe(`openzipkin/zipkin:${pomVersion('zipkin', 'io.zipkin', 'zipkin-server')}`);
    expect(published(services.kafka)).toContain(Number(devstackOptions.kafkaPort.default));
    expect(published(services.elasticsearch)).toContain(Number(devstackOptions.esPort.default));
    expect(published(services.zipkin)).toContain(Number(devstackOptions.zipkinPort.default));
    expect(services.kafka.environment?.KAFKA_NUM_PARTITIONS).toBe(devstackOptions.partitions.default);
    expect(published(services['ui-proxy'])).toContain(Number(uiOptions.port.default));
    // The image takes the Zipkin UI from the same zipkin-server release the devstack runs.
    expect(readFileSync(file('Dockerfile'), 'utf8')).toContain(`io.zipkin:zipkin-server:${pomVersion('zipkin', 'io.zipkin', 'zipkin-server')}:jar:exec`);
  });

  it('configures zipkin-server as the devstack does: Elasticsearch storage, 0 replicas, not consuming Kafka', () => {
    const env = services.zipkin.environment ?? {};
    expect(env.STORAGE_TYPE).toBe('elasticsearch');
    expect(env.ES_INDEX_REPLICAS).toBe('0');
    expect(env.AUTOCOMPLETE_KEYS).toBe(devstackOptions.autocompleteKeys.default);
    expect(env.KAFKA_BOOTSTRAP_SERVERS).toBeUndefined();
  });

  it('runs our parts with commands and flags the pintrace CLI knows', () => {
    const ours = Object.entries(services).filter(([, s]) => s.build);
    expect(ours.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['agent', 'collector', 'demo', 'ui-proxy']));
    for (const [name, s] of ours) {
      const [sub, ...args] = s.command ?? [];
      const help = execFileSync(process.execPath, [file('cli/bin/pintrace.js'), sub, '--help'], { encoding: 'utf8' });
      for (const flag of args.filter((a) => a.startsWith('--'))) {
        expect(help, `${name}: pintrace ${sub} has no ${flag}`).toContain(flag);
      }
    }
  });
});
