/** Labelling over the store (schema 4): schemas, writes with undo/redo, queue, progress, splits, resolution, import/export, predictions. */
export * from './templates.js';
export * from './schema.js';
export * from './annotate.js';
export * from './resolve.js';
export * from './split.js';
export * from './queue.js';
export * from './progress.js';
export * from './exchange.js';
export * from './predictions.js';
export * from './curve.js';
