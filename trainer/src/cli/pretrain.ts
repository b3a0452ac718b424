/**
 * `camd pretrain`: flag parsing and rendering of the run's events — a progress bar with step,
 * epoch, loss, images/s and ETA for people, or one JSON object per line with --json.
 */
import { MultiBar, Presets } from 'cli-progress';
import { pretrain, type PretrainFlags, type StopSignal } from '../train/pretrain.js';
import type { PretrainEvent } from '../train/events.js';
import { UserError } from '../util/errors.js';
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
function humanRenderer(): { emit: (e: PretrainEvent) => void; stop: () => void } {
  const tty = Boolean(process.stderr.isTTY);
  const multi = new MultiBar({ clearOnComplete: false, hideCursor: true, stream: process.stderr, noTTYOutput: !tty, notTTYSchedule: 10_000, etaBuffer: 50, format: '{phase} [{bar}] {value}/{total} {extra}' }, Presets.shades_classic);
  let bar: ReturnType<MultiBar['create']> | null = null;
  let phase = '';
  let epochs = 0;
  const log = (s: string) => (tty ? multi.log(s + '\n') : process.stderr.write(s + '\n'));
  return {
    emit: (e) => {
      switch (e.type) {
        case 'progress':
          if (phase !== e.phase) {
            bar?.stop();
            phase = e.phase;
            bar = multi.create(e.total, 0, { phase: e.phase === 'scan' ? 'indexing images ' : 'decoding (cache)', extra: '' });
          }
          bar?.update(e.done);
          break;
        case 'start':
          bar?.stop();
          epochs = Math.ceil(e.epochs);
          log(`run ${e.run_id} → ${e.out_dir}`);
          log(`backend ${e.backend} (${e.backend_package})${e.skipped_backends.length ? `; skipped: ${e.skipped_backends.map((s) => s.split(':')[0]).join(', ')} (camd info says why)` : ''}`);
          log(`${e.images} images${e.bad_images ? ` (${e.bad_images} unreadable, see camd scan)` : ''}, preset ${e.preset}/${e.img_size}, batch ${e.batch}, ${e.iters_per_epoch} steps/epoch, ${e.total_steps} steps${e.resumed_from ? `, resuming at step ${e.first_step} from ${e.resumed_from}` : ''}`);
          phase = 'train';
          bar = multi.create(e.total_steps, e.first_step - 1, { phase: 'training', extra: '' }, { format: 'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | {ips} img/s | ETA {eta_formatted}' });
          bar.update(e.first_step - 1, { epoch: `-/${epochs}`, loss: '-', ips: '-' });
          break;
        case 'step':
          bar?.update(e.step, { epoch: `${e.epoch}/${epochs}`, loss: e.loss.toFixed(4), ips: e.images_per_s.toFixed(1) });
          break;
        case 'checkpoint':
          log(`checkpoint at step ${e.step}: ${e.path}`);
          break;
        case 'done':
          bar?.stop();
          log(e.reason === 'completed' ? `done: ${e.step} steps in ${e.seconds.toFixed(0)} s; encoder ${e.encoder}` : `stopped at step ${e.step} (checkpoint ${e.checkpoint}); continue with --resume`);
          break;
        case 'error':
          bar?.stop();
          process.stderr.write(`camd: ${e.message}\n`);
          break;
      }
    },
    stop: () => {
      bar?.stop();
      multi.stop();
    },
  };
}

export async function pretrainCommand(o: PretrainCliOptions): Promise<void> {
  const flags = toFlags(o);
  const signal: StopSignal = { stop: false };
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`camd: second ${name}, exiting without a final checkpoint\n`);
      process.exit(130);
    }
    signal.stop = true;
    process.stderr.write(`camd: ${name}: finishing this step, then a checkpoint (press again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const human = o.json ? null : humanRenderer();
  const emit = (e: PretrainEvent) => {
    if (o.json) process.stdout.write(JSON.stringify(e) + '\n');
    else human!.emit(e);
  };
  try {
    const r = await pretrain(flags, emit, signal);
    process.exitCode = r.exitCode;
  } catch (e) {
    if (o.json && e instanceof UserError) process.stdout.write(JSON.stringify({ type: 'error', message: e.message }) + '\n');
    throw e;
  } finally {
    human?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
