/**
 * The rows of the store's tables as the trainer reads and writes them.
 */
import type { RunStatus } from '../protocol/run-status.js';

export type RunKind = 'pretrain' | 'finetune' | 'eval';

export interface DatasetRow {
  id: number;
  root: string;
  name: string;
  created_at: string;
  scanned_at: string | null;
  image_count: number;
  bad_count: number;
  /** A derived dataset (face crops): its source dataset, and what made it (JSON). */
  source_dataset_id: number | null;
  derive: string | null;
}

export interface ImageRow {
  id: number;
  dataset_id: number;
  rel_path: string;
  bytes: number;
  mtime_ms: number;
  width: number | null;
  height: number | null;
  format: string | null;
  sha256: string | null;
  status: 'ok' | 'bad';
  error: string | null;
}

export type NewImage = Omit<ImageRow, 'id' | 'dataset_id'>;

export interface RunRow {
  id: string;
  kind: RunKind;
  name: string | null;
  dataset_id: number | null;
  parent_run_id: string | null;
  config: string;
  backend: string | null;
  backend_detail: string | null;
  status: RunStatus;
  seed: number;
  out_dir: string | null;
  error: string | null;
  last_step: number;
  total_steps: number | null;
  created_at: string;
  started_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
  /** The process at work on the run (kept after it ends: the last one that ran it). */
  pid: number | null;
  host: string | null;
  pid_start: string | null;
  /** The spec the run was asked for, JSON (runs made by the app; null for the CLI's). */
  spec: string | null;
}

export interface MetricPoint {
  step: number;
  epoch: number | null;
  name: string;
  value: number;
  /** Wall-clock time of the point, ms since 1970 (null for points recorded before schema 3). */
  t?: number | null;
}

export interface CheckpointRow {
  id: number;
  run_id: string;
  step: number;
  kind: 'full' | 'encoder' | 'classifier' | 'last';
  path: string;
  sha256: string;
  bytes: number;
  created_at: string;
}

/** The fields of a run a writer may change (its status only through Store.setRunStatus). */
export type RunFields = Partial<
  Pick<
    RunRow,
    | 'backend'
    | 'backend_detail'
    | 'error'
    | 'last_step'
    | 'total_steps'
    | 'started_at'
    | 'finished_at'
    | 'config'
    | 'pid'
    | 'host'
    | 'pid_start'
    | 'dataset_id'
    | 'out_dir'
    | 'name'
    | 'parent_run_id'
    | 'spec'
  >
>;
