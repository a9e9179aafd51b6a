/**
 * README.md's headline benchmark table is generated from each bench/<scenario>/results.json; this fails when
 * someone edits one without the other (run `node scripts/bench-headline.mjs` to regenerate).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

describe('README benchmark table', () => {
  it('is what the results files say', () => {
    const run = spawnSync(process.execPath, ['scripts/bench-headline.mjs', '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
