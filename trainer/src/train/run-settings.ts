/**
 * What a pre-training run is, before any work: its settings (the computation, fixed once the run
 * has a checkpoint), its options (how it is carried out, free to change on resume) and where it
 * starts from (random weights, --continue, --init). Everything that cannot start is refused here.
 * The records of a run folder (run.json, images.json) are declared here too.
 */
import { z } from 'zod';
import { BACKEND_CHOICES_TEXT, isBackendChoice } from '../backends/ladder.js';
import { wasmMemoryProblem } from '../model/memory.js';
import { PRESET_NAMES, presetConfig, runConfig, type CamdConfig } from '../model/config.js';
import { PRETRAIN_DEFAULTS } from '../protocol/defaults.js';
import { flagName, PRETRAIN_FIELDS, shapeOfRole, type Field, type PretrainField } from '../protocol/pretrain-fields.js';
import type { PretrainSpec } from '../protocol/specs.js';
import { RunOptions, type RunFolder } from './run-folder.js';
import type { BackendChoice } from '../backends/names.js';
import { readStartingPoint, type StartingPoint, type StartMode } from './start-from.js';
import { UserError } from '../util/errors.js';

/**
 * The settings that define the computation (the fields of role `setting`, protocol/pretrain-fields.ts);
 * saved in run.json and fixed once a checkpoint exists. A run has one length: epochs or steps, the
 * other null.
 */
export const RunSettings = z.object({
  ...shapeOfRole(PRETRAIN_FIELDS, 'setting'),
  data: z.string(),
  epochs: PRETRAIN_FIELDS.epochs.schema.nullable(),
  steps: PRETRAIN_FIELDS.steps.schema.nullable(),
});
export type RunSettings = z.infer<typeof RunSettings>;

/** What a run started from when not from random weights (--continue / --init; train/start-from.ts). */
export const RunStart = z.object({
  mode: z.enum(['continue', 'init']),
  file: z.string(),
  sha256: z.string(),
  format: z.enum(['released', 'camd']),
  epochs_done: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  optimizer: z.boolean(),
});
export type RunStart = z.infer<typeof RunStart>;
export const RunFile = z.object({
  format: z.literal('camd-run'),
  version: z.literal(1),
  run_id: z.string(),
  db: z.string(),
  settings: RunSettings,
  options: RunOptions.optional(),
  start: RunStart.optional(),
  created_at: z.string(),
});
export type RunFile = z.infer<typeof RunFile>;
export const ImagesFile = z.object({
  root: z.string(),
  images: z.array(z.object({ path: z.string(), sha256: z.string() })),
});

const DEFAULTS = PRETRAIN_DEFAULTS;

type Setting = Exclude<keyof RunSettings, 'data'>;

/** Flags that would change the computation, with their names on the command line. */
const COMPUTATION_FLAGS = (Object.keys(PRETRAIN_FIELDS) as PretrainField[]).flatMap((k) => {
  const f: Field = PRETRAIN_FIELDS[k];
  return f.role === 'setting' && k !== 'data' ? [[k as Setting, flagName(f)!] as const] : [];
});

/** A resumed run keeps its computation: a flag that would change it is refused. */
function checkUnchanged(flags: PretrainSpec, saved: RunSettings): void {
  for (const [k, flag] of COMPUTATION_FLAGS) {
    if (flags[k] !== undefined && flags[k] !== saved[k])
      throw new UserError(
        `${flag} ${String(flags[k])} differs from the resumed run's ${String(saved[k])}; a resumed run keeps its configuration`,
        2,
        k,
      );
  }
  if (flags.data !== undefined && flags.data !== saved.data)
    throw new UserError(`--data ${flags.data} differs from the resumed run's ${saved.data}`, 2, 'data');
}

