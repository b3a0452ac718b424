/** The label-file formats fine-tuning reads (labels.ts parses them; no Node import: the app's forms list them). */
export const FORMATS = ['celeba', 'lfwa', 'rafdb', 'ferplus', 'folders', 'csv'] as const;
export type LabelFormat = (typeof FORMATS)[number];
