import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { lifecycleMarkdown, lifecycleMermaid } from './diagram.js';
import { deviceLifecycle } from './lifecycle.js';

describe('lifecycle diagram', () => {
  it('has an edge for every transition of the machine', () => {
    const mermaid = lifecycleMermaid(deviceLifecycle);
    for (const t of deviceLifecycle.transitions) expect(mermaid).toContain(`${t.source} --> ${t.target}: `);
    expect(mermaid).toContain('current --> staged: PatchStaged [canStage]');
    expect(mermaid).toContain('retired --> [*]');
  });

  it('docs/lifecycle.md is the page generated from the machine (run `pnpm docs:lifecycle` after changing it)', async () => {
    const committed = await readFile(new URL('../../../../docs/lifecycle.md', import.meta.url), 'utf8');
    expect(committed).toBe(lifecycleMarkdown(deviceLifecycle));
  });
});