/** Settings from the flags, falling back to `base` (a run restarted from step 1) and the defaults. */
function settingsFrom(flags: PretrainSpec, base: RunSettings | null): RunSettings {
  const data = flags.data ?? base?.data;
  if (!data)
    throw new UserError(
      '--data DIR is required (the folder of face images; --data sample pre-trains on the sample faces that come with the installed packages)',
      2,
      'data',
    );
  if (flags.epochs !== undefined && flags.steps !== undefined)
    throw new UserError('give --epochs or --steps, not both', 2, 'steps');
  const preset = flags.preset ?? base?.preset ?? DEFAULTS.preset;
  const length =
    flags.steps !== undefined
      ? { epochs: null, steps: flags.steps }
      : flags.epochs !== undefined
        ? { epochs: flags.epochs, steps: null }
        : base
          ? { epochs: base.epochs, steps: base.steps }
          : { epochs: DEFAULTS.epochs, steps: null };
  // each setting: the flag, else the run's, else the default; the preset, image size and length as above
  const each: Record<string, unknown> = {};
  for (const [k] of COMPUTATION_FLAGS) each[k] = flags[k] ?? base?.[k] ?? (DEFAULTS as Record<string, unknown>)[k];
  const r = RunSettings.safeParse({
    ...each,
    data,
    preset,
    imgSize:
      flags.imgSize ??
      (flags.preset === undefined ? base?.imgSize : undefined) ??
      presetConfig(preset as (typeof PRESET_NAMES)[number]).model.imgSize,
    ...length,
  });
  if (!r.success) {
    const i = r.error.issues[0]!;
    const flag = COMPUTATION_FLAGS.find(([k]) => k === i.path[0])?.[1] ?? i.path.join('.');
    throw new UserError(`invalid value for ${flag}: ${i.message}`, 2, String(i.path[0]));
  }
  return r.data;
}

/** Reads a run's starting point; for a run restarted from it, the file must be the one it started from. */
export async function startingPoint(file: string, recorded: RunStart | undefined): Promise<StartingPoint> {
  const p = await readStartingPoint(file);
  if (recorded && recorded.sha256 !== p.sha256)
    throw new UserError(
      `${file}, which the run started from, has changed since: the run cannot restart from it; start a new run`,
      2,
      'resume',
    );
  return p;
}

/** The defaults a starting point gives the run's settings: the architecture always, the rest under --continue. */
function startBase(p: StartingPoint, mode: StartMode, data: string | undefined): RunSettings {
  const g = p.suggested;
  const cont = mode === 'continue';
  return {
    data: data ?? '',
    preset: g.preset,
    imgSize: g.imgSize ?? presetConfig(g.preset).model.imgSize,
    maskRatio: (cont ? g.maskRatio : undefined) ?? DEFAULTS.maskRatio,
    batch: DEFAULTS.batch,
    epochs: (cont ? g.epochs : undefined) ?? DEFAULTS.epochs,
    steps: null,
    blr: (cont ? g.blr : undefined) ?? DEFAULTS.blr,
    warmupEpochs: (cont ? g.warmupEpochs : undefined) ?? DEFAULTS.warmupEpochs,
    seed: (cont ? g.seed : undefined) ?? DEFAULTS.seed,
    maxPixels: DEFAULTS.maxPixels,
  };
}

function configFor(s: RunSettings): CamdConfig {
  try {
    return runConfig(s);
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'imgSize');
  }
}

export type Log = (level: 'info' | 'warn', message: string) => void;

/** What the run is: its settings (fixed once it has a checkpoint), its options, and where it starts from. */
export interface ResolvedRun {
  candidates: string[];
  restart: boolean;
  startMode: StartMode | null;
  start: StartingPoint | null;
  settings: RunSettings;
  cfg: CamdConfig;
  options: RunOptions & { backend: BackendChoice };
}

/** Where a run starts when not from random weights: --continue/--init for a new run; the recorded file for a run restarted before its first checkpoint. */
async function startOf(
  flags: PretrainSpec,
  saved: RunFile | null,
  restart: boolean,
): Promise<{ startMode: StartMode | null; start: StartingPoint | null }> {
  if (flags.continueFrom && flags.init) throw new UserError('give --continue or --init, not both', 2, 'init');
  if (flags.resume && (flags.continueFrom || flags.init))
    throw new UserError(
      `${flags.continueFrom ? '--continue' : '--init'} starts a new run; --resume continues the run in its folder`,
      2,
      flags.continueFrom ? 'continueFrom' : 'init',
    );
  const startMode: StartMode | null = flags.continueFrom
    ? 'continue'
    : flags.init
      ? 'init'
      : saved?.start
        ? saved.start.mode
        : null;
  const startFile = flags.continueFrom ?? flags.init ?? saved?.start?.file ?? null;
  let start: StartingPoint | null = null;
  if (startMode && startFile && (!saved || restart)) {
    start = await startingPoint(startFile, saved?.start);
    const flag = startMode === 'continue' ? '--continue' : '--init';
    if (flags.preset && flags.preset !== start.suggested.preset)
      throw new UserError(
        `--preset ${flags.preset}: ${startFile} holds a ViT-${start.suggested.preset}, and its weights fix the architecture (leave out --preset with ${flag})`,
        2,
        'preset',
      );
  }
  return { startMode, start };
}

