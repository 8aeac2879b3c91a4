/** What several routes share: path parameters, the problem answers, an optional event id. */
import { LOWER_UUID_PATTERN, StreamIdSchema, Type, expecting } from '@hotpatch/core';
import { ProblemSchema } from './problem.js';

export const IdParams = Type.Object({ id: StreamIdSchema }, { additionalProperties: false });
export const NameParams = Type.Object({ name: StreamIdSchema }, { additionalProperties: false });

export const EventId = expecting('a lower-case UUID', Type.String({ pattern: LOWER_UUID_PATTERN, description: 'The event’s id: the same call again (a retry) records nothing new.' }));

/** The error answers every authenticated route may give, documented once. */
export const problems = (...statuses: number[]) => Object.fromEntries([400, 401, 403, ...statuses].map((s) => [s, ProblemSchema]));

export const bearer = [{ bearer: [] as string[] }];

/**
 * The largest position a reader may name as read: the next one must still be a whole number JavaScript holds
 * exactly (2^53 - 1), so a larger one is refused as the query's, not failed deep in the store.
 */
export const MAX_AFTER = Number.MAX_SAFE_INTEGER - 1;

/** Where a live tail starts. */
export const TailQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_AFTER, description: 'Start after this position (default: the end of the log now); Last-Event-ID wins.' })) }, { additionalProperties: false });
