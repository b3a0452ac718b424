/**
 * Runs: pre-training and fine-tuning runs created from a dataset of the store and the trainer's
 * settings, each in its own folder under the data folder, carried out by the supervisor. The
 * request is validated with the trainer's own spec schema before anything is recorded.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import {
  CamdError,
  FinetuneSpec,
  LandmarkSpec,
  landmarkDataOf,
  ParsingSpec,
  PoseSpec,
  parseSpec,
  poseTestDataOf,
  PretrainSpec,
  PRETRAIN_DEFAULTS,
  presetConfig,
  wasmMemoryProblem,
  type PresetName,
  type Store,
} from 'camd-studio/trainer';
import { settingsOfRun } from 'camd-studio/trainer/protocol';
import type {
  ClusterPack,
  Estimate,
  ImportedRun,
  PretrainSettings,
  Run,
  RunDetail,
  SeeFace,
} from '../common/contract.js';
import type { CreateRun as CreateRunSchema, RunQuery } from '../common/contract.js';
import { ImagePrediction } from '../common/contract.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { runRows } from '../base/run-rows.js';
import { estimatePretrain } from './estimate.js';
import { failureLine, type CamdCommand } from './camd-command.js';
import { RunLog } from '../supervisor/run-log.js';
import type { Datasets } from './datasets.js';
import type { EventBus } from '../base/bus.js';
import type { AppPaths } from './paths.js';
import { NotFound } from '../base/errors.js';
import type { z } from 'zod';
import { isWorking } from 'camd-studio/trainer/protocol';

/** A run's recorded configuration; {} when there is none to read. */
function configOf(json: string | null): Record<string, unknown> {
  try {
    const c = JSON.parse(json || '{}') as unknown;
    return c && typeof c === 'object' ? (c as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class Runs {
  constructor(
    private readonly store: Store,
    private readonly paths: AppPaths,
    private readonly datasets: Datasets,
    private readonly supervisor: Supervisor,
    private readonly bus: EventBus,
    private readonly camd: CamdCommand,
  ) {}

  /** Predictions already made, by run and image. */
  private readonly predictionsSeen = new Map<string, ImagePrediction>();

  /** A new run from a request the API boundary has validated (electron/api/handlers.ts `call`). */
  create(req: z.output<typeof CreateRunSchema>): Run {
    const dataset = this.datasets.get(req.dataset);
    const id = randomUUID();
    const out = join(this.paths.runs, id);
    let spec: Record<string, unknown>;
    let parent: string | null = null;
    if (req.kind === 'pretrain') {
      // a probe set is one of the app's datasets (labelled in the app), never a path of the renderer's choosing
      if (req.settings.probeData !== undefined) {
        if (!this.store.datasetByRoot(req.settings.probeData))
          throw new CamdError('input', 'the probe set must be one of your datasets', 'probeData');
        if (req.settings.probeFormat !== 'store')
          throw new CamdError(
            'input',
            "the probe set's labels are the ones made in the app (format store)",
            'probeFormat',
          );
      }
      spec = { ...req.settings, data: dataset.root, out };
      let sourceModel: { preset: PresetName; imgSize?: number } | null = null;
      if (req.from) {
        if (req.settings.preset !== undefined)
          throw new CamdError('input', 'the starting checkpoint fixes the model: leave out the preset', 'preset');
        const src = this.store.run(req.from.run);
        if (!src) throw new NotFound(`run ${req.from.run}`);
        spec[req.from.mode === 'continue' ? 'continueFrom' : 'init'] = this.startingFile(src);
        parent = src.id;
        const { preset, imgSize } = settingsOfRun(configOf(src.config));
        sourceModel = preset ? { preset, ...(imgSize !== undefined ? { imgSize } : {}) } : null;
      }
      parseSpec(PretrainSpec, { ...spec, runId: id, db: this.paths.db }); // refused here, with its field, before anything is recorded
      // the model the run will have: the form's, or (from a checkpoint) the starting run's
      const preset = req.settings.preset ?? sourceModel?.preset ?? PRETRAIN_DEFAULTS.preset;
      const batch = req.settings.batch ?? PRETRAIN_DEFAULTS.batch;
      if (req.settings.imgSize !== undefined) {
        // as the start would refuse it (presetConfig: a whole number of the model's patches, …)
        try {
          presetConfig(preset, { imgSize: req.settings.imgSize });
        } catch (e) {
          throw new CamdError('input', (e as Error).message, 'imgSize');
        }
      }
      if (req.settings.backend === 'wasm') {
        const tooBig = wasmMemoryProblem(
          presetConfig(preset, {
            imgSize: req.settings.imgSize ?? sourceModel?.imgSize ?? presetConfig(preset).model.imgSize,
          }),
          batch,
          req.settings.recompute ?? 'auto',
        );
        if (tooBig) throw new CamdError('input', tooBig, 'batch');
      }
      // a scanned dataset's readable images are known: a batch larger than them could never start
      if (dataset.scanned_at && batch > dataset.image_count)
        throw new CamdError(
          'input',
          `the dataset has ${dataset.image_count} readable image(s), fewer than the batch size ${batch}; lower the batch or add images`,
          'batch',
        );
    } else {
      const { init, ...settings } = req.settings;
      let initPath = 'none';
      if (init !== 'none') {
        const ck = this.store.checkpoint(init.checkpoint);
        if (!ck) throw new NotFound(`checkpoint ${init.checkpoint}`);
        if (ck.kind !== 'full' && ck.kind !== 'encoder')
          throw new CamdError(
            'input',
            `checkpoint ${init.checkpoint} is a fine-tuned ${ck.kind} model, not a pre-trained encoder`,
            'init',
          );
        initPath = ck.path;
        parent = ck.run_id;
      }
      if (settings.task === 'landmarks') {
        // face alignment reads the dataset's own annotation (its .pts files, WFLW list or AFLW-19 CSV)
        let files: { data: string; testData?: string };
        try {
          files = landmarkDataOf(settings.format, dataset.root);
        } catch (e) {
          throw new CamdError('input', (e as Error).message, 'format');
        }
        spec = { ...settings, init: initPath, ...files, out };
        parseSpec(LandmarkSpec, { ...spec, runId: id, db: this.paths.db });
      } else if (settings.task === 'pose' || settings.task === 'parsing') {
        // head pose and parsing read the dataset folder itself (images with .mat files or BIWI's frames; label maps or part masks);
        // a head-pose test folder (AFLW2000 or BIWI) must exist and hold its layout, refused on its field otherwise
        if (settings.task === 'pose' && settings.testData !== undefined) poseTestDataOf(settings.testData);
        spec = { ...settings, init: initPath, data: dataset.root, out };
        parseSpec(settings.task === 'pose' ? PoseSpec : ParsingSpec, { ...spec, runId: id, db: this.paths.db });
      } else {
        spec = { ...settings, init: initPath, data: dataset.root, out };
        parseSpec(FinetuneSpec, { ...spec, runId: id, db: this.paths.db });
      }
    }
    this.store.createRun({
      id,
      kind: req.kind,
      name: req.name ?? null,
      datasetId: dataset.id,
      parentRunId: parent,
      config: {},
      seed: typeof req.settings.seed === 'number' ? req.settings.seed : 0,
      outDir: out,
      totalSteps: null,
      spec,
    });
    this.bus.emit('runs', this.supervisor.run(id));
    return req.start ? this.supervisor.enqueue(id) : this.supervisor.run(id);
  }

  /** A one-shot `camd … --json` command: its last line, parsed; its error line refused under `field`. */
  private async camdJson<T>(args: string[], timeoutMs: number, field: string): Promise<T> {
    const r = await this.camd([...args, '--json'], { timeoutMs, maxBuffer: 4 << 20 });
    if (r.code !== 0) throw new CamdError('input', failureLine(r), field);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as T;
  }

  /**
   * A run of the released scripts into the store (`camd import-run`, in its own process: it reads
   * log.txt and the checkpoints' pickles with the restricted reader). The folder is the user's
   * choice, as a dataset's is; nothing in it is written.
   */
  async importTorchrun(dirIn: string): Promise<ImportedRun> {
    const expanded = dirIn.trim().replace(/^~(?=$|[\\/])/, homedir());
    if (!isAbsolute(expanded))
      throw new CamdError(
        'input',
        `give the full path of the run's folder (the --output_dir of CAMD_pretrain.py or CAMD_finetune.py), not ${dirIn}`,
        'dir',
      );
    const dir = resolve(expanded);
    let st;
    try {
      st = statSync(dir);
    } catch {
      throw new CamdError('input', `the folder ${dir} does not exist`, 'dir');
    }
    if (!st.isDirectory())
      throw new CamdError('input', `${dir} is a file: give the run's folder (the one holding log.txt)`, 'dir');
    const out = await this.camdJson<{
      runId: string;
      kind: 'pretrain' | 'finetune';
      epochs: number;
      metrics: string[];
      checkpoints: string[];
      notes: string[];
      updated: boolean;
    }>(['import-run', dir, '--db', this.paths.db], 120_000, 'dir');
    const run = this.supervisor.run(out.runId);
    this.bus.emit('runs', run);
    return {
      run,
      kind: out.kind,
      epochs: out.epochs,
      metrics: out.metrics,
      checkpoints: out.checkpoints,
      notes: out.notes,
      updated: out.updated,
    };
  }

  /**
   * What a GPU box needs to pre-train a run's setup with the released code: `camd cluster-pack`
   * in its own process, into the app's exports folder (`cluster/<run>`, made afresh each time): the
   * images (links, or copies), camd_launch.py, run.sh, flags.json, and the run's newest checkpoint;
   * `preset` packs a new run at another released size (without the checkpoint).
   */
  async clusterPack(id: string, gpus: number, copy: boolean, preset?: 'base' | 'large' | 'huge'): Promise<ClusterPack> {
    const row = this.store.run(id);
    if (!row) throw new NotFound(`run ${id}`);
    if (row.kind !== 'pretrain' || !row.out_dir || !existsSync(join(row.out_dir, 'run.json')))
      throw new CamdError(
        'input',
        `run ${id} is not a pre-training run of this machine (no run folder): there is nothing to pack`,
        'id',
      );
    if (isWorking(row.status))
      throw new CamdError(
        'busy',
        `run ${id} is ${row.status}: pack it when it has stopped (its checkpoint is still being written)`,
        'id',
      );
    const out = join(this.paths.exports, 'cluster', id);
    rmSync(out, { recursive: true, force: true });
    const rep = await this.camdJson<Omit<ClusterPack, 'script'>>(
      [
        'cluster-pack',
        row.out_dir,
        '--out',
        out,
        '--gpus',
        String(gpus),
        ...(copy ? ['--copy'] : []),
        ...(preset ? ['--preset', preset] : []),
      ],
      3_600_000,
      'id',
    );
    return {
      out: rep.out,
      images: rep.images,
      model: rep.model,
      flags: rep.flags,
      resume: rep.resume,
      notes: rep.notes,
      script: readFileSync(join(out, 'run.sh'), 'utf8'),
    };
  }

  /**
   * What a pre-training run's model sees on one face of its dataset: `camd see --image` on its
   * newest checkpoint, in its own process; the pictures come back as PNG data URLs. Without an
   * image, the seed picks one of the dataset's readable images (and the block mask).
   */
  async see(id: string, imageId: number | undefined, seed: number): Promise<SeeFace> {
    const row = this.store.run(id);
    if (!row) throw new NotFound(`run ${id}`);
    if (row.kind !== 'pretrain')
      throw new CamdError(
        'input',
        `run ${id} is a ${row.kind} run: what the model sees is shown for pre-training runs`,
        'id',
      );
    const ck = this.store.checkpointPaths(id, 'full').find((f) => existsSync(f));
    if (!ck)
      throw new CamdError(
        'input',
        `run ${id} has no checkpoint yet${configOf(row.config)['source'] === 'torchrun' ? ' here (a cluster run: carry it on here first)' : ''}`,
        'id',
      );
    if (row.dataset_id === null) throw new CamdError('input', `run ${id} has no dataset in the store`, 'id');
    const ds = this.datasets.get(row.dataset_id);
    const count = this.store.readableImageCount(ds.id);
    if (count === 0) throw new CamdError('input', `${ds.name} has no readable image`, 'image');
    const image =
      imageId !== undefined
        ? this.store.readableImage(ds.id, imageId)
        : this.store.nthReadableImage(ds.id, seed % count);
    if (!image) throw new CamdError('input', `image ${imageId} is not a readable image of ${ds.name}`, 'image');
    const out = join(this.paths.exports, 'see', id, `${image.id}-${seed}`);
    const res = await this.camdJson<{
      face?: { meanCosineMasked: number; meanCosineVisible: number; grid: number; masked: number; step: number };
    }>(
      ['see', '--checkpoint', ck, '--image', join(ds.root, image.rel_path), '--seed', String(seed), '--out', out],
      600_000,
      'id',
    );
    if (!res.face) throw new CamdError('internal', 'camd see gave no result');
    const png = (f: string) => `data:image/png;base64,${readFileSync(join(out, f)).toString('base64')}`;
    return { image, prediction: png('prediction.png'), attention: png('attention.png'), ...res.face };
  }

  /**
   * What a face-alignment, head-pose or face-parsing run's model says of an image of the store
   * (`camd predict` with the run's model, in its own process): points or a pose per face, or the
   * image's label map; remembered per run and image while the app runs.
   */
  async predictImage(id: string, imageId: number): Promise<ImagePrediction> {
    const row = this.store.run(id);
    if (!row) throw new NotFound(`run ${id}`);
    const task = configOf(row.config)['task'];
    if (task !== 'landmarks' && task !== 'pose' && task !== 'parsing')
      throw new CamdError('input', `run ${id} is not a face-alignment, head-pose or face-parsing run`, 'id');
    const ck = this.store.fineTunedModelPath(id);
    if (!ck || !existsSync(ck)) throw new CamdError('input', `run ${id} has no model yet`, 'id');
    const img = this.store.imageFile(imageId);
    if (img?.status !== 'ok') throw new NotFound(`image ${imageId}`);
    const key = `${id}:${imageId}`;
    const known = this.predictionsSeen.get(key);
    if (known) return known;
    const r = await this.camd(['predict', '--checkpoint', ck, '--data', join(img.root, img.rel_path), '--json'], {
      timeoutMs: 300_000,
      maxBuffer: 64 << 20, // a parsing map of a large photo is a PNG in base64
    });
    if (r.code !== 0) throw new CamdError('input', failureLine(r), 'image');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = lines.find((l) => l['type'] === 'start');
    const pred = lines.find((l) => l['type'] === 'prediction');
    if (!start || !pred) throw new CamdError('internal', 'camd predict gave no prediction');
    const out = ImagePrediction.parse(
      task === 'parsing'
        ? { task, scheme: start['scheme'], faces: pred['faces'], parsing: pred['parsing'] ?? null }
        : { task, scheme: start['scheme'] ?? null, faces: pred['faces'] },
    );
    this.predictionsSeen.set(key, out);
    return out;
  }

  /** The newest checkpoint of a run that a new pre-training run can start from; refused in words when it has none. */
  private startingFile(src: { id: string; kind: string; name: string | null; config: string }): string {
    const name = src.name ?? src.id;
    const config = configOf(src.config);
    if (config['source'] === 'torchrun') {
      const files = Array.isArray(config['checkpoints'])
        ? (config['checkpoints'] as unknown[]).filter((f): f is string => typeof f === 'string')
        : [];
      const there = files.find((f) => existsSync(f));
      if (!there)
        throw new CamdError(
          'input',
          files.length
            ? `none of ${name}'s checkpoints is there any more (${files[0]}…); import its folder again`
            : `${name} has no checkpoint (the released scripts write checkpoint-*.pth beside log.txt)`,
          'from',
        );
      return there;
    }
    if (src.kind !== 'pretrain')
      throw new CamdError(
        'input',
        `${name} is a ${src.kind} run: a pre-training run starts from a pre-training checkpoint`,
        'from',
      );
    const rows = this.store.checkpointPaths(src.id, 'full');
    const there = rows.find((f) => existsSync(f));
    if (!there)
      throw new CamdError(
        'input',
        `${name} has no checkpoint to start from${rows.length ? ' (its files are gone)' : ''}`,
        'from',
      );
    return there;
  }

  start(id: string): Run {
    const r = this.get(id);
    if (r.status !== 'created')
      throw new CamdError(
        'input',
        `run ${id} is ${r.status}; ${r.kind === 'pretrain' ? 'resume it instead' : 'create a new run'}`,
        'id',
      );
    return this.supervisor.enqueue(id);
  }

  pause(id: string): Run {
    const r = this.get(id);
    if (r.kind !== 'pretrain')
      throw new CamdError('input', `a ${r.kind} run cannot be paused (it cannot be resumed); stop it instead`, 'id');
    return this.supervisor.halt(id, 'pause');
  }

  stop(id: string): Run {
    this.get(id);
    return this.supervisor.halt(id, 'stop');
  }

  /** Continues a pre-training run from its last checkpoint (or restarts it from step 1 without one). */
  resume(id: string): Run {
    const row = this.store.run(id);
    if (!row) throw new NotFound(`run ${id}`);
    if (row.kind !== 'pretrain')
      throw new CamdError('input', `a ${row.kind} run cannot be resumed; create a new one`, 'id');
    if (!['paused', 'stopped', 'interrupted', 'failed', 'done'].includes(row.status))
      throw new CamdError('input', `run ${id} is ${row.status}`, 'id');
    const spec = JSON.parse(row.spec ?? '{}') as Record<string, unknown>;
    if (!spec['out'])
      throw new CamdError(
        'input',
        `run ${id} was not made by the app (no spec); resume it with camd pretrain --resume ${row.out_dir ?? ''}`,
        'id',
      );
    return this.supervisor.enqueue(id); // its folder holds run.json: the supervisor resumes it
  }

  /** Forgets a run (metrics, checkpoints rows, evaluations); with `files`, its folder under the data folder goes too. */
  async delete(id: string, files: boolean): Promise<{ deleted: boolean }> {
    const row = this.store.run(id);
    if (!row) throw new NotFound(`run ${id}`);
    if (isWorking(row.status)) throw new CamdError('busy', `run ${id} is ${row.status}; stop it first`);
    // a run that has just ended may still have its worker process exiting
    if (!(await this.supervisor.settled(id, 10_000)))
      throw new CamdError('busy', `the process of run ${id} is still ending; try again in a moment`);
    this.supervisor.dequeue(id);
    this.store.deleteRun(id);
    RunLog.remove(this.paths.logs, id);
    if (files && row.out_dir) {
      const dir = resolve(row.out_dir);
      if (dir.startsWith(resolve(this.paths.runs) + sep)) rmSync(dir, { recursive: true, force: true }); // never outside the app's runs folder
    }
    return { deleted: true };
  }

  /** The time a pre-training would take, from three measured steps of its settings (see estimate.ts). */
  estimate(dataset: number, settings: z.infer<typeof PretrainSettings>): Promise<z.infer<typeof Estimate>> {
    const d = this.datasets.get(dataset);
    return estimatePretrain(this.camd, d.image_count, settings);
  }

  get(id: string): Run {
    return this.supervisor.run(id);
  }

  list(p: z.output<typeof RunQuery>): Run[] {
    return runRows(this.store, { kind: p.kind, statuses: p.status, dataset: p.dataset, sort: p.sort, order: p.order });
  }

  detail(id: string): RunDetail {
    const run = this.get(id);
    const row = this.store.run(id)!;
    const parse = (s: string | null) => {
      try {
        return s ? (JSON.parse(s) as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    const log = RunLog.tail(this.paths.logs, id, 40);
    const exit = [...log]
      .reverse()
      .find((l) => l.includes('worker ended: ') && !l.endsWith('worker ended: exit code 0'));
    return {
      ...run,
      spec: parse(row.spec),
      config: parse(row.config),
      backend_detail: row.backend_detail ? parse(row.backend_detail) : null,
      out_dir: row.out_dir,
      exit: exit ? exit.slice(exit.indexOf('worker ended: ') + 14) : null,
      log_tail: log,
    };
  }

  log(id: string, lines: number): { lines: string[] } {
    this.get(id);
    return { lines: RunLog.tail(this.paths.logs, id, lines) };
  }
}
