import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The poms that pin each server's artifacts (devstack/maven/<name>/pom.xml). */
const pomDir = fileURLToPath(new URL('../maven/', import.meta.url));

export type ArtifactSet = 'kafka' | 'elasticsearch' | 'opensearch' | 'opensearch3' | 'opensearch-security' | 'zipkin';

function pomPath(set: ArtifactSet): string {
  return path.join(pomDir, set, 'pom.xml');
}

function pomHash(set: ArtifactSet): string {
  return createHash('sha256')
    .update(readFileSync(pomPath(set)))
    .digest('hex')
    .slice(0, 16);
}

/** True when the jars are already in place for the current pom; then no Maven run (and no network) is needed. */
export function artifactsReady(libDir: string, set: ArtifactSet): boolean {
  const marker = path.join(libDir, '.resolved');
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomHash(set);
}

/**
 * Copies the artifacts of one server into libDir through Maven. Maven keeps them in the local
 * repository (~/.m2), so the first run downloads and later runs copy from the cache.
 */
export async function resolveArtifacts(libDir: string, set: ArtifactSet, onOutput?: (line: string) => void): Promise<string[]> {
  if (!artifactsReady(libDir, set)) {
    await rm(libDir, { recursive: true, force: true });
    await mkdir(libDir, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const mvn = spawn('mvn', ['-B', '-q', '-f', pomPath(set), 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let tail = '';
      const collect = (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-4000);
        for (const line of chunk.toString().split('\n')) if (line.trim()) onOutput?.(line.trim());
      };
      mvn.stdout.on('data', collect);
      mvn.stderr.on('data', collect);
      mvn.on('error', reject);
      mvn.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mvn could not resolve the ${set} artifacts (exit ${code}):\n${tail}`))));
    });
    await writeFile(path.join(libDir, '.resolved'), pomHash(set) + '\n');
  }
  return (await readdir(libDir)).filter((f) => f.endsWith('.jar')).map((f) => path.join(libDir, f));
}
