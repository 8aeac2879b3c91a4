import type { HotpatchError } from '@hotpatch/core';
import { verifyTimeline } from '@hotpatch/replay';
import { CheckFailed, onePositional, parse, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { loadTimeline } from '../timeline-input.js';

/** "line N: stream@version: what", or the message when the error has no line. */
export function problemLine(error: HotpatchError): string {
  const located = error as Partial<{ at: { line?: number; stream?: string; version?: number }; what: string }>;
  if (located.at?.line === undefined || located.what === undefined) return error.message;
  const where = located.at.stream !== undefined ? `${located.at.stream}${located.at.version !== undefined ? `@${located.at.version}` : ''}: ` : '';
  return `line ${located.at.line}: ${where}${located.what}`;
}

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'check a timeline: format, versions, ids, every transition allowed',
  usage: `hotpatch verify <file.jsonl> [--json]

  Checks every line: valid JSON and a valid event; per-stream versions contiguous from 1; ids unique; every
  transition allowed by the device lifecycle. Prints every problem as "line N: …"; exits 1 if there is any.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
    const file = onePositional(positionals, 'timeline file');
    const timeline = await loadTimeline(file);
    const report = verifyTimeline({ events: timeline.events, lines: timeline.lines, file }, timeline.problems);
    if (values.json) {
      io.out(json({ ok: report.ok, events: report.events, streams: report.streams, problems: report.problems.map((p) => ({ code: p.code, message: problemLine(p) })) }));
    } else if (report.ok) {
      io.out(`ok: ${report.events} events in ${report.streams} streams, every transition allowed`);
    } else {
      for (const problem of report.problems) io.out(problemLine(problem));
    }
    if (!report.ok) throw new CheckFailed(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${file}`);
  },
};
