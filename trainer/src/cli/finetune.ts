/** `camd finetune` and `camd eval`: flag parsing and rendering (progress bar, or JSON lines). */
import { join, resolve } from 'node:path';
import { baselineWords, runEval, runFinetune, type RunEvent } from '../api/index.js';
import { CliConsole, jsonRenderer, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { CamdError, EXIT_CODE } from '../util/errors.js';
import { parseNumber, parseThreads } from './parse.js';

export interface FinetuneCliOptions {
  task?: string;
  format?: string;
  data?: string;
  schema?: string;
  labels?: string;
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
  recompute?: string;
  threads?: string;
  out?: string;
  db?: string;
  json?: boolean;
}

function required(flag: string, v: string | undefined): string {
  if (!v) throw new CamdError('usage', `${flag} is required`);
  return v;
}

const defined = (o: Record<string, unknown>) => {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
};

/** Human rendering of fine-tuning and evaluation events. */
function humanRenderer(con: CliConsole): (e: RunEvent) => void {
  const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(2)} %`);
  const worth = (e: Extract<RunEvent, { type: 'eval' }>) => {
    const w = baselineWords(e.value, e, e.metric);
    return w ? ` (${w})` : '';
  };
  let phase = '';
  return (e) => {
    if (e.type === 'progress') {
      if (e.phase === 'checkpoint') return;
      if (phase !== e.phase) {
        phase = e.phase;
        con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL[e.phase] });
      }
      con.update(e.done);
    } else if (e.type === 'log') con.line(e.level === 'warn' ? `camd: warning: ${e.message}` : `camd: ${e.message}`);
    else if (e.type === 'start' && e.kind === 'finetune') {
      con.stop();
      con.line(
        `run ${e.run_id} → ${e.out_dir} on ${e.backend}: ${e.task} (${e.classes} ${e.task === 'far' ? 'attributes' : 'classes'}), ${e.train} train / ${e.val} val / ${e.test} test${e.dropped ? `, ${e.dropped} listed image(s) missing or unreadable` : ''}; init ${e.init}; pos_embed: ${e.pos_embed}${e.linear_probe ? '; linear probe' : ''}`,
      );
      phase = 'train';
      con.bar(
        e.epochs * e.steps_per_epoch,
        0,
        'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | ETA {eta_formatted}',
        { epoch: '-', loss: '-' },
      );
    } else if (e.type === 'start' && e.kind === 'eval') {
      con.stop();
      con.line(`eval run ${e.run_id} on ${e.backend}: ${e.checkpoint} on ${e.val} val / ${e.test} test images`);
    } else if (e.type === 'step' && e.kind === 'finetune') {
      if (phase !== 'train') return;
      con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'eval') {
      if (e.epoch === null) {
        phase = '';
        con.stop();
        process.stdout.write(`${e.split}: ${e.metric} ${pct(e.value)} on ${e.n} images${worth(e)}\n`);
      } else con.line(`epoch ${e.epoch} ${e.split} ${e.metric}: ${pct(e.value)}${worth(e)}`);
    } else if (e.type === 'done' && e.kind === 'finetune') {
      const sel =
        e.selected_epoch === null
          ? 'no epoch was evaluated'
          : `epoch ${e.selected_epoch} selected by ${e.selected_by === 'val' ? 'validation' : 'being the last'}; test ${e.metric} there ${pct(e.test_at_selected)}; best test over epochs ${pct(e.best_test)} (epoch ${e.best_test_epoch}, not a selection); ${e.checkpoint}`;
      con.final(
        e.reason === 'completed' ? `done: ${sel}` : `stopped at step ${e.step}: the model then is ${e.last}; ${sel}`,
      );
    } else if (e.type === 'done' && e.kind === 'eval' && e.reason === 'interrupted')
      con.final('stopped before every split was evaluated');
    else if (e.type === 'error') con.final(`camd: ${e.message}`);
  };
}

export async function finetuneCommand(o: FinetuneCliOptions): Promise<void> {
  const init = required('--init CKPT|none', o.init);
  const spec = defined({
    task: required('--task far|fer', o.task),
    format: required('--format', o.format),
    data: resolve(required('--data DIR', o.data)),
    schema: o.schema,
    labels: o.labels,
    init: init === 'none' ? 'none' : resolve(init),
    out: resolve(o.out ?? join('runs', `finetune-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
    db: o.db === undefined ? undefined : resolve(o.db),
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
    recompute: o.recompute,
  });
  const con = new CliConsole();
  const stop = stopOnSignals('the model as it is (last.safetensors)');
  try {
    const r = await runFinetune(spec, o.json ? jsonRenderer() : humanRenderer(con), stop.signal);
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
  schema?: string;
  labels?: string;
  split?: string;
  seed?: string;
  backend?: string;
  db?: string;
  json?: boolean;
}

export async function evalCommand(o: EvalCliOptions): Promise<void> {
  const spec = defined({
    checkpoint: resolve(required('--checkpoint', o.checkpoint)),
    task: required('--task far|fer', o.task),
    format: required('--format', o.format),
    data: resolve(required('--data DIR', o.data)),
    schema: o.schema,
    labels: o.labels,
    split: o.split,
    seed: parseNumber('--seed', o.seed, 'int'),
    backend: o.backend,
    db: o.db === undefined ? undefined : resolve(o.db),
  });
  const con = new CliConsole();
  const stop = stopOnSignals('the results so far');
  try {
    await runEval(spec, o.json ? jsonRenderer() : humanRenderer(con), stop.signal);
  } finally {
    con.stop();
    stop.dispose();
  }
}
