/** The PostgreSQL store's consumer checkpoints (compare-and-set) and saved projections (a row, and its parts beside it). */
import { checkConsumerName, checkProjectionSave, type SavedProjection } from '@hotpatch/store';
import type { Connections } from './connection.js';
import type { PostgresContext } from './context.js';
import { unheld } from './statements.js';

export function createProjections(ctx: PostgresContext, connections: Connections) {
  const q = ctx.sql;
  const { query, transaction } = connections;
  return {
    async readCheckpoint(consumer: string): Promise<number> {
      // A name PostgreSQL cannot take (a NUL) is held by no row: never saved, as in every store, not the server's refusal.
      if (unheld(consumer)) return 0;
      const { rows } = await query<{ position: string }>('readCheckpoint', undefined, { ...q.checkpoint, values: [consumer] });
      return rows[0] ? Number(rows[0].position) : 0;
    },

    async saveCheckpoint(consumer: string, expected: number, next: number): Promise<boolean> {
      checkConsumerName(consumer);
      const result = expected === 0 ? await query('saveCheckpoint', undefined, { ...q.startCheckpoint, values: [consumer, next] }) : await query('saveCheckpoint', undefined, { ...q.moveCheckpoint, values: [consumer, expected, next] });
      return result.rowCount === 1;
    },

    async readProjection(name: string): Promise<SavedProjection | undefined> {
      if (unheld(name)) return undefined; // as readCheckpoint: a save refuses such a name (checkProjectionSave)
      const { rows } = await query<{ position: string; data: string }>('readProjection', undefined, { ...q.projection, values: [name] });
      return rows[0] ? { position: Number(rows[0].position), parts: rows.map((r) => r.data) } : undefined;
    },

    saveProjection(name: string, position: number, data: string | readonly string[]): Promise<boolean> {
      const parts = checkProjectionSave(name, position, data);
      // The head row first: it is locked to COMMIT, so two instances saving at once take turns, and the one that
      // comes second and is not further writes nothing. A statement per part: each stays under the 1 GB limit.
      return transaction('saveProjection', async (client) => {
        if ((await client.query({ ...q.saveProjection, values: [name, position, parts[0]] })).rowCount !== 1) return false;
        await client.query({ ...q.dropProjectionParts, values: [name, position] });
        for (let i = 1; i < parts.length; i++) await client.query({ ...q.insertProjectionPart, values: [name, position, i, parts[i]] });
        return true;
      });
    },
  };
}
