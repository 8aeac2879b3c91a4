/** The engine's options, checked when it is created: a mistake there is found before the first command, and named. */
import { describe, InvalidDocumentError, MAX_META_DEPTH, unwritableJson } from '@hotpatch/core';

/** An option createEngine cannot use (the path of the option and why: see InvalidDocumentError); no engine was made. */
export class InvalidEngineOptionsError extends InvalidDocumentError {
  readonly code = 'INVALID_ENGINE_OPTIONS';
}

const isFunction = (value: unknown) => typeof value === 'function';

/** Throws InvalidEngineOptionsError naming the first option that is not usable. */
export function checkEngineOptions(options: {
  readonly store?: unknown;
  readonly clock?: unknown;
  readonly newId?: unknown;
  readonly maxAttempts?: unknown;
  readonly meta?: unknown;
}): void {
  const refuse = (path: string, problem: string): never => {
    throw new InvalidEngineOptionsError('engine options', path, problem);
  };
  if (typeof options !== 'object' || options === null) refuse('', `expected an object {store, clock?, newId?, maxAttempts?, meta?}, got ${describe(options)}`);
  const store = options.store as Record<string, unknown> | null | undefined;
  if (typeof store !== 'object' || store === null || !isFunction(store.appendToStream) || !isFunction(store.readState)) refuse('store', 'expected an event store');
  for (const name of ['clock', 'newId'] as const) if (options[name] !== undefined && !isFunction(options[name])) refuse(name, `expected a function, got ${describe(options[name])}`);
  const { maxAttempts, meta } = options;
  if (maxAttempts !== undefined && !(Number.isSafeInteger(maxAttempts) && (maxAttempts as number) >= 1)) refuse('maxAttempts', `expected a whole number ≥ 1, got ${describe(maxAttempts)}`);
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) refuse('meta', `expected an object, got ${describe(meta)}`);
    const found = unwritableJson(meta, MAX_META_DEPTH, 'meta');
    if (found !== undefined) refuse(found.path, found.problem);
  }
}
