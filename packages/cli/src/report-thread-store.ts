/**
 * How `hotpatch serve`'s report thread opens its own connection to the store it serves (the service's
 * `reportThread.openStore`): the same source, with the same options, as `serve` opened it.
 */
import type { EventStore } from '@hotpatch/store';
import { openEventStore, type StoreSource } from './store-source.js';

export interface ReportThreadStore {
  readonly source: StoreSource;
  readonly options: Parameters<typeof openEventStore>[1];
}

export function openStore(argument: ReportThreadStore): Promise<EventStore> {
  return openEventStore(argument.source, argument.options);
}
