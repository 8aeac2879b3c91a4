/**
 * `evolve` compiled once from an xstate machine's own states, transitions, guards and `assign` actions into a lookup
 * table; machine features it could not replay faithfully are refused at compile time (docs/architecture.md).
 */
import type { AnyStateMachine } from 'xstate';
import { transitionRefusal, TransitionRefusedError, type EventLocation } from './errors.js';
import { failingRule } from './rules.js';

export interface MachineState<TValue extends string, TContext> {
  readonly value: TValue;
  readonly context: TContext;
}

interface Args<TContext, TEvent> {
  readonly context: TContext;
  readonly event: TEvent;
}
type GuardFn<TContext, TEvent> = (args: Args<TContext, TEvent>, params?: unknown) => boolean;
type UpdateFn<TContext, TEvent> = (args: Args<TContext, TEvent>, params?: unknown) => Partial<TContext>;

/** One transition of the compiled table. */
export interface CompiledTransition<TValue extends string, TContext, TEvent> {
  readonly source: TValue;
  readonly eventType: string;
  readonly target: TValue;
  /** True when the transition has no target and leaves the state as it is. */
  readonly internal: boolean;
  readonly guardName: string | null;
  readonly guard: GuardFn<TContext, TEvent> | null;
  readonly actionNames: readonly string[];
  readonly updates: ReadonlyArray<UpdateFn<TContext, TEvent>>;
  /** Its index among the candidates of (source, eventType), in the machine's order. */
  readonly index: number;
}

/** A state a fold owns (see CompiledLifecycle.own): its value and its context's fields are written in place. */
export interface OwnedState<TValue extends string, TContext> {
  value: TValue;
  context: TContext;
}

export interface StepResult<TValue extends string, TContext, TEvent> {
  readonly state: MachineState<TValue, TContext>;
  readonly transition: CompiledTransition<TValue, TContext, TEvent>;
}

export interface CompiledLifecycle<TValue extends string, TContext, TEvent extends { readonly type: string }> {
  readonly machine: AnyStateMachine;
  readonly initial: MachineState<TValue, TContext>;
  readonly states: readonly TValue[];
  readonly finalStates: ReadonlySet<TValue>;
  readonly transitions: ReadonlyArray<CompiledTransition<TValue, TContext, TEvent>>;
  /** The state after `event`; throws TransitionRefusedError when the machine does not accept it. */
  evolve(state: MachineState<TValue, TContext>, event: TEvent, at?: EventLocation): MachineState<TValue, TContext>;
  /** Like evolve, but undefined when the machine does not accept the event (no error built). */
  next(state: MachineState<TValue, TContext>, event: TEvent): MachineState<TValue, TContext> | undefined;
  /**
   * For a fold that keeps one state per stream to itself (it gives none away while it folds): `own` copies a state
   * for it to keep (the state and its context; not what the context holds, which is never written), and
   * `nextInPlace` folds an event into such a copy, writing the new value and context fields into it: the state
   * `next` would return, field by field, without a new state and context per event (which a fold over many streams
   * keeps long enough for the garbage collector to copy them twice). False when refused; the copy is then untouched.
   */
  own(state: MachineState<TValue, TContext>): OwnedState<TValue, TContext>;
  nextInPlace(state: OwnedState<TValue, TContext>, event: TEvent): boolean;
  /** Like evolve, but also says which transition was taken; undefined when refused. */
  step(state: MachineState<TValue, TContext>, event: TEvent): StepResult<TValue, TContext, TEvent> | undefined;
  /** The event types a state has transitions for (guards not evaluated). */
  accepted(value: TValue): readonly string[];
  /** Builds the error explaining why `event` is refused in `state`. */
  refusal(state: MachineState<TValue, TContext>, event: TEvent, at?: EventLocation): TransitionRefusedError;
  /** What that error would say, without its place (its `what`), without building it. */
  refusalReason(state: MachineState<TValue, TContext>, event: TEvent): string;
}

export class UnsupportedMachineError extends Error {
  constructor(message: string) {
    super(`compileEvolve: ${message}`);
    this.name = 'UnsupportedMachineError';
  }
}