/** The run's options: the flags, else the saved ones, else the defaults; a step too big for the wasm heap is refused. */
function optionsOf(
  flags: PretrainSpec,
  saved: RunFile | null,
  cfg: CamdConfig,
  batch: number,
  log: Log,
): RunOptions & { backend: BackendChoice } {
  if ((flags.probeData === undefined) !== (flags.probeFormat === undefined))
    throw new UserError(
      '--probe-data and --probe-format go together (--probe-data DIR --probe-format F)',
      2,
      flags.probeData === undefined ? 'probeData' : 'probeFormat',
    );
  const options: RunOptions = {
    checkpointEvery: flags.checkpointEvery ?? saved?.options?.checkpointEvery ?? DEFAULTS.checkpointEvery,
    keepCheckpoints: flags.keepCheckpoints ?? saved?.options?.keepCheckpoints ?? DEFAULTS.keepCheckpoints,
    backend: flags.backend ?? saved?.options?.backend ?? DEFAULTS.backend,
    threads: flags.threads ?? saved?.options?.threads ?? DEFAULTS.threads,
    recompute: flags.recompute ?? saved?.options?.recompute ?? DEFAULTS.recompute,
    probe: flags.probeData
      ? {
          data: flags.probeData,
          format: flags.probeFormat!,
          ...(flags.probeSchema ? { schema: flags.probeSchema } : {}),
          every: flags.probeEvery ?? saved?.options?.probe?.every ?? null,
        }
      : (saved?.options?.probe ?? null),
  };
  const backend = options.backend;
  if (!isBackendChoice(backend))
    throw new UserError(
      `run.json names the backend '${backend}'; give --backend ${BACKEND_CHOICES_TEXT}`,
      2,
      'backend',
    );
  // a step that cannot fit in the wasm heap is refused now, not by an abort mid-run (model/memory.ts)
  const tooBig = backend === 'wasm' ? wasmMemoryProblem(cfg, batch, options.recompute) : null;
  if (tooBig) throw new UserError(tooBig, 2, 'batch');
  const before = saved?.options;
  if (before) {
    const shown = (v: unknown) => (v && typeof v === 'object' ? JSON.stringify(v) : String(v));
    const changed = (Object.keys(options) as (keyof RunOptions)[])
      .filter((k) => shown(options[k]) !== shown(before[k]))
      .map((k) => `${k} ${shown(before[k])} → ${shown(options[k])}`);
    if (changed.length) log('info', `run options changed on resume: ${changed.join(', ')}`);
  }
  return { ...options, backend };
}

/** Settings: fixed once the run has a checkpoint; options may change on resume. Refuses what cannot start. */
export async function resolveRun(
  flags: PretrainSpec,
  saved: RunFile | null,
  folder: RunFolder,
  log: Log,
): Promise<ResolvedRun> {
  const candidates = saved ? folder.checkpoints() : [];
  const restart = saved !== null && candidates.length === 0;
  const { startMode, start } = await startOf(flags, saved, restart);
  let settings: RunSettings;
  if (saved && !restart) {
    checkUnchanged(flags, saved.settings);
    settings = saved.settings;
  } else
    settings = settingsFrom(
      flags,
      saved?.settings ?? (start && startMode ? startBase(start, startMode, flags.data) : null),
    );
  const cfg = configFor(settings); // an image size the preset cannot use is refused here, before any work
  const options = optionsOf(flags, saved, cfg, settings.batch, log);
  return { candidates, restart, startMode, start, settings, cfg, options };
}
