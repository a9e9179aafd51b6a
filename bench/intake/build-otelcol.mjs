#!/usr/bin/env node
/**
 * Builds bench/intake's peer, the OpenTelemetry Collector (otlp receiver, kafka exporter, batch
 * processor), from Go modules with the OpenTelemetry Collector Builder (ocb), into
 * var/otelcol/<key>/otelcol-bench, and prints the binary's path. The key is a hash of the
 * manifest (less its comments), the builder's version and the Go toolchain's, so a rerun with
 * nothing changed reuses the binary (the first build took 7 minutes on 2 busy cores; the Go
 * module and build caches make a rebuild faster).
 *
 *   node bench/intake/build-otelcol.mjs [--force]
 *
 * Needs `go` on PATH (Go ≥ 1.24; on this project's machines it is preinstalled) and the Go module
 * proxy. Builds niced: the machine is shared.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
/** The builder of the same release as the core modules in the manifest. */
export const BUILDER = 'go.opentelemetry.io/collector/cmd/builder@v0.165.0';
const manifestFile = path.join(here, 'otelcol-builder.yaml');

function goVersion() {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/** The cached binary's path (built now if missing). */
export function otelcolBinary({ force = false, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const go = goVersion();
  if (go === undefined) {
    throw new Error(
      "bench/intake needs a Go toolchain (go ≥ 1.24 on PATH) to build the OpenTelemetry Collector; this project's machines have it in /usr/local/go/bin",
    );
  }
  const minor = Number(/^go1\.(\d+)/.exec(go)?.[1] ?? 0);
  if (minor < 24) throw new Error(`bench/intake: ${go} is too old to build the OpenTelemetry Collector v0.165 (needs go ≥ 1.24)`);
  const manifest = readFileSync(manifestFile, 'utf8');
  // Comments do not change the build, so they are not part of the key.
  const content = manifest
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  const key = createHash('sha256').update(content).update(BUILDER).update(go).digest('hex').slice(0, 12);
  const dir = path.join(root, 'var', 'otelcol', key);
  const binary = path.join(dir, 'otelcol-bench');
  if (existsSync(binary) && !force) return binary;
  // Built in a scratch folder and moved into place, so a build cut short leaves no half binary.
  const work = `${dir}.building`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const config = path.join(work, 'builder.yaml');
  writeFileSync(config, manifest.replace('OUTPUT_PATH', path.join(work, 'dist')));
  log(`building the OpenTelemetry Collector with ${BUILDER} (${go}) into ${path.relative(root, dir)}; the first build takes minutes`);
  const t0 = Date.now();
  execFileSync('nice', ['-n', '19', 'go', 'run', BUILDER, '--config', config], { stdio: ['ignore', 'inherit', 'inherit'], cwd: work });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  renameSync(path.join(work, 'dist', 'otelcol-bench'), binary);
  // The generated sources and go.mod stay beside the binary: they say exactly which module versions went in.
  renameSync(path.join(work, 'dist'), path.join(dir, 'src'));
  rmSync(work, { recursive: true, force: true });
  log(`built ${path.relative(root, binary)} in ${Math.round((Date.now() - t0) / 1000)} s`);
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(otelcolBinary({ force: process.argv.includes('--force') }));
}