interface XStateNode {
  readonly key: string;
  readonly type: string;
  readonly states: Record<string, XStateNode>;
  readonly transitions: Map<string, XTransition[]>;
  readonly entry: unknown[];
  readonly exit: unknown[];
  readonly always?: unknown[];
  readonly after: unknown[];
  readonly invoke: unknown[];
}
interface XTransition {
  readonly guard?: unknown;
  readonly target?: XStateNode[];
  readonly actions: unknown[];
  readonly eventType: string;
}
interface AssignAction {
  readonly type: 'xstate.assign';
  readonly assignment: unknown;
}

export function compileEvolve<TValue extends string, TContext extends object, TEvent extends { readonly type: string }>(
  machine: AnyStateMachine,
): CompiledLifecycle<TValue, TContext, TEvent> {
  const root = machine.root as unknown as XStateNode;
  const guards = (machine.implementations.guards ?? {}) as Record<string, unknown>;
  const actions = (machine.implementations.actions ?? {}) as Record<string, unknown>;

  const resolveGuard = (guard: unknown, where: string): [string, GuardFn<TContext, TEvent>, unknown] | null => {
    if (guard === undefined) return null;
    if (typeof guard === 'function') {
      if ('check' in guard) throw new UnsupportedMachineError(`${where}: built-in guards (and/or/not/stateIn) are not compiled; write a named guard`);
      return [guard.name || 'inline guard', guard as GuardFn<TContext, TEvent>, undefined];
    }
    const name = typeof guard === 'string' ? guard : (guard as { type?: unknown }).type;
    const params = typeof guard === 'object' && guard !== null ? (guard as { params?: unknown }).params : undefined;
    if (typeof name !== 'string') throw new UnsupportedMachineError(`${where}: guard must be a name or a function`);
    const impl = guards[name];
    if (typeof impl !== 'function' || 'check' in impl) {
      throw new UnsupportedMachineError(`${where}: guard '${name}' must be a plain function (built-in and/or/not are not compiled)`);
    }
    if (typeof params === 'function') throw new UnsupportedMachineError(`${where}: dynamic guard params are not compiled`);
    return [name, impl as GuardFn<TContext, TEvent>, params];
  };

  const resolveAction = (action: unknown, where: string): [string, UpdateFn<TContext, TEvent>] => {
    const name = typeof action === 'string' ? action : (action as { type?: unknown } | undefined)?.type;
    const impl = typeof action === 'function' ? action : typeof name === 'string' ? actions[name] : undefined;
    const assignAction = impl as Partial<AssignAction> | undefined;
    const assignment = assignAction?.assignment;
    if (!assignAction || assignAction.type !== 'xstate.assign' || typeof assignment !== 'function' && (typeof assignment !== 'object' || assignment === null)) {
      throw new UnsupportedMachineError(`${where}: action '${String(name)}' must be an assign action`);
    }
    const params = typeof action === 'object' && action !== null ? (action as { params?: unknown }).params : undefined;
    if (typeof params === 'function') throw new UnsupportedMachineError(`${where}: dynamic action params are not compiled`);
    if (typeof assignment === 'function') {
      const fn = assignment as UpdateFn<TContext, TEvent>;
      return [String(name), params === undefined ? fn : (args) => fn(args, params)];
    }
    // The object form assigns each property from a value or a function, as xstate's resolveAssign does.
    const properties = Object.entries(assignment as Record<string, unknown>);
    const update: UpdateFn<TContext, TEvent> = (args) => {
      const partial: Record<string, unknown> = {};
      for (const [key, value] of properties) partial[key] = typeof value === 'function' ? (value as UpdateFn<TContext, TEvent>)(args, params) : value;
      return partial as Partial<TContext>;
    };
    return [String(name), update];
  };

  const states = Object.keys(root.states) as TValue[];
  const finalStates = new Set<TValue>();
  const table = new Map<string, Map<string, Array<CompiledTransition<TValue, TContext, TEvent>>>>();
  const all: Array<CompiledTransition<TValue, TContext, TEvent>> = [];

  for (const key of states) {
    const node = root.states[key]!;
    const where = `state '${key}'`;
    if (Object.keys(node.states).length > 0) throw new UnsupportedMachineError(`${where}: nested states are not compiled`);
    if (node.entry.length || node.exit.length) throw new UnsupportedMachineError(`${where}: entry/exit actions are not compiled`);
    if (node.always?.length || node.after.length || node.invoke.length) {
      throw new UnsupportedMachineError(`${where}: always/after/invoke are not compiled`);
    }
    if (node.type === 'final') finalStates.add(key);
    const byType = new Map<string, Array<CompiledTransition<TValue, TContext, TEvent>>>();
    for (const [eventType, defs] of node.transitions) {
      if (eventType.includes('*')) throw new UnsupportedMachineError(`${where}: wildcard events are not compiled`);
      const list = defs.map((def, index) => {
        const at = `${where} on ${eventType}`;
        if (def.target && def.target.length > 1) throw new UnsupportedMachineError(`${at}: multiple targets are not compiled`);
        const targetNode = def.target?.[0];
        if (targetNode && root.states[targetNode.key] !== targetNode) {
          throw new UnsupportedMachineError(`${at}: target must be a top-level state`);
        }
        const resolvedGuard = resolveGuard(def.guard, at);
        const resolvedActions = def.actions.map((action) => resolveAction(action, at));
        const [guardName, guardImpl, guardParams] = resolvedGuard ?? [null, null, undefined];
        const compiled: CompiledTransition<TValue, TContext, TEvent> = {
          source: key,
          eventType,
          target: (targetNode?.key ?? key) as TValue,
          internal: targetNode === undefined,
          guardName,
          guard: guardImpl === null ? null : guardParams === undefined ? guardImpl : (args) => guardImpl(args, guardParams),
          actionNames: resolvedActions.map(([name]) => name),
          updates: resolvedActions.map(([, fn]) => fn),
          index,
        };
        return compiled;
      });
      byType.set(eventType, list);
      all.push(...list);
    }
    table.set(key, byType);
  }

  const initialValue = (machine.config.initial ?? states[0]) as TValue;
  const initial: MachineState<TValue, TContext> = {
    value: initialValue,
    context: (typeof machine.config.context === 'function'
      ? (() => {
          throw new UnsupportedMachineError('context must be a plain object, not a function');
        })()
      : machine.config.context) as TContext,
  };

  const { merge, copy, assign } = contextMerger<TContext>(initial.context);

  const acceptedCache = new Map<string, readonly string[]>();
  const accepted = (value: TValue): readonly string[] => {
    let list = acceptedCache.get(value);
    if (!list) {
      list = [...(table.get(value)?.keys() ?? [])];
      acceptedCache.set(value, list);
    }
    return list;
  };

  // One argument object per step: guards read it, and each update sees the context the previous one left.
  interface Args {
    context: TContext;
    readonly event: TEvent;
  }
  /** The first transition of the state for the event whose guard passes. */
  const select = (value: TValue, args: Args): CompiledTransition<TValue, TContext, TEvent> | undefined => {
    const candidates = table.get(value)?.get(args.event.type);
    if (candidates === undefined) return undefined;
    for (let i = 0; i < candidates.length; i++) {
      const t = candidates[i]!;
      if (t.guard === null || t.guard(args)) return t;
    }
    return undefined;
  };
  const apply = (t: CompiledTransition<TValue, TContext, TEvent>, args: Args): TContext => {
    for (let u = 0; u < t.updates.length; u++) args.context = merge(args.context, t.updates[u]!(args));
    return args.context;
  };

  const step = (state: MachineState<TValue, TContext>, event: TEvent): StepResult<TValue, TContext, TEvent> | undefined => {
    const args: Args = { context: state.context, event };
    const t = select(state.value, args);
    return t === undefined ? undefined : { state: { value: t.target, context: apply(t, args) }, transition: t };
  };

  /** The named rule (guard) that refused the event, when the state has a transition for its type. */
  const refusingRule = (state: MachineState<TValue, TContext>, event: TEvent): string | undefined => {
    const candidates = table.get(state.value)?.get(event.type);
    if (!candidates?.length) return undefined;
    const guarded = candidates.filter((t) => t.guard !== null);
    const last = guarded[guarded.length - 1];
    return last ? failingRule(last.guardName ?? 'guard', guards[last.guardName ?? ''] ?? last.guard, { context: state.context, event } as never) : undefined;
  };
  const refusal = (state: MachineState<TValue, TContext>, event: TEvent, at: EventLocation = locate(event)): TransitionRefusedError => {
    const rule = refusingRule(state, event);
    return new TransitionRefusedError(at, state.value, event.type, accepted(state.value), rule, rule ? describeEvent(event) : undefined);
  };
  const refusalReason = (state: MachineState<TValue, TContext>, event: TEvent): string => {
    const rule = refusingRule(state, event);
    return transitionRefusal(state.value, event.type, accepted(state.value), rule, rule ? describeEvent(event) : undefined);
  };

  // The fold's hot path: step() without a result object per event.
  const next = (state: MachineState<TValue, TContext>, event: TEvent): MachineState<TValue, TContext> | undefined => {
    const args: Args = { context: state.context, event };
    const t = select(state.value, args);
    return t === undefined ? undefined : { value: t.target, context: apply(t, args) };
  };

  const own = (state: MachineState<TValue, TContext>): OwnedState<TValue, TContext> => ({ value: state.value, context: copy(state.context) });
  const nextInPlace = (state: OwnedState<TValue, TContext>, event: TEvent): boolean => {
    const args: Args = { context: state.context, event };
    const t = select(state.value, args);
    if (t === undefined) return false;
    const updates = t.updates;
    if (updates.length === 1) {
      // The partial is made before anything is written: an update that throws leaves the state as it was.
      const partial = updates[0]!(args);
      if (!assign(state.context, partial)) state.context = merge(state.context, partial);
    } else if (updates.length > 1) {
      // Each update sees the context the one before left: a new context (the fold's own, as it is new).
      state.context = apply(t, { context: state.context, event });
    }
    state.value = t.target;
    return true;
  };

  const evolve = (state: MachineState<TValue, TContext>, event: TEvent, at?: EventLocation): MachineState<TValue, TContext> =>
    next(state, event) ?? throwRefusal(state, event, at);
  const throwRefusal = (state: MachineState<TValue, TContext>, event: TEvent, at?: EventLocation): never => {
    throw refusal(state, event, at);
  };

  return { machine, initial, states, finalStates, transitions: all, evolve, next, own, nextInPlace, step, accepted, refusal, refusalReason };
}

