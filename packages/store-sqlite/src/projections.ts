/** The SQLite store's consumer checkpoints and saved projections (a projection's first part in its row, the others in projection_parts). */
import { checkConsumerName, checkProjectionSave, type SavedProjection } from '@hotpatch/store';
import type { SqliteContext } from './context.js';

export function createProjections(ctx: SqliteContext) {
  const { db, sql: q, batches, failure } = ctx;

  // Read in one transaction, so that another process's save cannot come between the two reads.
  const readProjection = db.transaction((name: string): SavedProjection | undefined => {
    const head = q.projection.get(name);
    return head === undefined ? undefined : { position: head.position, parts: [head.data, ...q.projectionParts.all(name)] };
  });
  const saveProjection = db.transaction((name: string, position: number, parts: readonly string[]) => {
    if (q.saveProjection.run(name, position, parts[0]!, new Date().toISOString()).changes !== 1) return false;
    q.dropProjectionParts.run(name);
    for (let i = 1; i < parts.length; i++) q.insertProjectionPart.run(name, i, parts[i]!);
    return true;
  });

  return {
    readCheckpoint: (consumer: string): number => q.checkpoint.get(consumer)?.position ?? 0,

    saveCheckpoint(consumer: string, expected: number, next: number): boolean {
      checkConsumerName(consumer);
      try {
        batches.writing();
        return db.transaction(() => {
          const now = new Date().toISOString();
          if (expected === 0) q.insertCheckpoint.run(consumer, 0, now);
          return q.updateCheckpoint.run(next, now, consumer, expected).changes === 1;
        }).immediate();
      } catch (error) {
        throw failure(error);
      }
    },

    readProjection: (name: string): SavedProjection | undefined => readProjection(name),

    saveProjection(name: string, position: number, data: string | readonly string[]): boolean {
      const parts = checkProjectionSave(name, position, data);
      // A transaction of its own, or a savepoint in the batch's.
      try {
        batches.writing();
        return saveProjection.immediate(name, position, parts);
      } catch (error) {
        throw failure(error);
      }
    },
  };
}
