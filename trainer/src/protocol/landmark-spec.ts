/**
 * A face-alignment run (`camd finetune --task landmarks`, or the app's fine-tune form with the task
 * "landmarks"): the dataset format, the encoder to start from and the schedule. Its fields are the
 * same-named fields of a classification run (finetune-fields.ts: one schema, one flag, one help
 * each), minus those face alignment does not read. No Node import: the renderer validates its form
 * with it.
 */
import { z } from 'zod';
import { FINETUNE_FIELDS } from './finetune-fields.js';

/** The landmark dataset formats (geometry/landmark-formats.ts reads them). */
export const LANDMARK_FORMAT_NAMES = ['300w', 'wflw', 'aflw19'] as const;
export type LandmarkFormatName = (typeof LANDMARK_FORMAT_NAMES)[number];

/** What each format is on disk, for forms and messages. */
export const LANDMARK_FORMAT_NOTES: Record<LandmarkFormatName, string> = {
  '300w': '68 points: a folder of images with an iBUG .pts file beside each (camd pseudo-label writes them)',
  wflw: '98 points: the WFLW annotation list (list_98pt_rect_attr_*.txt) with WFLW_images/ beside it',
  aflw19: "19 points: HRNet's AFLW-19 CSV (face_landmarks_aflw_*.csv) with its images folder",
};

/** The tasks fine-tuning runs on a landmark dataset rather than on labels. */
export const GEOMETRY_TASKS = ['landmarks'] as const;
export type GeometryTask = (typeof GEOMETRY_TASKS)[number];

const F = FINETUNE_FIELDS;
/** The fields of a face-alignment run (LandmarkSpec adds the check across fields). */
export const LandmarkFields = z
  .object({
    runId: F.runId.schema.optional(),
    task: z.literal('landmarks'),
    format: z.enum(LANDMARK_FORMAT_NAMES, { message: `must be one of ${LANDMARK_FORMAT_NAMES.join(', ')}` }),
    data: F.data.schema,
    testData: F.testData.schema.optional(),
    init: F.init.schema,
    preset: F.preset.schema.optional(),
    imgSize: F.imgSize.schema.optional(),
    epochs: F.epochs.schema.optional(),
    batch: F.batch.schema.optional(),
    blr: F.blr.schema.optional(),
    warmupEpochs: F.warmupEpochs.schema.optional(),
    dropPath: F.dropPath.schema.optional(),
    seed: F.seed.schema.optional(),
    backend: F.backend.schema.optional(),
    out: F.out.schema,
    db: F.db.schema.optional(),
  })
  .strict();

/** A face-alignment run in the new folder `out`. */
export const LandmarkSpec = LandmarkFields.refine((s) => s.init === 'none' || s.preset === undefined, {
  message: 'goes with --init none; a checkpoint brings its own architecture',
  path: ['preset'],
});
export type LandmarkSpec = z.infer<typeof LandmarkSpec>;

/** Whether a fine-tuning request is face alignment rather than classification. */
export function isLandmarkRequest(spec: unknown): boolean {
  return typeof spec === 'object' && spec !== null && (spec as { task?: unknown }).task === 'landmarks';
}
