/**
 * The pure part of the trainer's API — zod schemas and plain TypeScript, no Node import — for
 * the app's contract and renderer: events, specs and their defaults, the worker protocol, error
 * causes, presets, backends and label formats. (`camd-studio/trainer/protocol`)
 */
export * from './events.js';
export * from './specs.js';
export * from './worker-protocol.js';
export * from './defaults.js';
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
} from '../train/memory.js';
export { FORMATS, type LabelFormat } from '../finetune/formats.js';
export { FILE_FORMATS } from '../finetune/formats.js';
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
export { CELEBA_ATTRIBUTES, RAFDB_CLASSES, FERPLUS_CLASSES } from '../finetune/label-names.js';
export { settingsOfReleasedArgs, settingsOfRun, type LentSettings } from './run-origin.js';
