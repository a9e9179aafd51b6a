import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { librdkafkaAvailable, librdkafkaLoadError } from '../kafka/src/librdkafka-base.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

interface NodeRuntimes {
  SUITE_MAJOR: number;
  NODE_RUNTIMES: Record<string, { version: string }>;
}
// Plain JS that runs before `npm install`; imported by URL, as it has no type declarations.
const runtimes = (await import(new URL('../scripts/node-runtime.mjs', import.meta.url).href)) as NodeRuntimes;
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;

/**
 * The integration tests run only under `npm test`, which runs them on the suite's Node
 * (scripts/with-node.mjs); the unit tests run on Node 22 as well and cannot hold these.
 */
describe('the Node the suite runs on', () => {
  it('is the pinned major or newer, in this process, in `node` and `npm` from PATH', () => {
    expect(major(process.version), `running on ${process.version}; run the suite with npm test`).toBeGreaterThanOrEqual(runtimes.SUITE_MAJOR);
    // Children the tests and parts spawn by name must run on the same binary as this process.
    const onPath = execFileSync('node', ['-p', 'process.execPath'], { encoding: 'utf8' }).trim();
    expect(realpathSync(onPath)).toBe(realpathSync(process.execPath));
    const npmNode = (JSON.parse(execFileSync('npm', ['version', '--json'], { cwd: root, encoding: 'utf8' })) as { node: string }).node;
    expect(npmNode).toBe(process.versions.node);
  });

  it("loads the librdkafka binding, built for this Node's ABI", () => {
    expect(librdkafkaAvailable(), librdkafkaLoadError()).toBe(true);
  });
});

describe('supported Node versions', () => {
  it('every package admits every pinned Node and none older than 22 (Node 20 is past its end of life)', () => {
    const pinned = Object.values(runtimes.NODE_RUNTIMES).map((r) => r.version);
    expect(pinned.map(major).sort()).toEqual([22, 24]);
    for (const dir of ['.', ...workspaces]) {
      const { engines } = JSON.parse(read(`${dir}/package.json`)) as { engines?: { node?: string } };
      expect(engines?.node, `${dir}/package.json engines.node`).toBe('>=22');
    }
  });

  it("builds the Docker image on the suite's major", () => {
    const images = [...read('Dockerfile').matchAll(/^FROM (node:\S+)/gm)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toBe(`node:${runtimes.SUITE_MAJOR}-bookworm-slim`);
  });
});
