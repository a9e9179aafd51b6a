#!/usr/bin/env node
// A committed entry point, so `npm install` links the bin before the first build.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('pintrace: not built yet; run `npm run build` in the repository root first\n');
  process.exit(1);
}
await import(main.href);
