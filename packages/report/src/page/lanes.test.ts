import { describe, expect, it } from 'vitest';
import { haltLabel } from './lanes.js';

describe("the halt's mark on the axis", () => {
  it('says its ring once, whether or not the reason names it first', () => {
    expect(haltLabel('pilot', 'pilot: failures past the disruption budget (3 > 2)')).toBe('halted in pilot: failures past the disruption budget (3 > 2)');
    expect(haltLabel('pilot', 'halted by an operator')).toBe('halted in pilot: halted by an operator');
    // A ring whose name starts another's is not taken for it.
    expect(haltLabel('pil', 'pilot: failures')).toBe('halted in pil: pilot: failures');
    expect(haltLabel(null, 'no ring yet')).toBe('halted: no ring yet');
  });

  it('shows the start of a very long reason and how much more there is (drawn whole, it would hold the page)', () => {
    const label = haltLabel('pilot', `pilot: ${'A'.repeat(100_000)}`);
    expect(label.length).toBeLessThan(450);
    expect(label).toMatch(/^halted in pilot: A+… \(\d+ more characters\)$/);
  });
});
