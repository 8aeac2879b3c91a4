/**
 * The device lifecycle as a diagram, from the compiled machine itself (as docs/lifecycle.md is): each state in the
 * column of its distance from the initial state, one edge per (source, target) with its events.
 */
import { deviceLifecycle } from '@hotpatch/core';
import type { LifecycleDiagram } from './model.js';

/** What the diagram reads of a compiled lifecycle. */
interface Drawable {
  readonly initial: { readonly value: string };
  readonly transitions: ReadonlyArray<{ readonly source: string; readonly target: string; readonly eventType: string }>;
}

export function lifecycleDiagram(lifecycle: Drawable = deviceLifecycle): LifecycleDiagram {
  const initial = lifecycle.initial.value;
  const edges = new Map<string, { source: string; target: string; events: string[] }>();
  const next = new Map<string, string[]>();
  for (const t of lifecycle.transitions) {
    const key = `${t.source}→${t.target}`;
    const edge = edges.get(key) ?? { source: t.source, target: t.target, events: [] };
    if (!edge.events.includes(t.eventType)) edge.events.push(t.eventType);
    edges.set(key, edge);
    if (t.source !== t.target) next.set(t.source, [...(next.get(t.source) ?? []), t.target]);
  }
  // Breadth-first from the initial state: a state's column is its distance, its row its order of discovery.
  const column = new Map<string, number>([[initial, 0]]);
  const queue = [initial];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const target of next.get(state) ?? []) {
      if (column.has(target)) continue;
      column.set(target, column.get(state)! + 1);
      queue.push(target);
    }
  }
  // A state most states lead to (retired, needsReboot) goes on a row of its own below the others, under the middle of
  // the states that lead to it, so that its many edges do not cross the path through the lifecycle.
  const sources = new Map<string, Set<string>>();
  for (const e of edges.values()) if (e.source !== e.target) sources.set(e.target, (sources.get(e.target) ?? new Set()).add(e.source));
  const isHub = (state: string) => (sources.get(state)?.size ?? 0) > column.size / 2;
  const rows = new Map<number, number>();
  const placed = [...column].filter(([state]) => !isHub(state)).map(([state, x]) => {
    const y = rows.get(x) ?? 0;
    rows.set(x, y + 1);
    return { state, x, y };
  });
  const bottom = Math.max(...rows.values());
  const used = new Set<number>();
  const hubs = [...column.keys()].filter(isHub).map((state) => {
    const xs = [...sources.get(state)!].map((source) => column.get(source) ?? 0);
    let x = Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    while (used.has(x)) x++;
    used.add(x);
    return { state, x, y: bottom };
  });
  const nodes = [...placed, ...hubs];
  return { initial, nodes, edges: [...edges.values()] };
}
