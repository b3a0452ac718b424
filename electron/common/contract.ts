/**
 * The API contract of CAMD Studio: every operation the renderer can ask of the main process (or of
 * the browser-mode host), with its parameters and its result, and every topic it can subscribe
 * to, as zod schemas validated at the boundary. One module, imported by the services (to check
 * what they answer), by the host and the Electron preload (to check what they receive) and by the
 * renderer's client (for its types). No Node and no DOM import.
 *
 * Transports: HTTP (POST /api/<op>, JSON body → JSON result) and WebSocket (/api/ws: calls and
 * subscriptions) in browser mode; Electron IPC through the preload in the app. Errors carry the
 * trainer's causes: { error: { message, cause, field? } }.
 */
import { z } from 'zod';
import {
  ERROR_CAUSES,
  FaceScanSpec,
  FinetuneFields,
  LandmarkFields,
  ParsingFields,
  PoseFields,
  PRESET_NAMES,
  PretrainSpec,
  RUN_STATUSES,
  RunEvent,
} from 'camd-studio/trainer/protocol';
import type { OP_NAMES, TOPIC_NAMES } from './names.js';

const Id = z.number().int().positive();
/** A path as the renderer sends it: no NUL byte (no file system has one; Node would throw on it). */
const PathText = z
  .string()
  .max(4096)
  .refine((v) => !v.includes('\0'), 'a path cannot contain a NUL byte');
const RunId = z.string().min(1).max(64);
const Iso = z.string();

// ---- datasets and images ----

export const Dataset = z.object({
  id: Id,
  name: z.string(),
  root: z.string(),
  created_at: Iso,
  scanned_at: Iso.nullable(),
  image_count: z.number().int(),
  bad_count: z.number().int(),
  labelled_count: z.number().int(),
  /** A derived dataset of face crops: the dataset of the photos they came from. */
  source_dataset_id: Id.nullable(),
});
export type Dataset = z.infer<typeof Dataset>;

/** Faces at ingest: what `camd scan --faces` takes (defaults in docs/faces.md), the trainer's own schema. */
export const FaceSettings = FaceScanSpec.omit({ dir: true, db: true, maxPixels: true, out: true });
export type FaceSettings = z.infer<typeof FaceSettings>;

const Point = z.tuple([z.number(), z.number()]);
/** One detected face of a photo, and what became of it. */
export const Face = z.object({
  id: Id,
  /** The derived dataset (face crops). */
  dataset_id: Id,
  source_image_id: Id,
  /** The crop's image in the derived dataset (kept faces). */
  crop_image_id: Id.nullable(),
  face_index: z.number().int(),
  score: z.number(),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  landmarks: z.object({ rightEye: Point, leftEye: Point, nose: Point, rightMouth: Point, leftMouth: Point }),
  pose: z.object({ roll: z.number(), yaw: z.number(), pitch: z.number() }),
  status: z.enum(['kept', 'small', 'low-score', 'repeat', 'near-duplicate', 'dropped']),
  /** The square the aligned crop takes from the photo (its four corners, clockwise from the crop's top left). */
  crop: z.tuple([Point, Point, Point, Point]),
  outside: z.number().nullable(),
  /** The bundled models' age/gender/expression guesses, with their source: suggestions, never labels. */
  suggestions: z.unknown().nullable(),
});
export type Face = z.infer<typeof Face>;

