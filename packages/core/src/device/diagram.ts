/**
 * The lifecycle diagram, generated from the compiled machine (never drawn by hand), as Mermaid and as the
 * Markdown page docs/lifecycle.md. `pnpm docs:lifecycle` rewrites the page; a test fails when it is stale.
 */
import type { CompiledLifecycle } from '../evolve.js';
import { RESTING_STATES, IN_FLIGHT_STATES } from './context.js';

type AnyLifecycle = CompiledLifecycle<string, object, { readonly type: string }>;

/** A Mermaid stateDiagram-v2: one edge per (source, target), labelled with its events and guards. */
export function lifecycleMermaid(lifecycle: AnyLifecycle): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${lifecycle.initial.value}`];
  const edges = new Map<string, string[]>();
  for (const t of lifecycle.transitions) {
    const key = `${t.source} --> ${t.target}`;
    const label = t.guardName ? `${t.eventType} [${t.guardName}]` : t.eventType;
    const list = edges.get(key) ?? [];
    if (!list.includes(label)) list.push(label);
    edges.set(key, list);
  }
  for (const [edge, labels] of edges) lines.push(`  ${edge}: ${labels.join(' / ')}`);
  for (const final of lifecycle.finalStates) lines.push(`  ${final} --> [*]`);
  return lines.join('\n');
}

/** A table of every transition: source, event, guard, target, actions. */
function transitionTable(lifecycle: AnyLifecycle): string {
  const rows = lifecycle.transitions.map(
    (t) => `| \`${t.source}\` | ${t.eventType} | ${t.guardName ? `\`${t.guardName}\`` : '—'} | \`${t.target}\`${t.internal ? ' (stays)' : ''} | ${t.actionNames.map((a) => `\`${a}\``).join(', ') || '—'} |`,
  );
  return ['| from | event | guard | to | actions |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export function lifecycleMarkdown(lifecycle: AnyLifecycle): string {
  return `<!-- Generated from packages/core/src/device/machine.ts by \`pnpm docs:lifecycle\`. Do not edit by hand. -->
# The device lifecycle

The per-device hotpatch lifecycle, drawn from the xstate machine definition itself (\`deviceMachine\`), the same
object the library runs, \`evolve\` is compiled from and the tests check. Guards are in brackets; where a state
has several transitions for one event, the first whose guard passes is taken, in the order of the table below.

Resting states (on a baseline, nothing in flight): ${RESTING_STATES.map((s) => `\`${s}\``).join(', ')}.
States with a patch in flight: ${IN_FLIGHT_STATES.map((s) => `\`${s}\``).join(', ')}. Final: ${[...lifecycle.finalStates].map((s) => `\`${s}\``).join(', ')}.

\`\`\`mermaid
${lifecycleMermaid(lifecycle)}
\`\`\`

## Every transition

${transitionTable(lifecycle)}
`;
}
