/** The envelope every event of the log travels in, whatever its stream's kind (one JSONL line). */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly stream: string;
  /** 1-based, contiguous per stream. */
  readonly version: number;
  readonly type: TType;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly data: TData;
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Global, 1-based; added by a store. */
  readonly position?: number;
  /** Tamper evidence; added by a store. */
  readonly hash?: string;
}

/** The part of an event that a lifecycle decides on, for each type of a kind's events: its type and data. */
export type EventBodyOf<Data> = { [T in keyof Data & string]: { readonly type: T; readonly data: Data[T] } }[keyof Data & string];

/** A kind's events in their envelope, one member per type. */
export type EventOf<Data> = { [T in keyof Data & string]: EventEnvelope<T, Data[T]> }[keyof Data & string];
