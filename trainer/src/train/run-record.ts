/**
 * The record of a run, written before its first step: the run folder's images.json and run.json,
 * then the store's row (created, or updated for a run the app queued or one restarted with new
 * settings), its metrics cut back to the step it resumes at, its checkpoint rows matched to the
 * files, and the row claimed by this process.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { backendDetail, type Selection } from '../backends/ladder.js';
import type { CamdConfig } from '../model/config.js';
import type { Store } from '../store/store.js';
import { currentProcess } from '../util/process-identity.js';
import { stepOfCheckpoint, type RunFolder } from './run-folder.js';
import type { Log, ResolvedRun, RunFile, RunSettings, RunStart } from './run-settings.js';

/** The run as resolved and built. */
export interface RunRecord {
  folder: RunFolder;
  store: Store;
  runId: string;
  dbPath: string;
  saved: RunFile | null;
  settings: RunSettings;
  options: ResolvedRun['options'];
  cfg: CamdConfig;
  images: { path: string; sha256: string }[];
  resumedFrom: string | null;
  sel: Selection;
}

/** Where the run stands before its first step. */
export interface RunPlace {
  /** The run starts over (from step 1 or its starting point): its image list and settings are written anew. */
  restart: boolean;
  runStart: RunStart | null;
  datasetId: number;
  totalSteps: number;
  /** The step the trainer is at (0, the resumed checkpoint's, or the starting point's). */
  step: number;
}

/** Writes the run folder's records, then the store's; the store's row is claimed by this process last. */
export function recordRun(r: RunRecord, at: RunPlace, log: Log): void {
  const { folder, store, runId, saved, settings, images, sel } = r;
  const { restart, runStart } = at;
  if (!saved || restart) folder.writeJson(folder.imagesFile, { root: settings.data, images });
  folder.writeJson(folder.runFile, {
    format: 'camd-run',
    version: 1,
    run_id: runId,
    db: r.dbPath,
    settings,
    options: r.options,
    ...(runStart ? { start: runStart } : {}),
    created_at: saved?.created_at ?? new Date().toISOString(),
  });
  const config = {
    settings,
    model: r.cfg,
    images: images.length,
    image_list_sha256: createHash('sha256')
      .update(images.map((i) => i.sha256).join('\n'))
      .digest('hex'),
    ...(runStart ? { start: runStart } : {}),
  };
  const prior = store.run(runId);
  if (!prior)
    store.createRun({
      id: runId,
      kind: 'pretrain',
      datasetId: at.datasetId,
      config,
      seed: settings.seed,
      outDir: folder.dir,
      totalSteps: at.totalSteps,
    });
  else if (restart || !saved)
    store.updateRun(runId, {
      config: JSON.stringify(config),
      total_steps: at.totalSteps,
      dataset_id: at.datasetId,
      out_dir: folder.dir,
    }); // a run the app queued, or one restarted with new settings
  if (prior?.backend && r.resumedFrom && prior.backend !== sel.backend)
    log(
      'warn',
      `the run continues on ${sel.backend} after running on ${prior.backend}: its weights will not be bit-identical to an uninterrupted run`,
    );
  store.truncateMetrics(runId, at.step);
  reconcileCheckpoints(store, folder, runId);
  store.claimRun(runId, currentProcess(), {
    backend: sel.backend,
    backend_detail: backendDetail(sel),
    started_at: new Date().toISOString(),
    finished_at: null,
    error: null,
    last_step: at.step,
  });
}

/** The store's checkpoint rows of a run equal the files on disk: rows of missing files go, files without a row get one. */
function reconcileCheckpoints(store: Store, folder: RunFolder, runId: string): void {
  const files = folder.checkpoints();
  const rows = store.checkpoints(runId).filter((r) => r.kind === 'full');
  const gone = rows.filter((r) => !files.includes(r.path)).map((r) => r.path);
  if (gone.length) store.removeCheckpoints(runId, gone);
  for (const f of files) {
    if (rows.some((r) => r.path === f)) continue;
    const bytes = readFileSync(f);
    store.addCheckpoint({
      run_id: runId,
      step: stepOfCheckpoint(f)!,
      kind: 'full',
      path: f,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
  }
}
