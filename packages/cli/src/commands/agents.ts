/**
 * `hotpatch agents`: the simulator's device agents against a running `hotpatch serve`, over HTTP, until stopped
 * (SIGINT/SIGTERM) or for --seconds. Progress on standard error every few seconds; what they did, at the end.
 */
import { runNetworkAgents, type AgentsProgress } from '@hotpatch/simulator';
import { bearerToken, parse, positiveInt, serviceUrl, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { takeStopSignals } from '../signals.js';

const line = (p: Readonly<AgentsProgress>) =>
  `${p.enrolled} enrolled, ${p.instructions} instructions, reports ${p.reports.recorded} recorded, ${p.reports.duplicate} duplicate, ${p.reports.refused} refused, ${p.reports.lost} lost${p.errors ? `, ${p.errors} calls failed` : ''}`;

export const agentsCommand: CommandSpec = {
  name: 'agents',
  summary: 'run simulated device agents (seeded faults) against a hotpatch serve over HTTP',
  usage: `hotpatch agents --server URL --token T --devices N [--seed S] [--speed K] [--tenant T] [--plan]
               [--rings pilot,broad] [--baseline B] [--seconds S] [--json]

  Runs N simulated devices against the service at URL: each gets an agent token of its own (POST /v1/tokens, with
  the operator's or tenant admin's token T), enrols (PUT /v1/devices/{id}), waits for its next instruction
  (long-poll) and answers it as the simulator's agent does, faults included (failed and stalled applies, unwell
  patches, failed rollbacks, late, duplicated and reordered reports), each device from a random of its own (the
  seed and its id). Its delays (minutes to apply, hours to report health, a day to restart) pass K times faster
  (--speed, default 1): start the server with the same --speed (a service whose clock runs more than twice as
  fast or as slow is said once the devices are enrolled). --plan (an operator's token) plans a hotpatch of
  the devices' baseline at the service's time once they are enrolled, so a rollout starts. Runs until SIGINT or
  SIGTERM, or for --seconds; prints its progress on standard error, and what the agents did at the end.

  --rings R,R       the policy's rings, the pilot first (default pilot,broad: the built-in policy's)
  --baseline B      the baseline the devices run (default B-2026-12)`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      server: { type: 'string' },
      token: { type: 'string' },
      devices: { type: 'string' },
      seed: { type: 'string' },
      speed: { type: 'string' },
      tenant: { type: 'string' },
      plan: { type: 'boolean' },
      rings: { type: 'string' },
      baseline: { type: 'string' },
      seconds: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const server = serviceUrl(values.server);
    const token = bearerToken(values.token, '--token: an operator or tenant-admin token is needed (it issues each device its agent token)');
    const devices = positiveInt(values.devices as string | undefined, '--devices', 10);
    if (devices > 100_000) throw new UsageError(`--devices: at most 100,000, got ${devices}`);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    const speed = values.speed === undefined ? 1 : Number(values.speed);
    if (!(speed > 0 && Number.isFinite(speed))) throw new UsageError(`--speed: expected a number > 0, got ${JSON.stringify(values.speed)}`);
    const seconds = values.seconds === undefined ? undefined : positiveInt(values.seconds as string, '--seconds', 0);
    const rings = values.rings === undefined ? undefined : (values.rings as string).split(',').map((r) => r.trim());
    if (rings !== undefined && rings.some((r) => r === '')) throw new UsageError(`--rings: expected ring names separated by commas, got ${JSON.stringify(values.rings)}`);

    const stop = new AbortController();
    const release = takeStopSignals(() => stop.abort());
    const timer = seconds !== undefined ? setTimeout(() => stop.abort(), seconds * 1000) : undefined;
    let last = 0;
    try {
      const progress = await runNetworkAgents({
        server,
        token,
        devices,
        seed,
        speed,
        signal: stop.signal,
        ...(values.tenant !== undefined ? { tenant: values.tenant as string } : {}),
        ...(rings !== undefined ? { rings } : {}),
        ...(values.baseline !== undefined ? { baseline: values.baseline as string } : {}),
        ...(values.plan === true ? { plan: true } : {}),
        onServiceSpeed: (measured) => {
          if (measured / speed < 2 && speed / measured < 2) return;
          const about = measured >= 10 ? Math.round(measured).toLocaleString('en-US') : measured.toFixed(1);
          io.err(`hotpatch agents: the service's clock runs about ${about} times faster than real time, these agents' --speed ${values.speed ?? 1}: start both with the same --speed (the service's ${measured > speed ? 'timeouts pass before the agents answer' : 'time passes slower than the agents expect'})`);
        },
        onProgress: (p) => {
          if (Date.now() - last < 2_000) return;
          last = Date.now();
          io.err(`hotpatch agents: ${line(p)}${p.rollout ? ` — rollout ${p.rollout}` : ''}`);
        },
      });
      if (values.json) io.out(json(progress));
      else io.out(`agents: ${line(progress)}${progress.rollout ? `; planned rollout ${progress.rollout}` : ''}`);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      release();
    }
  },
};
