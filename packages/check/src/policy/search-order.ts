/**
 * The order the blast-radius search expands its states in. Breadth first (`fifo`): the first run found to a state
 * is a shortest one. By progress (`byProgress`): by the tick the state is at, then by how far its ring's devices
 * have gone (waiting, applying, applied, done): every step of the model moves one of these forward (a tick the first,
 * a report the second), so a state comes out after every state that leads to it, and what its settled rings carry
 * is final when it is expanded (never expanded twice).
 */
export interface SearchOrder {
  push(index: number, key: number): void;
  /** The next state's index, or undefined when none is left. */
  pop(): number | undefined;
}

export function fifo(): SearchOrder {
  const queue: number[] = [];
  let head = 0;
  return {
    push: (index) => void queue.push(index),
    pop: () => (head < queue.length ? queue[head++] : undefined),
  };
}

/** A binary heap of (key, index), smallest key first, then the index pushed first. */
export function byProgress(): SearchOrder {
  const keys: number[] = [];
  const items: number[] = [];
  const less = (a: number, b: number) => keys[a]! < keys[b]! || (keys[a] === keys[b] && items[a]! < items[b]!);
  const swap = (a: number, b: number) => {
    [keys[a], keys[b]] = [keys[b]!, keys[a]!];
    [items[a], items[b]] = [items[b]!, items[a]!];
  };
  return {
    push(index, key) {
      keys.push(key);
      items.push(index);
      for (let at = keys.length - 1; at > 0; ) {
        const up = (at - 1) >> 1;
        if (!less(at, up)) break;
        swap(at, up);
        at = up;
      }
    },
    pop() {
      if (keys.length === 0) return undefined;
      const top = items[0]!;
      const lastKey = keys.pop()!;
      const lastItem = items.pop()!;
      if (keys.length > 0) {
        keys[0] = lastKey;
        items[0] = lastItem;
        for (let at = 0; ; ) {
          const l = 2 * at + 1;
          const r = l + 1;
          let min = at;
          if (l < keys.length && less(l, min)) min = l;
          if (r < keys.length && less(r, min)) min = r;
          if (min === at) break;
          swap(at, min);
          at = min;
        }
      }
      return top;
    },
  };
}