export const ImageSummary = z.object({
  id: Id,
  rel_path: z.string(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  status: z.enum(['ok', 'bad']),
  error: z.string().nullable(),
});
export type ImageSummary = z.infer<typeof ImageSummary>;

export const Label = z.object({ task: z.string(), name: z.string(), value: z.number(), split: z.string().nullable() });

export const ImageDetail = ImageSummary.extend({
  dataset_id: Id,
  bytes: z.number().int(),
  mtime_ms: z.number(),
  format: z.string().nullable(),
  sha256: z.string().nullable(),
  labels: z.array(Label),
});
export type ImageDetail = z.infer<typeof ImageDetail>;

export const ImageQuery = z
  .object({
    dataset: Id,
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(200),
    status: z.enum(['ok', 'bad']).optional(),
    labelled: z.boolean().optional(),
    /** Images with this label (task, name and value). */
    label: z
      .object({ task: z.string().max(64), name: z.string().max(256), value: z.number() })
      .strict()
      .optional(),
    /** Images under this folder (a '/'-separated path relative to the dataset root). */
    folder: PathText.optional(),
    /** A substring of the relative path. */
    search: z.string().max(256).optional(),
  })
  .strict();
export type ImageQuery = z.input<typeof ImageQuery>;

export const DatasetStats = z.object({
  dataset: Dataset,
  formats: z.record(z.string(), z.number().int()),
  /** Shorter side of readable images: counts per bucket [from, to) (to null: no upper bound). */
  resolution: z.array(z.object({ from: z.number(), to: z.number().nullable(), count: z.number().int() })),
  /** Top-level folders and their readable image counts ('' = the root itself). */
  folders: z.array(z.object({ folder: z.string(), count: z.number().int() })),
  /** Labels by task and name: counts per value, and per split. */
  labels: z.array(
    z.object({
      task: z.string(),
      name: z.string(),
      values: z.record(z.string(), z.number().int()),
      splits: z.record(z.string(), z.number().int()),
    }),
  ),
});
export type DatasetStats = z.infer<typeof DatasetStats>;

// ---- background jobs (scans) ----

export const Job = z.object({
  id: z.string(),
  kind: z.enum(['scan', 'predict', 'curve']),
  dataset: Id.nullable(),
  status: z.enum(['running', 'done', 'failed', 'stopped']),
  phase: z.string(),
  done: z.number().int(),
  total: z.number().int(),
  message: z.string().nullable(),
  /** What a finished job produced (the label curve of a `curve` job). */
  result: z.unknown().nullable().optional(),
  started_at: Iso,
  finished_at: Iso.nullable(),
});
export type Job = z.infer<typeof Job>;

// ---- mask preview ----

export const MaskPreviewParams = z
  .object({
    image: Id,
    preset: z.enum(PRESET_NAMES).default('tiny'),
    imgSize: z.number().int().positive().max(1024).optional(),
    maskRatio: z.number().gt(0).lt(1).optional(),
    seed: z.number().int().min(0).default(0),
    sample: z.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
export const MaskPreviewResult = z.object({
  imgSize: z.number().int(),
  patchSize: z.number().int(),
  grid: z.number().int(),
  tokens: z.number().int(),
  masked: z.number().int(),
  visible: z.number().int(),
  mask: z.array(z.number().int()),
  /** PNG data URLs of view 1 (the student's crop) and view 2 (the teacher's whole face). */
  view1: z.string(),
  view2: z.string(),
});
export type MaskPreviewResult = z.infer<typeof MaskPreviewResult>;

// ---- runs ----

export const RunState = z.enum(RUN_STATUSES);

export const Run = z.object({
  id: RunId,
  kind: z.enum(['pretrain', 'finetune', 'eval']),
  name: z.string().nullable(),
  status: RunState,
  dataset_id: Id.nullable(),
  parent_run_id: RunId.nullable(),
  backend: z.string().nullable(),
  last_step: z.number().int(),
  total_steps: z.number().int().nullable(),
  error: z.string().nullable(),
  created_at: Iso,
  started_at: Iso.nullable(),
  finished_at: Iso.nullable(),
  updated_at: Iso.nullable(),
  /** Settings that tell runs apart in a table (preset, image size, batch, mask ratio, task…). */
  key: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** The run's headline number: the last loss of a pre-training, the selected test value of a fine-tuning. */
  /** The headline number; for an accuracy, its baselines (always the most common answer; chance) and the one answer the model gives to every face, if it gives one. */
  metric: z
    .object({
      name: z.string(),
      value: z.number(),
      majority: z.number().nullable().optional(),
      chance: z.number().nullable().optional(),
      one_answer: z.string().nullable().optional(),
    })
    .nullable(),
});
export type Run = z.infer<typeof Run>;

export const RunDetail = Run.extend({
  /** The spec the run was created with, and the full configuration the trainer recorded. */
  spec: z.record(z.string(), z.unknown()),
  config: z.record(z.string(), z.unknown()),
  backend_detail: z.unknown().nullable(),
  out_dir: z.string().nullable(),
  /** How the process ended, in words, when it did not end by itself (killed, out of memory…). */
  exit: z.string().nullable(),
  log_tail: z.array(z.string()),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** The settings of a new pre-training run: the trainer's spec fields, less the paths (the app's) and the stop step. */
export const PretrainSettings = PretrainSpec.omit({
  runId: true,
  out: true,
  resume: true,
  data: true,
  db: true,
  stopAt: true,
  continueFrom: true,
  init: true,
});

const FaceBox = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** A face-parsing model's label map of an image: the class names, the map, each class's pixels. */
export const ParsingMap = z.object({
  classes: z.array(z.string()).min(2).max(256),
  /** An 8-bit greyscale PNG (base64) of class indices covering photo pixels x … x + width, y … y + height (the whole image). */
  map: z.object({
    png: z.string().min(1),
    x: z.number().int().min(0),
    y: z.number().int().min(0),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
  /** Pixels of each class in the map, by class index. */
  counts: z.array(z.number().int().min(0)),
});
export type ParsingMap = z.infer<typeof ParsingMap>;

/**
 * What a face-alignment, head-pose or face-parsing run's model says of one image (`camd predict`
 * with its model): points or a head pose per face, or — a parsing model views the whole image, as
 * its training does — one label map of the image (null when the face model finds no face).
 */
export const ImagePrediction = z.union([
  z.object({
    task: z.enum(['landmarks', 'pose']),
    /** The point scheme of a face-alignment run. */
    scheme: z.string().nullable(),
    /** Each face the face model found, largest first: its box, photo pixels, and the run's points or head pose (degrees). */
    faces: z.array(
      z.object({
        box: FaceBox,
        points: z.array(z.tuple([z.number(), z.number()])).optional(),
        pose: z.object({ yaw: z.number(), pitch: z.number(), roll: z.number() }).optional(),
      }),
    ),
  }),
  z.object({
    task: z.literal('parsing'),
    /** The class scheme of the run (lapa-11, celebamask-19). */
    scheme: z.string(),
    faces: z.array(z.object({ box: FaceBox })),
    parsing: ParsingMap.nullable(),
  }),
]);
export type ImagePrediction = z.infer<typeof ImagePrediction>;

/** What a pre-training run's model sees on one face of its dataset (`camd see --image`). */
export const SeeFace = z.object({
  image: z.object({ id: Id, rel_path: z.string() }),
  /** The checkpoint's step. */
  step: z.number().int(),
  /** PNG data URLs: the student's per-patch prediction quality over the face (masked patches outlined), and the teacher's attention. */
  prediction: z.string(),
  attention: z.string(),
  meanCosineMasked: z.number(),
  meanCosineVisible: z.number(),
  masked: z.number().int(),
  grid: z.number().int(),
});
export type SeeFace = z.infer<typeof SeeFace>;

/** What a GPU box needs to pre-train a run's setup with the released code (`camd cluster-pack`). */
export const ClusterPack = z.object({
  /** The folder written: data/train/faces, camd_launch.py, run.sh, flags.json, start/checkpoint.pth when the checkpoint went in. */
  out: z.string(),
  images: z.number().int(),
  model: z.string(),
  flags: z.record(z.string(), z.unknown()),
  resume: z.object({ step: z.number().int(), epoch: z.number().int(), file: z.string() }).passthrough().nullable(),
  notes: z.array(z.string()),
  /** run.sh as written. */
  script: z.string(),
});
export type ClusterPack = z.infer<typeof ClusterPack>;

/** A run of the released scripts (torchrun), read into the store from its --output_dir. */
export const ImportedRun = z.object({
  run: Run,
  kind: z.enum(['pretrain', 'finetune']),
  epochs: z.number().int(),
  metrics: z.array(z.string()),
  checkpoints: z.array(z.string()),
  /** What could not be read (a damaged checkpoint, no args), said rather than dropped. */
  notes: z.array(z.string()),
  updated: z.boolean(),
});
export type ImportedRun = z.infer<typeof ImportedRun>;

/** The settings of a new fine-tuning run: the trainer's fields, the encoder named by a checkpoint of the store (or none). */
export const FinetuneSettings = FinetuneFields.omit({
  runId: true,
  out: true,
  db: true,
  data: true,
  testData: true,
  init: true,
}).extend({
  init: z.union([z.literal('none'), z.object({ checkpoint: Id }).strict()]),
});

/**
 * The settings of a new face-alignment run (task landmarks): the trainer's landmark fields, the
 * dataset's folder read in one of the landmark formats (the service finds the WFLW list or the
 * AFLW-19 CSV inside it), the encoder named by a checkpoint of the store (or none).
 */
export const LandmarkSettings = LandmarkFields.omit({
  runId: true,
  out: true,
  db: true,
  data: true,
  testData: true,
  init: true,
}).extend({ init: z.union([z.literal('none'), z.object({ checkpoint: Id }).strict()]) });

/**
 * The settings of a new head-pose run (task pose): as face alignment's, with the head-pose formats,
 * and optionally a test folder of its own (`testData`: AFLW2000's or BIWI's, the service checks it).
 */
export const PoseSettings = PoseFields.omit({
  runId: true,
  out: true,
  db: true,
  data: true,
  init: true,
}).extend({ init: z.union([z.literal('none'), z.object({ checkpoint: Id }).strict()]) });

/** The settings of a new face-parsing run (task parsing): its dataset folder in LaPa's or CelebAMask-HQ's layout. */
export const ParsingSettings = ParsingFields.omit({
  runId: true,
  out: true,
  db: true,
  data: true,
  init: true,
}).extend({ init: z.union([z.literal('none'), z.object({ checkpoint: Id }).strict()]) });

/** A fine-tuning run's settings: classification (far, fer), face alignment (landmarks), head pose (pose) or face parsing (parsing). */
export const AnyFinetuneSettings = z.union([FinetuneSettings, LandmarkSettings, PoseSettings, ParsingSettings]);

/**
 * Where a new pre-training run starts, when not from random weights: the newest checkpoint of a run
 * of the store — one of this machine's (its full checkpoint) or one brought in from a cluster — to
 * carry that run on (weights, AdamW state, settings, epoch) or to take its weights only. A run, never
 * a path: the service finds the file.
 */
export const StartFrom = z.object({ run: RunId, mode: z.enum(['continue', 'init']) }).strict();
export type StartFrom = z.infer<typeof StartFrom>;

export const CreateRun = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('pretrain'),
      name: z.string().max(200).optional(),
      dataset: Id,
      settings: PretrainSettings,
      from: StartFrom.optional(),
      start: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      kind: z.literal('finetune'),
      name: z.string().max(200).optional(),
      dataset: Id,
      settings: AnyFinetuneSettings,
      start: z.boolean().default(true),
    })
    .strict(),
]);
export type CreateRun = z.input<typeof CreateRun>;

export const RunQuery = z
  .object({
    kind: z.enum(['pretrain', 'finetune', 'eval']).optional(),
    status: z.array(RunState).optional(),
    dataset: Id.optional(),
    sort: z.enum(['created', 'name', 'status']).default('created'),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();

// ---- metrics ----

export const SeriesQuery = z
  .object({
    runs: z.array(RunId).min(1).max(50),
    names: z.array(z.string().max(128)).min(1).max(32),
    x: z.enum(['step', 'epoch', 'time']).default('step'),
    /** Debiased EMA weight, computed on the full series before downsampling (0 = none). */
    smoothing: z.number().min(0).max(0.999).default(0),
    /** At most this many points a series, min/max preserving. */
    maxPoints: z.number().int().min(10).max(20_000).default(2000),
  })
  .strict();
export type SeriesQuery = z.input<typeof SeriesQuery>;

/** Every element a finite number, as `z.array(z.number())` demands, checked in one loop. */
function finiteNumbers(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) return false;
  }
  return true;
}

/**
 * A column of a series: what `z.array(z.number())` accepts (no NaN, no ±Infinity), checked without
 * zod's per-element work. A comparison of 10 runs answers 30 columns of 2,000 points; zod's check
 * of them took about 5 ms (20 ms and more with its garbage collected), this one 0.1–0.4 ms.
 */
const NumberColumn = z.custom<number[]>(finiteNumbers, { message: 'expected an array of finite numbers' });

export const Series = z.object({
  run: RunId,
  name: z.string(),
  /** Points in the store for this series (before downsampling). */
  total: z.number().int(),
  x: NumberColumn,
  y: NumberColumn,
  /** Smoothed values at the same x (equal to y without smoothing). */
  smoothed: NumberColumn,
});
export type Series = z.infer<typeof Series>;

// ---- evaluations, checkpoints, system ----

export const Evaluation = z.object({
  id: Id,
  run_id: RunId,
  dataset_id: Id.nullable(),
  epoch: z.number().int().nullable(),
  split: z.string(),
  metric: z.string(),
  value: z.number(),
  selected: z.boolean(),
  detail: z.unknown().nullable(),
});

export const Checkpoint = z.object({
  id: Id,
  run_id: RunId,
  step: z.number().int(),
  kind: z.enum(['full', 'encoder', 'classifier', 'last']),
  path: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  created_at: Iso,
  /** The file is still there. */
  exists: z.boolean(),
});

/** What an ONNX export holds and expects (camd export --format onnx --json; trainer/src/onnx/export.ts). */
export const OnnxExport = z.object({
  kind: z.enum(['encoder', 'classifier', 'landmarks', 'pose', 'parsing']),
  bytes: z.number().int(),
  opset: z.number().int(),
  preprocessing: z.object({
    size: z.number().int(),
    mean: z.array(z.number()),
    std: z.array(z.number()),
    normalisation: z.string(),
    crop: z.string(),
  }),
  outputs: z.array(z.object({ name: z.string(), dims: z.array(z.union([z.number(), z.string()])), doc: z.string() })),
  names: z.array(z.string()).nullable(),
});
export type OnnxExport = z.infer<typeof OnnxExport>;

export const Estimate = z.object({
  backend: z.string(),
  batch: z.number().int(),
  stepSeconds: z.number(),
  imagesPerSecond: z.number(),
  stepsPerEpoch: z.number().int(),
  epochSeconds: z.number(),
  totalSteps: z.number().int(),
  totalSeconds: z.number(),
  measuredSteps: z.number().int(),
});

export const DiskPart = z.object({
  part: z.string(),
  path: z.string(),
  bytes: z.number(),
  files: z.number().int(),
  cleanable: z.boolean(),
});

export const SystemInfo = z.object({
  version: z.string(),
  /** The account's user name: the default labeller. */
  user: z.string(),
  node: z.string(),
  platform: z.string(),
  dataDir: z.string(),
  store: z.string(),
  /** Every rung of the backend ladder: loaded or why not (the trainer's `camd info`). */
  backends: z.record(z.string(), z.unknown()),
});

// ---- labelling (store schema 4: trainer/src/labels) ----

const FieldKind = z.enum(['attribute', 'class', 'number', 'point']);
const Labeller = z.string().trim().min(1).max(64);
const FieldName = z.string().max(100);

export const LabelField = z.object({
  id: Id,
  schema_id: Id,
  kind: FieldKind,
  name: z.string(),
  position: z.number().int(),
  shortcut: z.string().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  unit: z.string().nullable(),
  deleted_at: Iso.nullable(),
});
export type LabelField = z.infer<typeof LabelField>;

export const LabelSchema = z.object({
  id: Id,
  dataset_id: Id,
  name: z.string(),
  task: z.enum(['far', 'fer']),
  template: z.string().nullable(),
  split_seed: z.number().int().nullable(),
  created_at: Iso,
  /** Live fields: attributes or classes first (by position), then numbers and points. */
  fields: z.array(LabelField),
  /** Deleted fields, restorable, their labels kept. */
  deleted: z.array(LabelField),
});
export type LabelSchema = z.infer<typeof LabelSchema>;

export const NewLabelSchema = z
  .object({
    dataset: Id,
    name: z.string().max(100).optional(),
    /** celeba40 | rafdb7 | ferplus8, or the user's own `names` with a task. */
    template: z.enum(['celeba40', 'rafdb7', 'ferplus8']).optional(),
    task: z.enum(['far', 'fer']).optional(),
    names: z.array(FieldName).min(1).max(200).optional(),
    extras: z
      .array(
        z
          .object({
            kind: z.enum(['number', 'point']),
            name: FieldName,
            min: z.number().optional(),
            max: z.number().optional(),
            unit: z.string().max(20).optional(),
          })
          .strict(),
      )
      .max(50)
      .optional(),
  })
  .strict();

/** What an edit touched: how many labels and faces (shown to the user, who can undo). */
const Affected = z.object({ field: LabelField, labels: z.number().int(), images: z.number().int() });

export const Annotation = z.object({
  image_id: Id,
  schema_id: Id,
  slot: z.number().int().min(0),
  labeller: z.string(),
  value: z.number(),
  y: z.number().nullable(),
  source: z.enum(['human', 'import', 'accepted']),
  run_id: z.string().nullable(),
  at: Iso,
});
export type Annotation = z.infer<typeof Annotation>;

export const Prediction = z.object({
  image_id: Id,
  slot: z.number().int().min(0),
  value: z.number(),
  confidence: z.number(),
  probs: z.union([z.array(z.number()), z.record(z.string(), z.number())]).nullable(),
});
export type Prediction = z.infer<typeof Prediction>;

export const LabelWrite = z
  .object({
    schema: Id,
    images: z.array(Id).min(1).max(10_000),
    labeller: Labeller,
    /** slot 0: the class of a class schema (value: the class's field id); else a field id. value null: remove. */
    changes: z
      .array(
        z
          .object({ slot: z.number().int().min(0), value: z.number().nullable(), y: z.number().nullable().optional() })
          .strict(),
      )
      .min(1)
      .max(500),
    /** 'accepted': a model's prediction taken as it is; `run` says whose. */
    source: z.enum(['human', 'accepted']).default('human'),
    run: RunId.optional(),
  })
  .strict();
export type LabelWrite = z.input<typeof LabelWrite>;

const UndoState = z.object({ canUndo: z.boolean(), canRedo: z.boolean() });
export const UndoOutcome = UndoState.extend({
  undone: z.object({ batch: z.number().int(), images: z.array(Id), changes: z.number().int() }).nullable(),
});

export const QUEUE_FILTERS = [
  'all',
  'unlabelled',
  'labelled',
  'not-mine',
  'disagreement',
  'model-disagreement',
  'low-confidence',
] as const;
export const LabelQueueQuery = z
  .object({
    schema: Id,
    filter: z.enum(QUEUE_FILTERS).default('all'),
    label: z
      .object({ slot: z.number().int().min(0), value: z.number() })
      .strict()
      .optional(),
    run: RunId.optional(),
    order: z.enum(['path', 'uncertainty']).default('path'),
    threshold: z.number().gt(0).lte(1).optional(),
    labeller: Labeller.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type LabelQueueQuery = z.input<typeof LabelQueueQuery>;
export const QueueItem = z.object({
  image_id: Id,
  rel_path: z.string(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  labelled: z.boolean(),
  confidence: z.number().nullable(),
});
export type QueueItem = z.infer<typeof QueueItem>;

export const LabelProgress = z.object({
  images: z.number().int(),
  labelled: z.number().int(),
  acceptedOnly: z.number().int(),
  complete: z.number().int(),
  fields: z.array(
    z.object({
      id: Id,
      name: z.string(),
      kind: z.enum(['attribute', 'class']),
      present: z.number().int(),
      absent: z.number().int(),
    }),
  ),
  labellers: z.array(z.object({ labeller: z.string(), images: z.number().int(), labels: z.number().int(), last: Iso })),
  agreement: z.array(
    z.object({
      a: z.string(),
      b: z.string(),
      compared: z.number().int(),
      agreement: z.number(),
      kappa: z.number().nullable(),
    }),
  ),
  splits: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
});
export type LabelProgress = z.infer<typeof LabelProgress>;

const SplitTriple = z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() });
export const SplitResult = SplitTriple.extend({
  assigned: z.number().int(),
  byClass: z.record(z.string(), SplitTriple).optional(),
});

export const LabelExport = z
  .object({
    schema: Id,
    /** csv: what `camd finetune --format csv` reads; full: every label with who, when and from where; celeba: list_attr_celeba.txt + list_eval_partition.txt. */
    format: z.enum(['csv', 'full', 'celeba']),
    labels: z.enum(['human', 'human+accepted']).default('human'),
    /** A folder (absolute) to write into; default: a new folder under the data folder's exports/. */
    out: PathText.optional(),
  })
  .strict();
export const LabelExportResult = z.object({
  folder: z.string(),
  files: z.array(z.string()),
  rows: z.number().int(),
  notes: z.array(z.string()),
});

export const PredictionRun = z.object({
  run_id: RunId,
  name: z.string().nullable(),
  images: z.number().int(),
  at: Iso,
  status: RunState.nullable(),
});

/** The "labels needed" learning curve: quick linear probes on cached encoder features as labels grow. */
export const LabelCurve = z.object({
  metric: z.string(),
  points: z.array(z.object({ labels: z.number().int(), value: z.number() })),
  hint: z.string(),
  features: z.object({ computed: z.number().int(), cached: z.number().int() }),
  seconds: z.number(),
});
export type LabelCurve = z.infer<typeof LabelCurve>;

// ---- the operations ----

// ---- face geometry a person draws (landmarks, head pose, parsing label maps) ----

/** The schemes of each task (trainer/src/geometry/landmark-schemes.ts, parsing/parsing-classes.ts; the trainer checks again). */
export const LANDMARK_SCHEME_NAMES = ['300w-68', 'wflw-98', 'aflw-19'] as const;
export const PARSING_SCHEME_NAMES = ['lapa-11', 'celebamask-19'] as const;
const LandmarkSchemeName = z.enum(LANDMARK_SCHEME_NAMES);
const GeometryTaskName = z.enum(['landmarks', 'pose', 'parsing']);
const GeometryScheme = z.enum([...LANDMARK_SCHEME_NAMES, 'ypr', ...PARSING_SCHEME_NAMES]);
const Pixel = z.tuple([z.number().finite(), z.number().finite()]);
/** Yaw, pitch, roll in degrees, 300W-LP's convention (positive yaw: the nose to the image's left). */
export const PoseAngles = z.object({
  yaw: z.number().finite().min(-180).max(180),
  pitch: z.number().finite().min(-90).max(90),
  roll: z.number().finite().min(-180).max(180),
});
const PoseSaved = PoseAngles.extend({ from: z.enum(['landmarks', 'hand']) });
/** Where an annotation started: a run's prediction (run:<id>), the face mesh, or by hand. */
const GeometrySource = z.string().regex(/^(run:[\w-]{1,80}|mesh|hand)$/, 'run:<id>, mesh or hand');
const Base64Png = z
  .string()
  .max(40_000_000)
  .regex(/^[A-Za-z0-9+/]+=*$/, 'a PNG as base64');
const GeometryCommon = { image: Id, source: z.string(), labeller: z.string(), updatedAt: Iso };
/** One saved face geometry of an image. */
export const GeometryLabel = z.discriminatedUnion('task', [
  z.object({ task: z.literal('landmarks'), scheme: LandmarkSchemeName, points: z.array(Pixel), ...GeometryCommon }),
  z.object({ task: z.literal('pose'), scheme: z.literal('ypr'), pose: PoseSaved, ...GeometryCommon }),
  z.object({
    task: z.literal('parsing'),
    scheme: z.enum(PARSING_SCHEME_NAMES),
    /** The 8-bit greyscale PNG label map, base64. */
    mask: z.string(),
    ...GeometryCommon,
  }),
]);
export type GeometryLabel = z.infer<typeof GeometryLabel>;

/** Where a landmark annotation of an image starts: its largest face's points, and the pose fitted to them (300W 68 only). */
export const GeometryStart = z.object({
  scheme: LandmarkSchemeName,
  points: z.array(Pixel),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  source: z.string(),
  pose: PoseAngles.nullable(),
});
export type GeometryStart = z.infer<typeof GeometryStart>;

/** Where a parsing correction starts: a parsing run's label map of the whole image, or the face mesh's regions (LaPa's classes); both guesses. */
export const ParsingStart = z.object({
  scheme: z.enum(PARSING_SCHEME_NAMES),
  /** 'run:<id>' or 'mesh': what the save records as the start. */
  source: z.string(),
  /** An 8-bit greyscale PNG of the image's size, one class index per pixel. */
  mask: z.string(),
  /** Faces the face model found (the mesh start fills the largest one's regions); null for a run's map. */
  faces: z.number().int().nullable(),
});
export type ParsingStart = z.infer<typeof ParsingStart>;

export const GeometrySave = z.discriminatedUnion('task', [
  z
    .object({
      task: z.literal('landmarks'),
      image: Id,
      scheme: LandmarkSchemeName,
      points: z.array(Pixel).min(1).max(200),
      source: GeometrySource,
      labeller: Labeller,
      /** 300W 68 only: also save the head pose fitted to the points (task pose, its from: landmarks). */
      withPose: z.boolean().default(false),
    })
    .strict(),
  z
    .object({ task: z.literal('pose'), image: Id, pose: PoseAngles, source: GeometrySource, labeller: Labeller })
    .strict(),
  z
    .object({
      task: z.literal('parsing'),
      image: Id,
      scheme: z.enum(PARSING_SCHEME_NAMES),
      mask: Base64Png,
      source: GeometrySource,
      labeller: Labeller,
    })
    .strict(),
]);
export type GeometrySave = z.input<typeof GeometrySave>;

export const GeometryExport = z
  .object({
    dataset: Id,
    task: z.enum(['landmarks', 'pose', 'parsing']),
    /** parsing: lapa (LaPa's layout, images/ and labels/*.png) */
    format: z.enum(['pts', 'wflw', 'aflw19', 'json', 'csv', 'mat', 'lapa']),
    scheme: z.enum([...LANDMARK_SCHEME_NAMES, ...PARSING_SCHEME_NAMES]).optional(),
    /** An absolute folder; by default a new folder under the data folder's exports/. */
    out: PathText.optional(),
  })
  .strict();
export type GeometryExport = z.input<typeof GeometryExport>;

export const GeometryExported = z.object({
  folder: z.string(),
  files: z.array(z.string()),
  faces: z.number().int(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  /** The `camd finetune` command that reads the export back, when one does. */
  readBack: z.string().nullable(),
});
export type GeometryExported = z.infer<typeof GeometryExported>;

const op = <P extends z.ZodType, R extends z.ZodType>(params: P, result: R) => ({ params, result });
const none = z.object({}).strict();

export const OPS = {
  'system.info': op(none, SystemInfo),
  'system.disk': op(none, z.array(DiskPart)),
  'system.clean': op(
    z.object({ what: z.enum(['cache', 'thumbs', 'exports']) }).strict(),
    z.object({ part: z.string(), freedBytes: z.number() }),
  ),
  'runs.estimate': op(z.object({ dataset: Id, settings: PretrainSettings }).strict(), Estimate),
  'datasets.list': op(none, z.array(Dataset)),
  'datasets.add': op(
    z
      .object({
        path: PathText.refine((v) => v.length > 0, 'give a folder'),
        maxPixels: z.number().int().positive().optional(),
        faces: FaceSettings.optional(),
      })
      .strict(),
    z.object({ dataset: Dataset, job: Job }),
  ),
  'datasets.addSample': op(z.object({}).strict(), z.object({ dataset: Dataset, job: Job })),
  'datasets.rescan': op(z.object({ id: Id }).strict(), Job),
  'datasets.delete': op(z.object({ id: Id }).strict(), z.object({ deleted: z.boolean() })),
  'datasets.stats': op(z.object({ id: Id }).strict(), DatasetStats),
  'datasets.images': op(ImageQuery, z.object({ total: z.number().int(), items: z.array(ImageSummary) })),
  'datasets.image': op(z.object({ id: Id }).strict(), ImageDetail),
  'faces.ofImage': op(z.object({ id: Id }).strict(), z.array(Face)),
  'faces.drop': op(
    z.object({ face: Id, undo: z.boolean().optional() }).strict(),
    z.object({ face: Face.nullable(), job: Job.nullable() }),
  ),
  'datasets.completePath': op(z.object({ prefix: PathText }).strict(), z.array(z.string())),
  'jobs.list': op(none, z.array(Job)),
  'jobs.stop': op(z.object({ id: z.string() }).strict(), Job),
  'preview.mask': op(MaskPreviewParams, MaskPreviewResult),
  'runs.create': op(CreateRun, Run),
  'runs.start': op(z.object({ id: RunId }).strict(), Run),
  'runs.pause': op(z.object({ id: RunId }).strict(), Run),
  'runs.resume': op(z.object({ id: RunId }).strict(), Run),
  'runs.stop': op(z.object({ id: RunId }).strict(), Run),
  'runs.delete': op(
    z.object({ id: RunId, files: z.boolean().default(false) }).strict(),
    z.object({ deleted: z.boolean() }),
  ),
  'runs.list': op(RunQuery, z.array(Run)),
  'runs.get': op(z.object({ id: RunId }).strict(), RunDetail),
  'runs.predictImage': op(z.object({ id: RunId, image: Id }).strict(), ImagePrediction),
  'runs.see': op(
    z.object({ id: RunId, image: Id.optional(), seed: z.number().int().min(0).max(1_000_000).default(0) }).strict(),
    SeeFace,
  ),
  'runs.clusterPack': op(
    z
      .object({
        id: RunId,
        gpus: z.number().int().min(1).max(1024).default(8),
        copy: z.boolean().default(false),
        preset: z.enum(['base', 'large', 'huge']).optional(),
      })
      .strict(),
    ClusterPack,
  ),
  'runs.importTorchrun': op(
    z.object({ dir: PathText.refine((v) => v.length > 0, 'give a folder') }).strict(),
    ImportedRun,
  ),
  'runs.log': op(
    z.object({ id: RunId, lines: z.number().int().min(1).max(5000).default(200) }).strict(),
    z.object({ lines: z.array(z.string()) }),
  ),
  'metrics.names': op(z.object({ runs: z.array(RunId).min(1).max(50) }).strict(), z.array(z.string())),
  'metrics.series': op(SeriesQuery, z.array(Series)),
  'evaluations.list': op(z.object({ run: RunId }).strict(), z.array(Evaluation)),
  'checkpoints.list': op(z.object({ run: RunId }).strict(), z.array(Checkpoint)),
  'checkpoints.export': op(
    z.object({ id: Id, format: z.enum(['onnx', 'tfjs', 'safetensors']), out: PathText.optional() }).strict(),
    z.object({ out: z.string(), message: z.string(), onnx: OnnxExport.optional() }),
  ),
  'labels.schemas': op(z.object({ dataset: Id }).strict(), z.array(LabelSchema)),
  'labels.createSchema': op(NewLabelSchema, LabelSchema),
  'labels.deleteSchema': op(z.object({ id: Id }).strict(), z.object({ labels: z.number().int() })),
  'labels.addField': op(
    z
      .object({
        schema: Id,
        kind: FieldKind,
        name: FieldName,
        min: z.number().optional(),
        max: z.number().optional(),
        unit: z.string().max(20).optional(),
        shortcut: z.string().max(4).optional(),
      })
      .strict(),
    LabelField,
  ),
  'labels.renameField': op(z.object({ id: Id, name: FieldName }).strict(), Affected.extend({ previous: z.string() })),
  'labels.deleteField': op(z.object({ id: Id }).strict(), Affected),
  'labels.restoreField': op(z.object({ id: Id }).strict(), Affected),
  'labels.setShortcut': op(z.object({ id: Id, key: z.string().max(4).nullable() }).strict(), LabelField),
  'labels.write': op(LabelWrite, UndoState.extend({ batch: z.number().int().nullable(), changed: z.number().int() })),
  'labels.undo': op(z.object({ schema: Id, labeller: Labeller }).strict(), UndoOutcome),
  'labels.redo': op(z.object({ schema: Id, labeller: Labeller }).strict(), UndoOutcome),
  'labels.undoState': op(z.object({ schema: Id, labeller: Labeller }).strict(), UndoState),
  'labels.of': op(
    z.object({ schema: Id, images: z.array(Id).min(1).max(1000), run: RunId.optional() }).strict(),
    z.object({ annotations: z.array(Annotation), predictions: z.array(Prediction) }),
  ),
  'labels.queue': op(LabelQueueQuery, z.object({ total: z.number().int(), items: z.array(QueueItem) })),
  'labels.progress': op(z.object({ schema: Id }).strict(), LabelProgress),
  'labels.split': op(
    z
      .object({
        schema: Id,
        seed: z.number().int().min(0).default(0),
        val: z.number().min(0).lt(1).optional(),
        test: z.number().min(0).lt(1).optional(),
        reassign: z.boolean().default(false),
        labels: z.enum(['human', 'human+accepted']).default('human'),
      })
      .strict(),
    SplitResult,
  ),
  'labels.export': op(LabelExport, LabelExportResult),
  'labels.import': op(
    z.object({ dataset: Id, format: z.enum(['celeba', 'lfwa', 'rafdb', 'ferplus', 'folders', 'csv']) }).strict(),
    z.object({ schema: LabelSchema, images: z.number().int(), notes: z.array(z.string()) }),
  ),
  'labels.predictionRuns': op(z.object({ schema: Id }).strict(), z.array(PredictionRun)),
  'labels.predict': op(z.object({ schema: Id, run: RunId }).strict(), Job),
  'labels.curve': op(
    z.object({ schema: Id, checkpoint: Id, labels: z.enum(['human', 'human+accepted']).default('human') }).strict(),
    Job,
  ),
  'geometry.get': op(
    z.object({ image: Id, task: GeometryTaskName, scheme: GeometryScheme }).strict(),
    GeometryLabel.nullable(),
  ),
  'geometry.annotated': op(
    z.object({ dataset: Id, task: GeometryTaskName, scheme: GeometryScheme }).strict(),
    z.object({ images: z.array(Id) }),
  ),
  'geometry.start': op(
    z.object({ image: Id, scheme: LandmarkSchemeName, run: RunId.optional() }).strict(),
    GeometryStart,
  ),
  'geometry.parsingStart': op(
    z.object({ image: Id, scheme: z.enum(PARSING_SCHEME_NAMES), run: RunId.optional() }).strict(),
    ParsingStart,
  ),
  'geometry.save': op(GeometrySave, z.object({ label: GeometryLabel, pose: GeometryLabel.nullable() })),
  'geometry.delete': op(
    z.object({ image: Id, task: GeometryTaskName, scheme: GeometryScheme }).strict(),
    z.object({ deleted: z.boolean() }),
  ),
  'geometry.poseOf': op(
    z.object({ points: z.array(Pixel).length(68) }).strict(),
    PoseAngles.extend({ rms: z.number() }),
  ),
  'geometry.export': op(GeometryExport, GeometryExported),
} as const;

export type OpName = keyof typeof OPS;

// the names the preload exposes are exactly the contract's (a type error otherwise)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const NAMES_AGREE: Same<OpName, (typeof OP_NAMES)[number]> &
  Same<keyof typeof TOPICS, (typeof TOPIC_NAMES)[number]> = true;
export type OpParams<K extends OpName> = z.input<(typeof OPS)[K]['params']>;
export type OpResult<K extends OpName> = z.infer<(typeof OPS)[K]['result']>;

// ---- subscriptions ----

export const TOPICS = {
  /** A run's status changed (any run). */
  runs: { params: none, event: Run },
  /** Every event of one run's worker as it comes (steps, evaluations, checkpoints, logs…). */
  run: { params: z.object({ id: RunId }).strict(), event: RunEvent },
  /** New metric points of these runs (and names, if given), as they are reported. */
  metrics: {
    params: z.object({ runs: z.array(RunId).min(1).max(50), names: z.array(z.string()).optional() }).strict(),
    event: z.object({
      run: RunId,
      step: z.number().int(),
      epoch: z.number().nullable(),
      t: z.number(),
      values: z.record(z.string(), z.number()),
    }),
  },
  /** Background jobs (scans): progress and end. */
  jobs: { params: none, event: Job },
  /** A dataset was added, changed by a scan, or deleted (deleted: true). */
  datasets: { params: none, event: z.object({ id: Id, deleted: z.boolean(), dataset: Dataset.nullable() }) },
  /** Labels of a schema changed (a write, an undo or redo, predictions saved): the faces touched. */
  labels: {
    params: z.object({ schema: Id.optional() }).strict(),
    event: z.object({
      schema: Id,
      images: z.array(Id),
      labeller: z.string().nullable(),
      what: z.enum(['write', 'undo', 'redo', 'schema', 'predictions']),
    }),
  },
} as const;
export type TopicName = keyof typeof TOPICS;
export type TopicParams<K extends TopicName> = z.input<(typeof TOPICS)[K]['params']>;
export type TopicEvent<K extends TopicName> = z.infer<(typeof TOPICS)[K]['event']>;

// ---- errors ----

export const ApiError = z.object({
  message: z.string(),
  cause: z.enum([...ERROR_CAUSES, 'not-found', 'unauthorized']),
  field: z.string().optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** HTTP status of an error cause. */
export const HTTP_STATUS: Record<ApiError['cause'], number> = {
  usage: 400,
  input: 400,
  busy: 409,
  io: 500,
  'disk-full': 507,
  diverged: 500,
  internal: 500,
  'not-found': 404,
  unauthorized: 401,
};

/** WebSocket messages: client → server, and server → client. */
export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), id: z.number().int(), op: z.string().max(64), params: z.unknown() }).strict(),
  z
    .object({ type: z.literal('subscribe'), id: z.number().int(), topic: z.string().max(64), params: z.unknown() })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), id: z.number().int() }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('result'), id: z.number().int(), result: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.number().int().nullable(), error: ApiError }),
  z.object({ type: z.literal('event'), id: z.number().int(), data: z.unknown() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Where the images of the store are served (by id, never by path). */
export const imageUrl = (id: number, kind: 'thumb' | 'file', size?: number): string =>
  `/api/images/${id}/${kind}${kind === 'thumb' && size ? `?size=${size}` : ''}`;
