/** The events every store gets: built per measurement, before any store runs, and handed to each as they are. */
import { v7 as uuidv7 } from 'uuid';

const PROFILE = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
let clock = 0;

/** A device lifecycle the stores accept: DeviceEnrolled first, then EligibilityAssessed, any number of times. */
export function deviceEvent(first) {
  const time = new Date(T0 + 1_000 * clock++).toISOString();
  return first
    ? { id: uuidv7(), type: 'DeviceEnrolled', time, data: { ...PROFILE, ring: 'pilot', baseline: 'B1' } }
    : { id: uuidv7(), type: 'EligibilityAssessed', time, data: { eligible: true, reasons: [] } };
}

/** The same event as Emmett takes it: type, data, and our id and time in its metadata (messageId is its id). */
const toEmmett = (e) => ({ type: e.type, data: e.data, metadata: { messageId: e.id, time: e.time } });

/** `count` events in appends of `batch`, round-robin over `streams` streams named `device/<tag>-<n>`. */
export function buildWorkload(tag, count, batch, streams) {
  const versions = new Uint32Array(streams);
  const appends = [];
  for (let i = 0; i < Math.ceil(count / batch); i++) {
    const s = i % streams;
    const events = [];
    for (let k = 0; k < batch; k++) events.push(deviceEvent(versions[s]++ === 0));
    appends.push({ stream: `device/${tag}-${s}`, slot: s, events, emmett: events.map(toEmmett) });
  }
  return { appends, events: appends.length * batch, streamsTouched: Math.min(streams, appends.length) };
}

