/**
 * The label formats fine-tuning reads (no Node import: the app's forms list them): label files
 * (labels.ts parses them), and `store` — the labels made in the app, by dataset folder and schema.
 */
export const FORMATS = ['celeba', 'lfwa', 'rafdb', 'ferplus', 'folders', 'csv', 'store'] as const;
/** The formats that are files of a dataset (not the store). */
export const FILE_FORMATS = ['celeba', 'lfwa', 'rafdb', 'ferplus', 'folders', 'csv'] as const;
export type LabelFormat = (typeof FORMATS)[number];
