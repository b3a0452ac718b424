/**
 * The dataset of a folder in the store, and its label schema by name or id — the lookups every
 * command on the app's labels starts with (`--format store` fine-tuning, `camd predict`,
 * `camd label-curve`). No TensorFlow.js here.
 */
import { realpathSync } from 'node:fs';
import type { Store } from '../store/store.js';
import { UserError } from '../util/errors.js';
import { getSchema, type LabelSchema } from './schema.js';

/** The store's dataset of this folder (its real path); `then` says what to do first when there is none. */
export function datasetOfFolder(store: Store, data: string, then = 'first'): { root: string; datasetId: number } {
  let root: string;
  try {
    root = realpathSync(data);
  } catch {
    throw new UserError(`the folder ${data} does not exist`, 2, 'data');
  }
  const d = store.datasetByRoot(root);
  if (!d)
    throw new UserError(
      `${data} is not a dataset of the store ${store.file}: add it in the app (or \`camd scan\`) ${then}`,
      2,
      'data',
    );
  return { root, datasetId: d.id };
}

/** A dataset's schema by name, or by id when the name is a number that names none. */
export function schemaOfDataset(store: Store, datasetId: number, ref: string, root: string): LabelSchema {
  const byName = store.db
    .prepare('SELECT id FROM label_schemas WHERE dataset_id = ? AND name = ?')
    .pluck()
    .get(datasetId, ref) as number | undefined;
  const byId = /^\d+$/.test(ref)
    ? (store.db
        .prepare('SELECT id FROM label_schemas WHERE dataset_id = ? AND id = ?')
        .pluck()
        .get(datasetId, Number(ref)) as number | undefined)
    : undefined;
  const id = byName ?? byId;
  if (id === undefined) {
    const names = (
      store.db
        .prepare('SELECT name FROM label_schemas WHERE dataset_id = ? ORDER BY id')
        .pluck()
        .all(datasetId) as string[]
    ).map((n) => `'${n}'`);
    throw new UserError(
      `the dataset ${root} has no label schema '${ref}'${names.length ? ` (it has ${names.join(', ')})` : ' (it has none: create one in the app)'}`,
      2,
      'schema',
    );
  }
  return getSchema(store.db, id);
}
