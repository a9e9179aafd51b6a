/**
 * Finds the Zipkin UI (Lens) and extracts it at run time. Lens 3.x is not published on its own:
 * it is the nested jar BOOT-INF/lib/zipkin-lens-<v>.jar inside zipkin-server's exec jar, with the
 * files under zipkin-lens/. They are Zipkin's build output, so the project does not commit them;
 * they are copied from the jar the devstack (or Maven) already downloaded into `<lensDir>/<v>/`.
 *
 * Jar search order: the given path; ./var/devstack/zipkin/lib/zipkin-server-*-exec.jar;
 * ~/.m2/repository/io/zipkin/zipkin-server/<v>/zipkin-server-<v>-exec.jar (newest version first).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { UiProxyError } from './errors.js';

const PREFIX = 'zipkin-lens/';
const MARKER = '.complete';

export interface LensLocation {
  dir: string;
  version: string;
  jar: string;
}

function versionOf(jar: string): string {
  return /zipkin-server-([^/]+?)-exec\.jar$/.exec(jar)?.[1] ?? 'unknown';
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number(x) || 0);
  const pb = b.split(/[.-]/).map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  }
  return 0;
}

/** Candidate exec jars, best first. */
export function findServerJars(explicit?: string): string[] {
  if (explicit !== undefined) return [path.resolve(explicit)];
  const out: string[] = [];
  const devstackLib = path.resolve('var', 'devstack', 'zipkin', 'lib');
  const m2 = path.join(os.homedir(), '.m2', 'repository', 'io', 'zipkin', 'zipkin-server');
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  for (const f of list(devstackLib)) if (/^zipkin-server-.+-exec\.jar$/.test(f)) out.push(path.join(devstackLib, f));
  for (const v of list(m2).sort(compareVersions).reverse()) {
    const jar = path.join(m2, v, `zipkin-server-${v}-exec.jar`);
    if (existsSync(jar)) out.push(jar);
  }
  return out;
}

function openZip(open: (cb: (err: Error | null, zip: yauzl.ZipFile) => void) => void): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => open((err, zip) => (err ? reject(err) : resolve(zip))));
}

function readAll(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err: Error | null, stream: Readable) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', reject);
    });
  });
}

/** Calls `visit` for every file entry; stops early when it returns true. */
async function eachEntry(zip: yauzl.ZipFile, visit: (entry: yauzl.Entry) => Promise<boolean | void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      visit(entry).then((stop) => {
        if (stop === true) {
          zip.close();
          resolve();
        } else zip.readEntry();
      }, reject);
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
}

async function extract(jar: string, target: string): Promise<void> {
  const outer = await openZip((cb) => yauzl.open(jar, { lazyEntries: true, autoClose: false }, cb));
  let lensJar: Buffer | undefined;
  await eachEntry(outer, async (entry) => {
    if (!/^BOOT-INF\/lib\/zipkin-lens-[^/]+\.jar$/.test(entry.fileName)) return false;
    lensJar = await readAll(outer, entry);
    return true;
  });
  outer.close();
  if (lensJar === undefined) throw new Error(`no BOOT-INF/lib/zipkin-lens-*.jar in ${jar}`);
  const inner = await openZip((cb) => yauzl.fromBuffer(lensJar!, { lazyEntries: true }, cb));
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  let files = 0;
  await eachEntry(inner, async (entry) => {
    const name = entry.fileName;
    if (!name.startsWith(PREFIX) || name.endsWith('/')) return false;
    const rel = name.slice(PREFIX.length);
    if (rel.split('/').some((p) => p === '..' || p === '')) return false;
    const dest = path.join(staging, rel);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, await readAll(inner, entry));
    files++;
    return false;
  });
  if (files === 0 || !existsSync(path.join(staging, 'index.html'))) throw new Error(`no zipkin-lens/index.html in the lens jar of ${jar}`);
  writeFileSync(path.join(staging, MARKER), `${jar}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
}

/** Returns the extracted Lens directory, extracting it once per version. */
export async function prepareLens(options: { jar?: string | undefined; lensDir: string }): Promise<LensLocation> {
  const jars = findServerJars(options.jar).filter((j) => existsSync(j));
  const jar = jars[0];
  if (jar === undefined) {
    throw new UiProxyError(
      'LENS_UNAVAILABLE',
      "the Zipkin UI comes from zipkin-server's exec jar, and none was found: run `pintrace devstack up` once " +
        '(it downloads zipkin-server 3.6.1) or give --lens-jar /path/to/zipkin-server-<v>-exec.jar',
    );
  }
  const version = versionOf(jar);
  const dir = path.resolve(options.lensDir, version);
  if (existsSync(path.join(dir, MARKER))) return { dir, version, jar };
  try {
    await extract(jar, dir);
  } catch (err) {
    throw new UiProxyError('LENS_UNAVAILABLE', `could not extract the Zipkin UI from ${jar}: ${(err as Error).message}`, { cause: err });
  }
  return { dir, version, jar };
}
