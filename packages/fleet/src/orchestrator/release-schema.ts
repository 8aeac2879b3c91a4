/**
 * A release to roll out (`planRollout`), defined once as a schema: what the service's `POST /v1/rollouts` takes, and
 * the type `ReleaseToRoll` is held to (a compile-time check below).
 */
import { IsoTime, NonEmptyString, oneOf, StreamIdSchema, Type, type Shape } from '@hotpatch/core';
import type { ReleaseToRoll } from './release.js';

export const ReleaseToRollSchema = Type.Object(
  {
    id: StreamIdSchema,
    kind: oneOf('hotpatch', 'baseline'),
    releasedAt: IsoTime,
    baseline: Type.String({ minLength: 1, description: 'For a hotpatch: the baseline it applies on. For a baseline: itself.' }),
    requires: Type.Optional(Type.Array(NonEmptyString)),
    liveRevert: Type.Boolean(),
    outOfBand: Type.Optional(Type.Boolean()),
    rebootReason: Type.Optional(NonEmptyString),
    cumulativeUpdate: Type.Optional(NonEmptyString),
    deferralsFrom: Type.Optional(IsoTime),
  },
  { additionalProperties: false },
);

/** A release the schema accepts is a ReleaseToRoll (checked by the compiler). */
export const asRelease = (release: Shape<typeof ReleaseToRollSchema>): ReleaseToRoll => release;
