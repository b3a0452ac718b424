/**
 * `camd pretrain`: flag parsing and rendering of the run's events — a progress bar with step,
 * epoch, loss, images/s and ETA for people, or one JSON object per line with --json.
 */
import { pretrain, type PretrainFlags } from '../train/pretrain.js';
import type { PretrainEvent } from '../train/events.js';
import { EXIT_CODE } from '../util/errors.js';
import { CliConsole, jsonRenderer } from './console.js';
import { stopOnSignals } from './signals.js';
import { parseThreads } from './selftest.js';
import { parseNumber } from './parse.js';

export interface PretrainCliOptions {
  data?: string;
  preset?: string;
  imgSize?: string;
  maskRatio?: string;
  batch?: string;
  epochs?: string;
  steps?: string;
  blr?: string;
  warmupEpochs?: string;
  seed?: string;
  backend?: string;
  threads?: string;
  out?: string;
  db?: string;
  resume?: string;
  checkpointEvery?: string;
  keepCheckpoints?: string;
  maxPixels?: string;
  stopAt?: string;
  json?: boolean;
}

export function toFlags(o: PretrainCliOptions): PretrainFlags {
  const f: PretrainFlags = {
    data: o.data,
    preset: o.preset,
    imgSize: parseNumber('--img-size', o.imgSize, 'int'),
    maskRatio: parseNumber('--mask-ratio', o.maskRatio, 'float'),
    batch: parseNumber('--batch', o.batch, 'int'),
    epochs: parseNumber('--epochs', o.epochs, 'float'),
    steps: parseNumber('--steps', o.steps, 'int'),
    blr: parseNumber('--blr', o.blr, 'float'),
    warmupEpochs: parseNumber('--warmup-epochs', o.warmupEpochs, 'float'),
    seed: parseNumber('--seed', o.seed, 'int'),
    maxPixels: parseNumber('--max-pixels', o.maxPixels, 'int'),
    backend: o.backend,
    threads: o.threads === undefined ? undefined : parseThreads(o.threads),
    out: o.out,
    db: o.db,
    resume: o.resume,
    checkpointEvery: parseNumber('--checkpoint-every', o.checkpointEvery, 'int'),
    keepCheckpoints: parseNumber('--keep-checkpoints', o.keepCheckpoints, 'int'),
    stopAt: parseNumber('--stop-at', o.stopAt, 'int'),
  };
  for (const k of Object.keys(f) as (keyof PretrainFlags)[]) if (f[k] === undefined) delete f[k];
  return f;
}

/** Human rendering: a progress bar for scan/cache and for training, plain lines for the rest. */
function humanRenderer(con: CliConsole): (e: PretrainEvent) => void {
  let phase = '';
  let epochs = 0;
  return (e) => {
    switch (e.type) {
      case 'progress':
        if (phase !== e.phase) {
          phase = e.phase;
          con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: e.phase === 'scan' ? 'indexing images ' : 'decoding (cache)' });
        }
        con.update(e.done);
        break;
      case 'log':
        con.line(e.level === 'warn' ? `camd: warning: ${e.message}` : `camd: ${e.message}`);
        break;
      case 'start':
        con.stop();
        epochs = Math.ceil(e.epochs);
        con.line(`run ${e.run_id} → ${e.out_dir}`);
        con.line(`backend ${e.backend} (${e.backend_package})${e.skipped_backends.length ? `; skipped: ${e.skipped_backends.map((s) => s.split(':')[0]).join(', ')} (camd info says why)` : ''}`);
        con.line(`${e.images} images${e.bad_images ? ` (${e.bad_images} unreadable, see camd scan)` : ''}, preset ${e.preset}/${e.img_size}, batch ${e.batch}, ${e.iters_per_epoch} steps/epoch, ${e.total_steps} steps${e.resumed_from ? `, resuming at step ${e.first_step} from ${e.resumed_from}` : ''}`);
        phase = 'train';
        con.bar(e.total_steps, e.first_step - 1, 'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | {ips} img/s | ETA {eta_formatted}', { epoch: `-/${epochs}`, loss: '-', ips: '-' });
        break;
      case 'step':
        con.update(e.step, { epoch: `${e.epoch}/${epochs}`, loss: e.loss.toFixed(4), ips: e.images_per_s.toFixed(1) });
        break;
      case 'checkpoint':
        con.line(`checkpoint at step ${e.step}: ${e.path}`);
        break;
      case 'done':
        con.final(e.reason === 'completed' ? `done: ${e.step} steps in ${e.seconds.toFixed(0)} s; encoder ${e.encoder}` : `stopped at step ${e.step} (checkpoint ${e.checkpoint}); continue with --resume`);
        break;
      case 'error':
        con.final(`camd: ${e.message}`);
        break;
    }
  };
}

export async function pretrainCommand(o: PretrainCliOptions): Promise<void> {
  const flags = toFlags(o);
  const stop = stopOnSignals('a checkpoint');
  const con = new CliConsole();
  const emit = o.json ? jsonRenderer<PretrainEvent>() : humanRenderer(con);
  try {
    const r = await pretrain(flags, emit, stop.signal);
    if (r.outcome === 'diverged') process.exitCode = EXIT_CODE.diverged;
  } finally {
    con.stop(); // before any error line
    stop.dispose();
  }
}
