/** `camd finetune` and `camd eval`: flag parsing and rendering (progress bar, or JSON lines). */
import { finetune, type FinetuneEvent, type FinetuneFlags } from '../finetune/run.js';
import { CliConsole, jsonRenderer } from './console.js';
import { stopOnSignals } from './signals.js';
import { evaluateCheckpoint } from '../finetune/evaluate.js';
import { EXIT_CODE, UserError } from '../util/errors.js';
import { parseThreads } from './selftest.js';
import { parseNumber } from './parse.js';

export interface FinetuneCliOptions {
  task?: string;
  format?: string;
  data?: string;
  init?: string;
  preset?: string;
  fewShot?: string;
  linearProbe?: boolean;
  epochs?: string;
  batch?: string;
  blr?: string;
  imgSize?: string;
  warmupEpochs?: string;
  layerDecay?: string;
  dropPath?: string;
  aa?: string;
  reprob?: string;
  minCropScale?: string;
  seed?: string;
  split?: string;
  backend?: string;
  threads?: string;
  out?: string;
  db?: string;
  json?: boolean;
}

function required(flag: string, v: string | undefined): string {
  if (!v) throw new UserError(`${flag} is required`);
  return v;
}

export async function finetuneCommand(o: FinetuneCliOptions): Promise<void> {
  const flags: FinetuneFlags = {
    task: required('--task far|fer', o.task),
    format: required('--format', o.format),
    data: required('--data DIR', o.data),
    init: required('--init CKPT|none', o.init),
    preset: o.preset,
    fewShot: parseNumber('--few-shot', o.fewShot, 'float'),
    linearProbe: o.linearProbe,
    epochs: parseNumber('--epochs', o.epochs, 'int'),
    batch: parseNumber('--batch', o.batch, 'int'),
    blr: parseNumber('--blr', o.blr, 'float'),
    imgSize: parseNumber('--img-size', o.imgSize, 'int'),
    warmupEpochs: parseNumber('--warmup-epochs', o.warmupEpochs, 'float'),
    layerDecay: parseNumber('--layer-decay', o.layerDecay, 'float'),
    dropPath: parseNumber('--drop-path', o.dropPath, 'float'),
    randAugment: o.aa,
    reprob: parseNumber('--reprob', o.reprob, 'float'),
    minCropScale: parseNumber('--min-crop-scale', o.minCropScale, 'float'),
    seed: parseNumber('--seed', o.seed, 'int'),
    split: o.split,
    backend: o.backend,
    threads: o.threads === undefined ? undefined : parseThreads(o.threads),
    out: o.out,
    db: o.db,
  };
  const con = new CliConsole();
  const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(2)} %`);
  let phase = '';
  const human = (e: FinetuneEvent) => {
    if (e.type === 'progress') {
      if (phase !== e.phase) {
        phase = e.phase;
        con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: e.phase });
      }
      con.update(e.done);
    } else if (e.type === 'log') con.line(e.level === 'warn' ? `camd: warning: ${e.message}` : `camd: ${e.message}`);
    else if (e.type === 'start') {
      con.stop();
      con.line(`run ${e.run_id} → ${e.out_dir} on ${e.backend}: ${e.task} (${e.classes} ${e.task === 'far' ? 'attributes' : 'classes'}), ${e.train} train / ${e.val} val / ${e.test} test${e.dropped ? `, ${e.dropped} listed image(s) missing or unreadable` : ''}; init ${e.init}; pos_embed: ${e.pos_embed}${e.linear_probe ? '; linear probe' : ''}`);
      phase = 'train';
      con.bar(e.epochs * e.steps_per_epoch, 0, 'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | ETA {eta_formatted}', { epoch: '-', loss: '-' });
    } else if (e.type === 'step') con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    else if (e.type === 'eval') con.line(`epoch ${e.epoch} ${e.split} ${e.metric}: ${pct(e.value)}`);
    else if (e.type === 'done') {
      const sel = e.selected_epoch === null ? 'no epoch was evaluated' : `epoch ${e.selected_epoch} selected by ${e.selected_by === 'val' ? 'validation' : 'being the last'}; test ${e.metric} there ${pct(e.test_at_selected)}; best test over epochs ${pct(e.best_test)} (epoch ${e.best_test_epoch}, not a selection); ${e.checkpoint}`;
      con.final(e.reason === 'completed' ? `done: ${sel}` : `stopped at step ${e.step}: the model then is ${e.last}; ${sel}`);
    } else if (e.type === 'error') con.final(`camd: ${e.message}`);
  };
  const stop = stopOnSignals('the model as it is (last.safetensors)');
  try {
    const r = await finetune(flags, o.json ? jsonRenderer<FinetuneEvent>() : human, stop.signal);
    if (r.outcome === 'diverged') process.exitCode = EXIT_CODE.diverged;
  } finally {
    con.stop();
    stop.dispose();
  }
}

export interface EvalCliOptions {
  checkpoint?: string;
  task?: string;
  format?: string;
  data?: string;
  split?: string;
  seed?: string;
  backend?: string;
  db?: string;
  json?: boolean;
}

export async function evalCommand(o: EvalCliOptions): Promise<void> {
  const r = await evaluateCheckpoint({ checkpoint: required('--checkpoint', o.checkpoint), task: required('--task far|fer', o.task), format: required('--format', o.format), data: required('--data DIR', o.data), split: o.split, seed: parseNumber('--seed', o.seed, 'int'), backend: o.backend, db: o.db });
  for (const n of r.notes) process.stderr.write(`camd: warning: ${n}\n`);
  if (o.json) {
    process.stdout.write(JSON.stringify({ run_id: r.run_id, results: r.results }) + '\n');
    return;
  }
  for (const [split, m] of Object.entries(r.results)) process.stdout.write(`${split}: ${m.metric} ${(100 * m.value).toFixed(2)} % on ${m.n} images\n`);
}
