/** Given/when/then specifications of a batch's rows in COPY's text format. */
import { describe, expect, it } from 'vitest';
import { pendingRows } from './batch-rows.js';
import { copyText } from './copy-rows.js';

const given = (...events: Array<{ stream?: string; id?: string; type?: string; data?: string; meta?: string }>) => {
  const rows = pendingRows();
  events.forEach((e, i) => {
    rows.positions.push(41 + i);
    rows.streams.push(e.stream ?? 'device/pc-42');
    rows.versions.push(7 + i);
    rows.ids.push(e.id ?? `id-${i}`);
    rows.types.push(e.type ?? 'EligibilityAssessed');
    rows.times.push('2026-01-05T08:00:00.000Z');
    rows.data.push(e.data ?? '{"eligible":true,"reasons":[]}');
    rows.meta.push(e.meta ?? 'null');
    rows.hashes.push('ab'.repeat(32));
  });
  return { whenCopied: () => copyText(rows) };
};

describe('copyText', () => {
  it('writes a line per row, values in column order separated by tabs, no meta as NULL', () => {
    expect(given({}, { meta: '{"by":"agent-7"}' }).whenCopied()).toBe(
      `41\tdevice/pc-42\t7\tid-0\tEligibilityAssessed\t2026-01-05T08:00:00.000Z\t{"eligible":true,"reasons":[]}\t\\N\t${'ab'.repeat(32)}\n` +
        `42\tdevice/pc-42\t8\tid-1\tEligibilityAssessed\t2026-01-05T08:00:00.000Z\t{"eligible":true,"reasons":[]}\t{"by":"agent-7"}\t${'ab'.repeat(32)}\n`,
    );
  });

  it('escapes backslashes in JSON, and backslashes, tabs, newlines and carriage returns in text', () => {
    const line = given({ stream: 'device/a\tb', id: 'x\\y', type: 'T\nU\rV', data: '{"path":"C:\\\\x","q":"\\"","nul":"\\u0000"}' }).whenCopied();
    expect(line.split('\t').slice(1, 5)).toEqual(['device/a\\tb', '7', 'x\\\\y', 'T\\nU\\rV']);
    expect(line.split('\t')[6]).toBe('{"path":"C:\\\\\\\\x","q":"\\\\"","nul":"\\\\u0000"}');
    expect(line.split('\n')).toHaveLength(2);
  });

  it('writes nothing for no rows', () => {
    expect(given().whenCopied()).toBe('');
  });
});
