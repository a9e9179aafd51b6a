import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The real-SDK peers of the intake tests (test/peers/): the Python OpenTelemetry SDK from the venv
 * scripts/setup.mjs installs, and the Java OpenTelemetry SDK + Brave, whose classpath Maven resolves
 * from Central here (as the Finagle peer's).
 */
const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const pythonBin = path.join(repoRoot, 'var', 'python-otel', 'bin', 'python');
export const pythonPeer = path.join(repoRoot, 'test', 'peers', 'python', 'peer.py');
const javaDir = path.join(repoRoot, 'test', 'peers', 'java');

export interface Peer {
  child: ChildProcess;
  port: number;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts a peer process and waits for its "listening <port>" line. */
export function startPeer(command: string, args: string[], what: string): Promise<Peer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise<Peer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(m[1]),
          output: () => out,
          stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}: ${out}`));
    });
  });
}

/** Compiles JavaPeer.java against its Maven classpath; returns the java -cp value. */
export async function buildJavaPeer(): Promise<string> {
  const work = mkdtempSync(path.join(tmpdir(), 'pintrace-java-peer-'));
  const cpFile = path.join(work, 'cp.txt');
  await run('mvn', ['-q', '-B', '-f', path.join(javaDir, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`], { timeout: 240_000 });
  const deps = readFileSync(cpFile, 'utf8').trim();
  const classes = path.join(work, 'classes');
  await run('javac', ['-nowarn', '-d', classes, '-cp', deps, path.join(javaDir, 'JavaPeer.java')], { timeout: 120_000 });
  return `${classes}${path.delimiter}${deps}`;
}
