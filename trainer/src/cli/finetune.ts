/** `camd finetune` and `camd eval`: flag parsing and rendering (progress bar, or JSON lines). */
import { MultiBar, Presets } from 'cli-progress';
import { finetune, type FinetuneEvent, type FinetuneFlags } from '../finetune/run.js';
import { evaluateCheckpoint } from '../finetune/evaluate.js';
import { UserError } from '../util/errors.js';
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
  const tty = Boolean(process.stderr.isTTY);
  const multi = o.json ? null : new MultiBar({ hideCursor: true, stream: process.stderr, noTTYOutput: !tty, notTTYSchedule: 10_000, format: '{phase} [{bar}] {value}/{total} {extra}' }, Presets.shades_classic);
  let bar: ReturnType<MultiBar['create']> | null = null;
  let phase = '';
  const log = (s: string) => (tty && multi ? multi.log(s + '\n') : process.stderr.write(s + '\n'));
  const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
  const emit = (e: FinetuneEvent) => {
    if (o.json) {
      process.stdout.write(JSON.stringify(e) + '\n');
      return;
    }
    if (e.type === 'progress') {
      if (phase !== e.phase) {
        bar?.stop();
        phase = e.phase;
        bar = multi!.create(e.total, 0, { phase: e.phase, extra: '' });
      }
      bar?.update(e.done);
    } else if (e.type === 'start') {
      bar?.stop();
      log(`run ${e.run_id} → ${e.out_dir} on ${e.backend}: ${e.task} (${e.classes} ${e.task === 'far' ? 'attributes' : 'classes'}), ${e.train} train / ${e.val} val / ${e.test} test${e.dropped ? `, ${e.dropped} listed image(s) missing or unreadable` : ''}; init ${e.init}; pos_embed: ${e.pos_embed}${e.linear_probe ? '; linear probe' : ''}`);
      phase = 'train';
      bar = multi!.create(e.epochs * e.steps_per_epoch, 0, { phase: 'training', extra: '' }, { format: 'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | ETA {eta_formatted}' });
    } else if (e.type === 'step') bar?.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    else if (e.type === 'eval') log(`epoch ${e.epoch} ${e.split} ${e.metric}: ${pct(e.value)}`);
    else if (e.type === 'done') {
      bar?.stop();
      log(`done: epoch ${e.selected_epoch} selected by ${e.selected_by === 'val' ? 'validation' : 'being the last'}; test ${e.metric} there ${pct(e.test_at_selected)}; best test over epochs ${pct(e.best_test)} (epoch ${e.best_test_epoch}, not a selection); ${e.checkpoint}`);
    } else if (e.type === 'error') {
      bar?.stop();
      process.stderr.write(`camd: ${e.message}\n`);
    }
  };
  try {
    const r = await finetune(flags, emit);
    process.exitCode = r.exitCode;
  } catch (e) {
    if (o.json && e instanceof UserError) process.stdout.write(JSON.stringify({ type: 'error', message: e.message }) + '\n');
    throw e;
  } finally {
    (bar as ReturnType<MultiBar["create"]> | null)?.stop();
    multi?.stop();
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
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  for (const [split, m] of Object.entries(r.results)) process.stdout.write(`${split}: ${m.metric} ${(100 * m.value).toFixed(2)} % on ${m.n} images\n`);
}
