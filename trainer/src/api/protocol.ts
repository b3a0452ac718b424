/**
 * The pure part of the trainer's API — zod schemas and plain TypeScript, no Node import — for
 * the app's contract and renderer: events, specs and their defaults, the worker protocol, error
 * causes, presets, backends and label formats, and the pre-training fields with their labels and
 * help (the form's). (`camd-studio/trainer/protocol`)
 */
export * from '../protocol/events.js';
export * from '../protocol/specs.js';
export * from '../protocol/geometry-specs.js';
export * from '../protocol/worker-protocol.js';
export * from '../protocol/defaults.js';
export { PRETRAIN_FIELDS, helpOf, pretrainDefault, type PretrainField } from '../protocol/pretrain-fields.js';
export * from '../protocol/run-status.js';
export { CamdError, ERROR_CAUSES, EXIT_CODE, type ErrorCause } from '../util/errors.js';
export {
  PRESET_NAMES,
  presetConfig,
  gridOf,
  maskedCount,
  parameterCounts,
  DEFAULT_MASK_RATIO,
  type PresetName,
  type ModelConfig,
} from '../model/config.js';
export { BACKEND_NAMES, type BackendName, type BackendChoice } from '../backends/names.js';
export {
  estimateWasmPretrain,
  planWasmPretrain,
  wasmMemoryProblem,
  WASM_HEAP_MAX,
  RECOMPUTE_MODES,
  type MemoryEstimate,
  type RecomputeMode,
} from '../model/memory.js';
export { FORMATS, type LabelFormat } from '../protocol/formats.js';
export { FILE_FORMATS } from '../protocol/formats.js';
export {
  TEMPLATES,
  TEMPLATE_IDS,
  RESERVED_KEYS,
  defaultShortcuts,
  shortcutProblem,
  templateOf,
  type Template,
  type SchemaTask,
  type FieldKind,
} from '../labels/templates.js';
export { CELEBA_ATTRIBUTES, RAFDB_CLASSES, FERPLUS_CLASSES } from '../protocol/label-names.js';
export { settingsOfReleasedArgs, settingsOfRun, type LentSettings } from '../protocol/run-origin.js';
export { CLASS_MAPS, type ParsingScheme } from '../parsing/parsing-classes.js';
