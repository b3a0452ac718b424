/**
 * The face-geometry runs (`camd finetune --task landmarks|pose`, or the app's fine-tune form with
 * those tasks): the dataset format, the encoder to start from and the schedule. Their fields are the
 * same-named fields of a classification run (finetune-fields.ts: one schema, one flag, one help
 * each), minus those the task does not read. No Node import: the renderer validates its form with
 * them.
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

/** The head-pose dataset formats (pose/pose-formats.ts reads them). */
export const POSE_FORMAT_NAMES = ['300w-lp', 'aflw2000', 'biwi'] as const;
export type PoseFormatName = (typeof POSE_FORMAT_NAMES)[number];

export const POSE_FORMAT_NOTES: Record<PoseFormatName, string> = {
  '300w-lp':
    'each image with a MATLAB .mat beside it (Pose_Para, pt2d), as 300W-LP; camd pseudo-label --task pose writes them',
  aflw2000: 'as 300W-LP (image + .mat with Pose_Para and pt2d); faces beyond ±99° are left out of testing',
  biwi: 'the BIWI Kinect database: NN/frame_XXXXX_rgb.png with frame_XXXXX_pose.txt (rotation matrix); faces found by the face model',
};

/** The face-parsing dataset formats (parsing/parsing-formats.ts reads them). */
export const PARSING_FORMAT_NAMES = ['lapa', 'celebamask-hq'] as const;
export type ParsingFormatName = (typeof PARSING_FORMAT_NAMES)[number];

export const PARSING_FORMAT_NOTES: Record<ParsingFormatName, string> = {
  lapa: "11 classes: images/ with labels/<same name>.png label maps (or LaPa's train/ and test/ folders); camd pseudo-label --task parsing writes them",
  'celebamask-hq': '19 classes: CelebA-HQ-img/ with CelebAMask-HQ-mask-anno/<k>/NNNNN_<part>.png part masks, merged',
};

/** The tasks fine-tuning runs on a geometry dataset (points, angles, label maps) rather than on labels. */
export const GEOMETRY_TASKS = ['landmarks', 'pose', 'parsing'] as const;
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

/** The fields of a head-pose run: as face alignment's, with the head-pose formats. */
export const PoseFields = LandmarkFields.extend({
  task: z.literal('pose'),
  format: z.enum(POSE_FORMAT_NAMES, { message: `must be one of ${POSE_FORMAT_NAMES.join(', ')}` }),
}).strict();

/** A head-pose run in the new folder `out`. */
export const PoseSpec = PoseFields.refine((s) => s.init === 'none' || s.preset === undefined, {
  message: 'goes with --init none; a checkpoint brings its own architecture',
  path: ['preset'],
});
export type PoseSpec = z.infer<typeof PoseSpec>;

/** The fields of a face-parsing run: as face alignment's, with the parsing formats; its datasets carry their own split. */
export const ParsingFields = LandmarkFields.omit({ testData: true })
  .extend({
    task: z.literal('parsing'),
    format: z.enum(PARSING_FORMAT_NAMES, { message: `must be one of ${PARSING_FORMAT_NAMES.join(', ')}` }),
  })
  .strict();

/** A face-parsing run in the new folder `out`. */
export const ParsingSpec = ParsingFields.refine((s) => s.init === 'none' || s.preset === undefined, {
  message: 'goes with --init none; a checkpoint brings its own architecture',
  path: ['preset'],
});
export type ParsingSpec = z.infer<typeof ParsingSpec>;

/** The geometry task a fine-tuning request asks for, or null for classification. */
export function geometryTaskOf(spec: unknown): GeometryTask | null {
  const t = typeof spec === 'object' && spec !== null ? (spec as { task?: unknown }).task : undefined;
  return (GEOMETRY_TASKS as readonly unknown[]).includes(t) ? (t as GeometryTask) : null;
}

/**
 * `camd eval` of a face-geometry model (landmarks.safetensors, pose.safetensors, parsing.safetensors):
 * the task is the model file's own (a `task` given must be it); the dataset in one of the task's
 * formats; its test split — `testData`, the dataset's own split (parsing), or the seeded share a run
 * with `seed` held out.
 */
export const GeometryEvalSpec = z
  .object({
    runId: F.runId.schema.optional(),
    checkpoint: F.data.schema,
    task: z.enum(GEOMETRY_TASKS),
    format: z.enum([...LANDMARK_FORMAT_NAMES, ...POSE_FORMAT_NAMES, ...PARSING_FORMAT_NAMES], {
      message: `must be one of ${[...LANDMARK_FORMAT_NAMES, ...POSE_FORMAT_NAMES, ...PARSING_FORMAT_NAMES].join(', ')}`,
    }),
    data: F.data.schema,
    testData: F.testData.schema.optional(),
    seed: F.seed.schema.optional(),
    backend: F.backend.schema.optional(),
    db: F.db.schema.optional(),
  })
  .strict();
export type GeometryEvalSpec = z.infer<typeof GeometryEvalSpec>;

/** Each geometry task's dataset formats. */
export const GEOMETRY_FORMATS: Record<GeometryTask, readonly string[]> = {
  landmarks: LANDMARK_FORMAT_NAMES,
  pose: POSE_FORMAT_NAMES,
  parsing: PARSING_FORMAT_NAMES,
};
