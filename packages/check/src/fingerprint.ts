/**
 * Canonical state fingerprints: the state's value and context as JSON with keys sorted at every level, so that two
 * states equal as data have one fingerprint whatever order their keys were written in. Contexts share most of
 * their sub-objects with their predecessor (every update is a spread), so sub-objects' canonical text is memoised
 * by identity, which makes fingerprinting a successor cost little more than its changed fields.
 */
const memo = new WeakMap<object, string>();

export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  const cached = memo.get(value);
  if (cached !== undefined) return cached;
  let text: string;
  if (Array.isArray(value)) {
    text = '[' + value.map(canonical).join(',') + ']';
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    let out = '{';
    for (let i = 0; i < keys.length; i++) out += (i ? ',' : '') + JSON.stringify(keys[i]) + ':' + canonical(record[keys[i]!]);
    text = out + '}';
  }
  memo.set(value, text);
  return text;
}

export function stateFingerprint(state: { readonly value: string; readonly context: unknown }): string {
  return state.value + '|' + canonical(state.context);
}
