/** An agent's routes: enrol its device, wait for its next instruction, report what happened. */
import { deviceStream, type DeviceState } from '@hotpatch/core';
import { nameBasedIds } from '@hotpatch/engine';
import type { AgentReport } from '@hotpatch/fleet';
import { HotpatchError, oneOf, Type } from '@hotpatch/core';
import type { FastifyInstance } from 'fastify';
import { scopeOf } from '../access.js';
import { instructionOf, InstructionSchema } from '../instructions.js';
import { longPollOf } from '../open-requests.js';
import { HttpProblem } from '../problem.js';
import { authenticate } from '../tokens.js';
import { digestOf, Receipts } from '../receipts.js';
import { bearer, IdParams, problems, ServiceEnrolmentSchema, ServiceReportSchema } from '../schemas.js';
import { storedStreamName, type Scope } from '../tenants.js';
import type { HotpatchService } from '../service.js';
import { InvalidRequestError, type TypeBoxTypeProvider } from '../validation.js';
import { EventIdReusedError } from '@hotpatch/store';

const ids = nameBasedIds('5b0e3a52-8f4c-4d61-9a3e-1c7d2f9b6e04');

const DeviceStateSchema = Type.Object({ device: Type.String(), version: Type.Integer(), state: Type.String(), enrolled: Type.Boolean({ description: 'false when this call found the device enrolled already (a retry)' }) });
const ReportAnswerSchema = Type.Object({ status: oneOf('recorded', 'duplicate'), events: Type.Optional(Type.Integer({ minimum: 0 })) });
const WaitQuery = Type.Object(
  {
    wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: 'Seconds to wait for an instruction (long-poll); 0: answer at once. Default 0.' })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'The device version of the last instruction the agent carried out: answer only with a later one.' })),
  },
  { additionalProperties: false },
);

/** The meta keys an agent may not set: the service's own (source, instance…) and the engine's (the command). */
const serviceMetaKeys = (service: HotpatchService): string[] => [...new Set(['source', 'instance', 'command', 'commandType', ...Object.keys(service.meta)])];

