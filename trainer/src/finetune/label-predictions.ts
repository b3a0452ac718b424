/** After fine-tuning on labels made in the app: the selected model's predictions on every face, for model-assisted labelling. */
import type { EventSink } from '../protocol/events.js';
import type { Store } from '../store/store.js';

export interface PredictionTarget {
  store: Store;
  schemaId: number;
  runId: string;
  /** The dataset's folder. */
  root: string;
  send: EventSink;
  signal: AbortSignal;
  maxPixels: number;
}

export async function predictForLabelling(bestFile: string, t: PredictionTarget): Promise<void> {
  const { predictFaces } = await import('./predict.js');
  const { loadClassifier } = await import('./classifier-file.js');
  const { getSchema } = await import('../labels/schema.js');
  const { store, runId, send, signal } = t;
  const best = loadClassifier(bestFile);
  try {
    const n = await predictFaces({
      store,
      schema: getSchema(store.db, t.schemaId),
      runId,
      clf: best.clf,
      task: best.task,
      names: best.names,
      imgSize: best.imgSize,
      root: t.root,
      emit: send,
      signal,
      maxPixels: t.maxPixels,
    });
    if (signal.aborted)
      send({
        type: 'log',
        level: 'info',
        message:
          'stopped while predicting: no predictions saved for labelling (camd predict, or Predict in the Label view, makes them)',
      });
    else
      send({
        type: 'log',
        level: 'info',
        message: `predictions on ${n} face(s) saved for labelling (model-assisted; kept apart from the labels)`,
      });
  } finally {
    best.clf.dispose();
  }
}
