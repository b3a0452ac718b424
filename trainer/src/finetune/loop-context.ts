/** What the fine-tuning loop runs on: the run prepared by run.ts, and the step it has reached. */
import type * as tf from '@tensorflow/tfjs';
import type { DecodeCache } from '../data/decode-cache.js';
import type { Task } from '../labels/label-files.js';
import type { ModelConfig } from '../model/config.js';
import type { AdamW } from '../optim/adamw.js';
import type { EventSink } from '../protocol/events.js';
import type { Store } from '../store/store.js';
import type { Classifier } from './classifier.js';
import type { ResolvedItem } from './dataset.js';
import type { AugOptions } from './transforms.js';

export interface FinetuneContext {
  task: Task;
  names: string[];
  model: ModelConfig;
  /** Input size. */
  S: number;
  train: ResolvedItem[];
  val: ResolvedItem[];
  test: ResolvedItem[];
  datasetId: number;
  cache: DecodeCache;
  clf: Classifier;
  opt: AdamW;
  vars: Map<string, tf.Variable>;
  lrScale: Map<string, number>;
  linearProbe: boolean;
  aug: AugOptions;
  epochs: number;
  batch: number;
  stepsPerEpoch: number;
  lr0: number;
  warmup: number;
  minLr: number;
  seed: number;
  normalisation: unknown;
  store: Store;
  runId: string;
  outDir: string;
  send: EventSink;
  signal: AbortSignal;
  /** Completed optimiser steps (read by the hard-exit hook). */
  step: number;
  /** After a completed run, before it is marked done: given the selected model's file (predictions for labelling). */
  afterTraining?: (bestFile: string) => Promise<void>;
}

export type FinetuneOutcome = 'completed' | 'stopped' | 'diverged';