export function agentRoutes(app: FastifyInstance, service: HotpatchService): void {
  /** A report the lifecycle refused: 409 for a known device, 404 for one never enrolled. */
  const refused = async (tenant: Scope['tenant'], report: AgentReport, reason: string): Promise<never> => {
    const known = (await tenant.store.streamVersion(deviceStream(report.device))) > 0;
    const problem = known
      ? new HttpProblem(409, 'REPORT_REFUSED', `report ${report.id} (${report.kind}) refused: ${reason}; nothing written`, { reportId: report.id, device: report.device, reason })
      : new HttpProblem(404, 'UNKNOWN_DEVICE', `no device ${report.device}: enrol it first; nothing written`, { device: report.device });
    service.metrics.reports.inc({ result: 'refused' });
    // Not kept: nothing was written, and the same report sent again is decided again (once its device is enrolled,
    // or its patch is where the report says, it is recorded), as another instance or a restart would decide it.
    throw problem;
  };
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const receipts = new Receipts();
  const reserved = serviceMetaKeys(service);
  const deviceOfParams = (request: { params: unknown }) => (request.params as { id: string }).id;

  r.put('/v1/devices/:id', {
    config: { roles: ['agent', 'operator'], device: deviceOfParams },
    schema: {
      summary: 'Enrol a device (its profile, ring and baseline, as the DeviceEnrolled event records them) and assess its eligibility; a retry with the same body changes nothing',
      tags: ['agent'],
      security: bearer,
      params: IdParams,
      body: ServiceEnrolmentSchema,
      response: { 200: DeviceStateSchema, 201: DeviceStateSchema, ...problems(409) },
    },
    handler: async (request, reply) => {
      const { tenant } = scopeOf(request);
      const device = request.params.id;
      const { ring, baseline, ...profile } = request.body;
      const engine = tenant.orchestrator.engine;
      const enrolled = await engine.execute({ type: 'EnrolDevice', id: ids(`enrol|${tenant.name}|${device}`), device, profile, ring, baseline });
      // The assessment once recorded is not decided again: the device may have moved on since (a baseline installed),
      // where the same assessment means another verdict and would be refused as a reused id. Only a first enrolment
      // whose assessment was not recorded (stopped between the two) makes it now.
      const assess = ids(`assess|${tenant.name}|${device}|${baseline}`);
      if (!enrolled.duplicate || (await tenant.store.readEvent(deviceStream(device), assess)) === undefined) {
        await engine.execute({ type: 'AssessEligibility', id: assess, device, latestBaseline: baseline });
      }
      const head = await tenant.store.readState(deviceStream(device));
      return reply.code(enrolled.duplicate ? 200 : 201).send({ device, version: head.version, state: head.state.value, enrolled: !enrolled.duplicate });
    },
  });

  r.get('/v1/devices/:id/instructions', {
    config: { roles: ['agent'], device: deviceOfParams, holds: longPollOf },
    schema: {
      summary: 'The device’s next instruction; with ?wait=N, waits up to N seconds for one (answered as soon as the orchestrator instructs the device), else 204',
      tags: ['agent'],
      security: bearer,
      params: IdParams,
      querystring: WaitQuery,
      response: { 200: InstructionSchema, 204: Type.Null({ description: 'Nothing to do (yet): ask again' }), ...problems(404, 429) },
    },
    handler: async (request, reply) => {
      const { tenant } = scopeOf(request);
      const device = request.params.id;
      const stream = deviceStream(device);
      // The waiter is woken by the log's name of the stream (a named tenant's under its prefix).
      const stored = storedStreamName(tenant.name, 'device', device);
      const after = request.query.after ?? 0;
      const deadline = Date.now() + (request.query.wait ?? 0) * 1000;
      const gone = new AbortController();
      request.raw.once('close', () => gone.abort());
      // A client gone before this listener: no close to come.
      if (request.raw.socket?.destroyed !== false) gone.abort();
      for (let waited = false; ; waited = true) {
        const waiter = service.changes.waiter(stored, gone.signal);
        // Dropped on every way out (an instruction, no wait, a 404, the store away): a waiter left behind would count
        // as someone waiting (the log follower reading for nobody) and pile up until the stream is written.
        try {
          // Woken by the server's close, or its client gone: 204, nothing read (the store may be what the close waits
          // on; an instruction is the device's state, given again at the next ask).
          if (waited && (service.changes.closing || gone.signal.aborted)) return reply.code(204).send(null);
          // The token again after each wait, as a live tail checks it before each page: one revoked meanwhile gets
          // 401, never the instruction that woke it, nor a 204 that tells it to ask again.
          if (waited) await authenticate(service.store, request.headers.authorization);
          const head = await tenant.store.readState(stream);
          if (head.version === 0) throw new HttpProblem(404, 'UNKNOWN_DEVICE', `no device ${device}: enrol it first (PUT /v1/devices/${device})`, { device });
          const instruction = head.version > after ? instructionOf(device, head.version, head.state as DeviceState) : undefined;
          if (instruction !== undefined) return instruction;
          const left = deadline - Date.now();
          if (left <= 0 || service.changes.closing || gone.signal.aborted) return reply.code(204).send(null);
          await waiter.until(left);
        } finally {
          waiter.cancel();
        }
      }
    },
  });

  r.post('/v1/reports', {
    config: { roles: ['agent'], device: (request) => (request.body as AgentReport | undefined)?.device },
    schema: {
      summary: 'An agent’s report (idempotent by its id: the same report again gets the answer it got when recorded, a refused one is decided again; the same id with another report, 409)',
      tags: ['agent'],
      security: bearer,
      body: ServiceReportSchema,
      response: { 200: ReportAnswerSchema, ...problems(404, 409) },
    },
    // No async frame of its own (every report comes here): the orchestrator's answer carried on.
    handler: (request, reply) => {
      const { tenant } = scopeOf(request);
      const report = request.body as AgentReport;
      // The events' provenance is the service's to write: an agent's meta rides along, it does not replace it.
      const forged = report.meta === undefined ? undefined : reserved.find((key) => Object.hasOwn(report.meta!, key));
      if (forged !== undefined) throw new InvalidRequestError('body', `meta.${forged}`, `set by the service on the events it records, not by an agent`);
      const digest = digestOf(report);
      // Tenants share report ids (one agent build): an answer is kept per tenant and id.
      const receipt = `${tenant.name}\n${report.id}`;
      const held = receipts.get(receipt);
      if (held !== undefined) {
        if (held.digest !== digest) {
          service.metrics.reports.inc({ result: 'conflict' });
          return Promise.reject(new HttpProblem(409, 'REPORT_ID_REUSED', `report ${report.id} was sent before with other content: a report's id names one report`, { reportId: report.id }));
        }
        service.metrics.reports.inc({ result: 'replayed' });
        reply.header('idempotent-replayed', 'true');
        return Promise.resolve(held.body as { status: 'recorded' | 'duplicate'; events?: number });
      }
      // The body was checked against ServiceReportSchema (AgentReportSchema, bounded) by the route (validation.ts): not checked again.
      // In the report thread when the service has one (report-thread.ts), else on this thread.
      const decided = service.reports !== undefined ? service.reports.report(tenant.name, report) : tenant.orchestrator.report(report, { checked: true });
      return decided.then(
        (result) => {
          if (result.status === 'ignored') return refused(tenant, report, result.reason);
          service.metrics.reports.inc({ result: result.status });
          const body = result.status === 'recorded' ? { status: result.status, events: result.events } : { status: result.status };
          receipts.set(receipt, { digest, body });
          return body;
        },
        (error: unknown) => {
          // The store's EventIdReusedError, or the same made again on this side of the report thread.
          if (error instanceof EventIdReusedError || (error instanceof HotpatchError && error.code === 'EVENT_ID_REUSED')) {
            service.metrics.reports.inc({ result: 'conflict' });
            throw new HttpProblem(409, 'REPORT_ID_REUSED', `report ${report.id} was recorded before with other content: a report's id names one report; nothing written`, { reportId: report.id, stream: (error as { stream?: unknown }).stream });
          }
          throw error;
        },
      );
    },
  });
}
