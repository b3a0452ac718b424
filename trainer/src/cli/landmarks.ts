/**
 * `camd finetune --task landmarks`: the flags read as for the other tasks (finetune-flags.ts), the
 * run in geometry/landmark-run.ts, its events as a progress bar and lines (or JSON lines).
 */
import { resolve, join } from 'node:path';
import { LANDMARK_FORMATS, type LandmarkFormat } from '../geometry/landmark-formats.js';
import { type LandmarkRunEvent, runLandmarks } from '../landmarks/landmark-run.js';
import { LANDMARK_DEFAULTS } from '../protocol/defaults.js';
import { FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';
import { readFlags } from './field-flags.js';
import type { FinetuneCliOptions } from './finetune-flags.js';
import { stopOnSignals } from './signals.js';

/** Flags of the classification tasks that face alignment does not read: refused rather than ignored. */
const NOT_FOR_LANDMARKS = [
  'schema',
  'labels',
  'fewShot',
  'linearProbe',
  'layerDecay',
  'randAugment',
  'reprob',
  'minCropScale',
  'split',
  'threads',
  'recompute',
  'db',
] as const satisfies readonly (keyof typeof FINETUNE_FIELDS)[];

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;

function render(con: CliConsole, json: boolean): (e: LandmarkRunEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    if (e.type === 'prepare') {
      if (e.done === 1) con.bar(e.total, 0, 'cutting out faces [{bar}] {value}/{total}');
      con.update(e.done);
    } else if (e.type === 'start') {
      con.stop();
      con.line(
        `landmarks (${e.scheme}, ${e.points} points) on ${e.backend}: ${e.train} train / ${e.test} test${e.skipped ? `, ${e.skipped} sample(s) not read` : ''}; init ${e.init} → ${e.out}`,
      );
    } else if (e.type === 'step') {
      if (e.step === 1)
        con.bar(e.steps, 0, 'epoch {epoch} [{bar}] {value}/{total} | loss {loss}', { epoch: e.epoch, loss: '-' });
      con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'eval') {
      con.line(
        `epoch ${e.epoch} test: NME ${pct(e.summary.nme)}, failure rate@10 % ${pct(e.summary.failureRate10)}, AUC@10 % ${e.summary.auc10.toFixed(4)}`,
      );
    } else if (e.type === 'done') {
      con.final(
        e.summary
          ? `done: test NME ${pct(e.summary.nme)} on ${e.summary.count} faces; ${e.file}`
          : 'stopped before the first epoch was evaluated: nothing written',
      );
    }
  };
}

export async function landmarksCommand(o: FinetuneCliOptions): Promise<void> {
  const s = readFlags(FINETUNE_FIELDS, o) as Record<string, unknown>;
  const format = s['format'] as string | undefined;
  if (!format || !LANDMARK_FORMATS.includes(format as LandmarkFormat))
    throw new UserError(
      `--task landmarks reads --format ${LANDMARK_FORMATS.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data'])
    throw new UserError(
      '--task landmarks needs --data (the 300W folder, the WFLW list file or the AFLW-19 CSV)',
      2,
      'usage',
    );
  if (!s['init'])
    throw new UserError('--task landmarks needs --init (a camd pretrain checkpoint or encoder, or none)', 2, 'usage');
  const unused = NOT_FOR_LANDMARKS.filter((k) => s[k] !== undefined);
  if (unused.length)
    throw new UserError(
      `--task landmarks does not use ${unused.map((k) => FINETUNE_FIELDS[k].flag!.split(' ')[0]).join(', ')} (yet): leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const D = LANDMARK_DEFAULTS;
  const con = new CliConsole();
  const stop = stopOnSignals('the model as it is');
  try {
    await runLandmarks(
      {
        format: format as LandmarkFormat,
        data: s['data'] as string,
        init: s['init'] as string,
        preset: (s['preset'] as never) ?? undefined,
        imgSize: (s['imgSize'] as number | undefined) ?? undefined,
        epochs: (s['epochs'] as number | undefined) ?? D.epochs,
        batch: (s['batch'] as number | undefined) ?? D.batch,
        blr: (s['blr'] as number | undefined) ?? D.blr,
        warmupEpochs: (s['warmupEpochs'] as number | undefined) ?? D.warmupEpochs,
        dropPath: (s['dropPath'] as number | undefined) ?? D.dropPath,
        weightDecay: D.weightDecay,
        seed: (s['seed'] as number | undefined) ?? 0,
        out:
          (s['out'] as string | undefined) ??
          resolve(join('runs', `landmarks-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
        backend: s['backend'] as string | undefined,
      },
      render(con, Boolean(o.json)),
      stop.signal,
    );
  } finally {
    con.stop();
    stop.dispose();
  }
}
