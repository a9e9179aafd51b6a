import { appendFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentSandbox, lines, waitFor } from './helpers.js';

/**
 * A writer rotating many times while the agent tails it: the agent's directory listing can see
 * the live name after the rename already points at the new file (readdir, then stat by name), and
 * must neither take the file it reads for deleted nor open a live file that was rotated away
 * between listing and opening.
 */
describe('tailing a fast-rotating writer', () => {
  const box = agentSandbox();

  it('ships every line exactly once across hundreds of rotations', async () => {
    const { producer } = await box.start(undefined, { pollIntervalMs: '5', rotationGraceMs: '0', batchLines: '50', lingerMs: '0' });
    const live = path.join(box.dir, 'svc.jsonl');
    const total = 12_000;
    const perFile = 60;
    let stamp = Date.now();
    for (let n = 0; n < total; n += 20) {
      await appendFile(live, lines(n, n + 20));
      if ((n + 20) % perFile === 0) await rename(live, `${live}.${stamp++}`);
      // paced near the agent's speed, so that it often lists the directory as the writer rotates
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => producer.ids().length >= total, 30_000, `${total} lines`).catch((e) => {
      const s = new Set(producer.ids());
      throw new Error(`${e.message}: ${producer.ids().length} sent, ${s.size} distinct`);
    });
    await new Promise((r) => setTimeout(r, 200));
    const seen = new Map<string, number>();
    for (const id of producer.ids()) seen.set(id, (seen.get(id) ?? 0) + 1);
    expect(seen.size).toBe(total);
    expect([...seen].filter(([, n]) => n > 1).length).toBe(0);
  }, 60_000);
});
