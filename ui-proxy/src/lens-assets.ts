/**
 * Serves the Zipkin UI (Lens) under a base path as zipkin-server's ZipkinUiConfiguration does:
 *   <base>/config.json                         max-age=600
 *   <base>/, /index.html, /traces/{id},
 *   /dependency, /traceViewer                  index.html, max-age=60
 *   <base>/<file>                              the file, max-age=31536000
 *   /, <base>                                  302 to <base>/
 * index.html has "/zipkin" baked in; for another base the asset paths become relative
 * (`="/zipkin` → `="."`) and `<base href>` names the new base, exactly zipkin's rewrite.
 * Ours on top: a fixed link to the service health page (`pintrace/health`, relative to
 * `<base href>`) before `</body>`: plain HTML outside Lens's `#root`, so React never sees it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { text, type Reply } from './reply.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

export interface UiConfigJson {
  environment: string;
  queryLimit: number;
  defaultLookback: number;
  searchEnabled: boolean;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` };
}

/** Rewrites Lens's index.html for a base path ("" = root, "/zipkin" = unchanged). */
export function rewriteIndexHtml(html: string, basePath: string): string {
  if (basePath === '/zipkin') return html;
  return html.replaceAll('="/zipkin', '=".').replaceAll('<base href=".', `<base href="${basePath}`);
}

/** The health page's link, placed in the corner where Lens draws nothing of its own. */
const HEALTH_LINK =
  '<a id="pintrace-health-link" href="pintrace/health" title="Requests, errors and latency per service (Pintrace)" ' +
  'style="position:fixed;right:16px;bottom:16px;z-index:2000;padding:8px 14px;border-radius:18px;background:#1f6fb2;color:#fff;' +
  'font:600 13px/1.2 system-ui,sans-serif;text-decoration:none;box-shadow:0 2px 6px rgba(0,0,0,.3)">Service health</a>';

/** Adds the health page's link to Lens's index.html (unchanged when it has no `</body>`). */
export function withHealthLink(html: string): string {
  const end = html.lastIndexOf('</body>');
  return end < 0 ? html : `${html.slice(0, end)}${HEALTH_LINK}\n  ${html.slice(end)}`;
}

export class LensAssets {
  private readonly files = new Map<string, Asset>();
  private readonly index: Asset;
  private readonly config: Asset;
  readonly basePath: string;

  constructor(dir: string | undefined, basePath: string, config: UiConfigJson) {
    this.basePath = basePath;
    if (dir !== undefined) this.load(dir, '');
    const html = this.files.get('index.html');
    this.index =
      html === undefined
        ? asset(Buffer.from(''), TYPES['.html']!)
        : asset(Buffer.from(withHealthLink(rewriteIndexHtml(html.body.toString('utf8'), basePath))), TYPES['.html']!);
    const configJson = {
      ...config,
      logsUrl: null,
      supportUrl: null,
      archivePostUrl: null,
      archiveUrl: null,
      dependency: { enabled: true, lowErrorRate: 0.5, highErrorRate: 0.75 },
    };
    this.config = asset(Buffer.from(JSON.stringify(configJson)), 'application/json; charset=utf-8');
  }

  get available(): boolean {
    return this.files.has('index.html');
  }

  private load(dir: string, rel: string): void {
    for (const name of readdirSync(path.join(dir, rel))) {
      if (name.startsWith('.')) continue;
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = path.join(dir, relPath);
      if (statSync(full).isDirectory()) this.load(dir, relPath);
      else this.files.set(relPath, asset(readFileSync(full), TYPES[path.extname(name)] ?? 'application/octet-stream'));
    }
  }

  /** Answers a UI path, or undefined when the path is not the UI's. */
  serve(pathname: string, ifNoneMatch: string | undefined): Reply | undefined {
    const base = this.basePath;
    if (pathname === '/' && base !== '') return { status: 302, headers: { location: `${base}/` }, body: '' };
    if (base !== '' && pathname === base) return { status: 302, headers: { location: `${base}/` }, body: '' };
    if (!pathname.startsWith(`${base}/`)) return undefined;
    const rel = pathname.slice(base.length + 1);
    if (rel === 'config.json') return this.send(this.config, 'max-age=600', ifNoneMatch);
    if (rel === '' || rel === 'index.html' || rel === 'dependency' || rel === 'traceViewer' || /^traces\/[^/]+$/.test(rel)) {
      if (!this.available) return this.missing();
      return this.send(this.index, 'max-age=60', ifNoneMatch);
    }
    const file = this.files.get(rel);
    if (file !== undefined) return this.send(file, 'max-age=31536000', ifNoneMatch);
    return undefined;
  }

  private missing(): Reply {
    return text(503, 'the Zipkin UI files are not available: see the ui-proxy log (run `pintrace devstack up` once or give --lens-jar)');
  }

  private send(a: Asset, cacheControl: string, ifNoneMatch: string | undefined): Reply {
    const headers = { 'content-type': a.type, 'cache-control': cacheControl, etag: a.etag };
    if (ifNoneMatch === a.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: a.body };
  }
}