/**
 * `{ ...context, ...partial }`, as xstate's assign merges, but fast: contexts have the keys of the initial context,
 * so a function generated for exactly those keys copies them into an object literal of one fixed shape (every
 * context shares one hidden class, and what reads them stays monomorphic), then the partial's fields are written
 * over it. A partial bringing a key the initial context does not have switches to the generic spread for good, so
 * the result is always what the spread gives.
 */
interface ContextMerger<TContext> {
  /** A new context: `context` with `partial`'s fields over it. */
  readonly merge: (context: TContext, partial: Partial<TContext>) => TContext;
  /** A new context with the fields of `context`. */
  readonly copy: (context: TContext) => TContext;
  /** Writes `partial`'s fields into `context`; false, writing nothing, when it brings a key the contexts do not have. */
  readonly assign: (context: TContext, partial: Partial<TContext>) => boolean;
}

function contextMerger<TContext extends object>(initial: TContext): ContextMerger<TContext> {
  const keys = Object.keys(initial);
  const spread = (context: TContext, partial: Partial<TContext>): TContext => ({ ...context, ...partial });
  const spreadCopy = (context: TContext): TContext => ({ ...context });
  if (keys.length === 0 || keys.some((k) => !/^[A-Za-z_$][\w$]*$/.test(k))) return { merge: spread, copy: spreadCopy, assign: () => false };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the context's own keys, checked above
  const clone = new Function('c', `return { ${keys.map((k) => `${k}: c.${k}`).join(', ')} };`) as (context: TContext) => Record<string, unknown>;
  const known = new Set(keys);
  let open = false;
  const merge = (context: TContext, partial: Partial<TContext>): TContext => {
    if (open) return spread(context, partial);
    const next = clone(context);
    for (const key in partial) {
      if (!known.has(key)) {
        open = true;
        return spread(context, partial);
      }
      next[key] = (partial as Record<string, unknown>)[key];
    }
    return next as TContext;
  };
  const assign = (context: TContext, partial: Partial<TContext>): boolean => {
    if (open) return false;
    for (const key in partial) if (!known.has(key)) return false;
    for (const key in partial) (context as Record<string, unknown>)[key] = (partial as Record<string, unknown>)[key];
    return true;
  };
  return { merge, copy: (context) => (open ? spreadCopy(context) : (clone(context) as TContext)), assign };
}

function locate(event: unknown): EventLocation {
  const e = event as { stream?: unknown; version?: unknown };
  return {
    ...(typeof e.stream === 'string' ? { stream: e.stream } : {}),
    ...(typeof e.version === 'number' ? { version: e.version } : {}),
  };
}

function describeEvent(event: unknown): string {
  const data = (event as { data?: unknown }).data;
  return data === undefined ? '' : `event data ${JSON.stringify(data)}`;
}
