/** What several routes share: path parameters, the problem answers, an optional event id. */
import { DEVICE_EVENT_DATA, LOWER_UUID_PATTERN, StreamIdSchema, Type, expecting, refine } from '@hotpatch/core';
import { AGENT_REPORTS } from '@hotpatch/fleet';
import type { TSchema } from 'typebox';
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

/** The longest free text an agent may write on the log (a reason, a signal, a patch's or a baseline's name), in characters. */
export const MAX_AGENT_TEXT = 1000;
/** The most an agent's `meta` may weigh, as JSON (UTF-8 bytes): 8 KiB. */
export const MAX_AGENT_META_BYTES = 8 * 1024;

const boundedName = Type.String({ minLength: 1, maxLength: MAX_AGENT_TEXT });
const boundedText = Type.String({ maxLength: MAX_AGENT_TEXT, description: `Free text, at most ${MAX_AGENT_TEXT} characters.` });
const boundedMeta = refine(
  Type.Record(Type.String(), Type.Unknown(), { description: `Recorded on the events (how long a restart took the device down, say); at most ${MAX_AGENT_META_BYTES} bytes as JSON.` }),
  (meta) => {
    const bytes = Buffer.byteLength(JSON.stringify(meta));
    return bytes <= MAX_AGENT_META_BYTES ? undefined : { path: '', message: `expected at most ${MAX_AGENT_META_BYTES} bytes (8 KiB) as JSON, got ${bytes} bytes` };
  },
);

/**
 * An agent's report as the service accepts it: the library's report (`AGENT_REPORTS` of @hotpatch/fleet, whose
 * events old logs hold, unbounded) with what an agent writes bounded — each string at most `MAX_AGENT_TEXT`
 * characters, `meta` at most `MAX_AGENT_META_BYTES` as JSON — since every report accepted stays on the log for ever.
 */
const serviceReport = <K extends keyof typeof AGENT_REPORTS, F extends Record<string, TSchema>>(kind: K, fields: F) => {
  const { id, device } = AGENT_REPORTS[kind].properties;
  return Type.Object({ kind: Type.Literal(kind), id, device, meta: Type.Optional(boundedMeta), ...fields }, { additionalProperties: false });
};
export const ServiceReportSchema = Type.Union([
  serviceReport('applied', { patch: boundedName }),
  serviceReport('apply-failed', { patch: boundedName, reason: boundedText }),
  serviceReport('health', { patch: boundedName, healthy: Type.Boolean(), signal: Type.Optional(boundedText) }),
  serviceReport('rolled-back', { patch: boundedName }),
  serviceReport('rollback-failed', { patch: boundedName, reason: boundedText }),
  serviceReport('baseline-installed', { baseline: boundedName, healthy: Type.Optional(Type.Boolean()), signal: Type.Optional(boundedText) }),
]);

/**
 * An enrolment as the service accepts it: the `DeviceEnrolled` event's data (which old logs hold, unbounded) with each
 * string at most `MAX_AGENT_TEXT` characters and no field of its own (the event's schema lets one through, and the
 * enrolment would write it on the log).
 */
const enrolled = DEVICE_EVENT_DATA.DeviceEnrolled.properties;
export const ServiceEnrolmentSchema = Type.Object(
  { ...enrolled, edition: boundedName, build: Type.String({ minLength: 1, maxLength: MAX_AGENT_TEXT, description: 'Build as "major.revision", e.g. "26100.1742".' }), ring: boundedName, baseline: boundedName },
  { additionalProperties: false },
);
