#!/usr/bin/env node
// First step of `npm start` and `npm test` on a fresh clone: installs what the project needs and
// nothing it already has. Plain Node with no dependencies, because it runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

// Debian packages: the servers' runtime (Java 17, Maven) and the peers the tests talk to.
const debian = [
  { bin: 'java', pkg: 'openjdk-17-jdk-headless' },
  { bin: 'javac', pkg: 'openjdk-17-jdk-headless' },
  { bin: 'mvn', pkg: 'maven' },
  { bin: 'kcat', pkg: 'kcat' },
  { bin: 'memcached', pkg: 'memcached' },
  { bin: 'chromium', pkg: 'chromium' },
  { bin: 'thrift', pkg: 'thrift-compiler' },
  { bin: 'docker-compose', pkg: 'docker-compose' },
  // The agent's Kafka producer, librdkafka (@confluentinc/kafka-javascript), is compiled at
  // `npm install` from the sources in its npm package: a C/C++ toolchain and the headers of the
  // zlib (gzip) and OpenSSL (TLS) it links against.
  { bin: 'g++', pkg: 'g++' },
  { bin: 'make', pkg: 'make' },
  { file: '/usr/include/zlib.h', pkg: 'zlib1g-dev' },
  { file: '/usr/include/openssl/ssl.h', pkg: 'libssl-dev' },
  // The agent's line check is C compiled to WebAssembly; the .wasm is committed, and a test
  // rebuilds it with these to prove it is what its source makes (logger-agent/wasm/build.sh).
  { bin: 'clang', pkg: 'clang' },
  { bin: 'wasm-ld', pkg: 'lld' },
];

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

const present = (d) => (d.file ? existsSync(d.file) : has(d.bin));

function installDebian() {
  const missing = [...new Set(debian.filter((d) => !present(d)).map((d) => d.pkg))];
  if (!missing.length) return;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    say(`missing programs; install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function installNpm() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  // `npm install` rather than `npm ci`: npm 11 writes lockfiles without the other platforms'
  // optional packages (rollup's), which `npm ci` then rejects as out of sync. The lockfile still
  // pins every version.
  say('installing npm packages (npm install)');
  // CKJS_LINKING=dynamic: @confluentinc/kafka-javascript has no prebuilt binary we can fetch, and
  // its default static build downloads zlib, OpenSSL and more from their sites; dynamic builds the
  // librdkafka sources it ships against the Debian headers above (~3 min on 2 cores, once).
  const env = { ...process.env, CKJS_LINKING: process.env.CKJS_LINKING ?? 'dynamic' };
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env });
}

installDebian();
installNpm();
