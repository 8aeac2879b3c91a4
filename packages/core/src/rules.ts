/** Named conjunctions of guards: a guard made of named rules, which can say which rule refused. */

export interface NamedConjunction<A> {
  (args: A): boolean;
  readonly parts: ReadonlyArray<readonly [string, (args: A) => boolean]>;
}

export function allOf<A>(parts: Record<string, (args: A) => boolean>): NamedConjunction<A> {
  const list = Object.entries(parts);
  const check = (args: A): boolean => {
    for (let i = 0; i < list.length; i++) if (!list[i]![1](args)) return false;
    return true;
  };
  return Object.assign(check, { parts: list });
}

/** Explains why a guard said no: the first failing part of a conjunction, or the guard itself. */
export function failingRule(name: string, guard: unknown, args: unknown): string {
  const parts = (guard as Partial<NamedConjunction<unknown>>).parts;
  if (parts) for (const [part, check] of parts) if (!check(args)) return part;
  return name;
}
