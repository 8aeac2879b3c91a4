/**
 * Prometheus metrics (prom-client), one registry per service (several services in one process do not mix): HTTP
 * latency per route, reports by result, events appended and append latency, tick latency, and the projection's lag
 * behind the last position this instance wrote.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppendObserver } from './changes.js';
import { refusalCounter } from './refusals.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServiceMetrics implements AppendObserver {
  readonly registry = new Registry();
  readonly http = new Histogram({ name: 'hotpatch_http_request_duration_seconds', help: 'HTTP request latency, by method, route and status', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly reports = new Counter({ name: 'hotpatch_reports_total', help: 'Agent reports, by result (recorded, duplicate, refused, replayed, conflict)', labelNames: ['result'], registers: [this.registry] });
  readonly appendedEvents = new Counter({ name: 'hotpatch_appended_events_total', help: 'Events this instance appended to the log', registers: [this.registry] });
  readonly appends = new Histogram({ name: 'hotpatch_append_duration_seconds', help: 'Latency of the appends this instance committed', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly ticks = new Histogram({ name: 'hotpatch_tick_duration_seconds', help: 'Latency of the orchestrator’s ticks', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly sseDropped = new Counter({ name: 'hotpatch_live_tail_dropped_total', help: 'Live-tail clients dropped for reading too slowly', registers: [this.registry] });
  readonly storeAvailable = new Gauge({ name: 'hotpatch_store_available', help: '1 while the store serves, 0 from a call it failed (the database away) until one it served', registers: [this.registry] });
  /** Requests refused by the service's own bounds, by reason (refusals.ts). */
  readonly refusals = refusalCounter(this.registry);
  readonly tickFailures = new Counter({ name: 'hotpatch_tick_failures_total', help: 'Ticks that failed (logged; the next tick carries on)', registers: [this.registry] });

  constructor(lag: () => number) {
    this.storeAvailable.set(1);
    new Gauge({
      name: 'hotpatch_projection_lag_events',
      help: 'Events between the orchestrator’s projection and the last position this instance appended',
      registers: [this.registry],
      collect() {
        this.set(lag());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The gauge of orchestration leases this instance holds (only over a store shared by several instances). */
  leasesHeld(count: () => number): void {
    new Gauge({
      name: 'hotpatch_orchestration_leases_held',
      help: 'Tenants whose orchestration (lease orchestrator/<tenant>) this instance holds',
      registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  appended(_streams: readonly string[], events: number, _lastPosition: number, ms: number): void {
    this.appendedEvents.inc(events);
    this.appends.observe(ms / 1000);
  }
}
