/**
 * `camd pretrain`: flag parsing and rendering of the run's events — a progress bar with step,
 * epoch, loss, images/s and ETA for people, or one JSON object per line with --json.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunEvent } from '../api/index.js';
import { parseSpec, PretrainSpec } from '../protocol/specs.js';
import { SAMPLE_WORD } from '../faces/sample.js';
import { EXIT_CODE, UserError } from '../util/errors.js';
import { CliConsole, jsonRenderer, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { toSpec, type PretrainCliOptions } from './pretrain-flags.js';

export { toSpec, type PretrainCliOptions } from './pretrain-flags.js';

/** Human rendering: a progress bar for scan/cache and for training, plain lines for the rest. */
function humanRenderer(con: CliConsole): (e: RunEvent) => void {
  let phase = '';
  let epochs = 0;
  return (e) => {
    switch (e.type) {
      case 'progress':
        if (phase !== e.phase) {
          phase = e.phase;
          con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL[e.phase] });
        }
        con.update(e.done);
        break;
      case 'log':
        con.line(e.level === 'warn' ? `camd: warning: ${e.message}` : `camd: ${e.message}`);
        break;
      case 'start':
        if (e.kind !== 'pretrain') break;
        con.stop();
        epochs = Math.ceil(e.epochs);
        con.line(`run ${e.run_id} → ${e.out_dir}`);
        con.line(
          `backend ${e.backend} (${e.backend_package})${e.skipped_backends.length ? `; skipped: ${e.skipped_backends.map((s) => s.split(':')[0]).join(', ')} (camd info says why)` : ''}`,
        );
        con.line(
          `${e.images} images${e.bad_images ? ` (${e.bad_images} unreadable, see camd scan)` : ''}, preset ${e.preset}/${e.img_size}, batch ${e.batch}, ${e.iters_per_epoch} steps/epoch, ${e.total_steps} steps${e.resumed_from ? `, resuming at step ${e.first_step} from ${e.resumed_from}` : ''}`,
        );
        phase = 'train';
        con.bar(
          e.total_steps,
          e.first_step - 1,
          'step {value}/{total} [{bar}] epoch {epoch} | loss {loss} | {ips} img/s | ETA {eta_formatted}',
          { epoch: `-/${epochs}`, loss: '-', ips: '-' },
        );
        break;
      case 'step':
        if (e.kind !== 'pretrain') break;
        con.update(e.step, { epoch: `${e.epoch}/${epochs}`, loss: e.loss.toFixed(4), ips: e.images_per_s.toFixed(1) });
        break;
      case 'checkpoint':
        con.line(`checkpoint at step ${e.step}: ${e.path}`);
        break;
      case 'done':
        if (e.kind !== 'pretrain') break;
        con.final(
          e.reason === 'completed'
            ? `done: ${e.step} steps in ${e.seconds.toFixed(0)} s; encoder ${e.encoder}`
            : `stopped at step ${e.step} (checkpoint ${e.checkpoint}); continue with --resume`,
        );
        break;
      case 'error':
        con.final(`camd: ${e.message}`);
        break;
    }
  };
}

export async function pretrainCommand(o: PretrainCliOptions): Promise<void> {
  const stop = stopOnSignals('a checkpoint');
  const con = new CliConsole();
  const emit = o.json ? jsonRenderer() : humanRenderer(con);
  try {
    // the flags checked before the trainer loads (the API brings sharp, the store and their kin) and
    // before any sample faces are found: a refused flag is one line in about 0.4 s, not 1.2 s (nor
    // after 45 s of face finding with --data sample); runPretrain checks the spec it is given again
    parseSpec(PretrainSpec, toSpec(o));
    // `--data sample` (when no folder of that name is here): the sample faces that come with the installed packages
    if (o.data === SAMPLE_WORD && !existsSync(resolve(SAMPLE_WORD)) && !o.resume)
      o = { ...o, data: await sampleData(o, con, emit, stop.signal) };
    const { runPretrain } = await import('../api/index.js');
    const r = await runPretrain(toSpec(o), emit, stop.signal);
    if (r.outcome === 'diverged') process.exitCode = EXIT_CODE.diverged;
  } finally {
    con.stop(); // before any error line
    stop.dispose();
  }
}

/** Finds the sample faces (once: later runs reuse the crops) and says where they came from. */
async function sampleData(
  o: PretrainCliOptions,
  con: CliConsole,
  emit: (e: RunEvent) => void,
  signal: AbortSignal,
): Promise<string> {
  let phase = '';
  const { sampleFaces } = await import('../api/index.js');
  const r = await sampleFaces(
    o.db ? { db: resolve(o.db) } : {},
    (e) => {
      if (e.type !== 'progress') return;
      if (o.json) return emit(e);
      if (!con.tty) return;
      if (e.phase !== phase) {
        con.stop();
        con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: `sample faces: ${PHASE_LABEL[e.phase]}` });
        phase = e.phase;
      }
      con.update(e.done);
    },
    signal,
  );
  con.stop();
  if (r.derived.images === 0) throw new UserError(`no sample face was found in ${r.source.root}`);
  emit({
    type: 'log',
    level: 'info',
    message: `--data sample: ${r.derived.images} face crops from ${r.photos_from}, in ${r.derived.root}`,
  });
  return r.derived.root;
}
