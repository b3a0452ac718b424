/**
 * `camd finetune --task pose`: the flags read as for the other tasks (finetune-flags.ts), the run in
 * pose/pose-run.ts, its events as a progress bar and lines (or JSON lines).
 */
import { join, resolve } from 'node:path';
import { POSE_FORMATS, type PoseFormat } from '../pose/pose-formats.js';
import { type PoseRunEvent, runPose } from '../pose/pose-run.js';
import { POSE_DEFAULTS } from '../protocol/defaults.js';
import { FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';
import { readFlags } from './field-flags.js';
import type { FinetuneCliOptions } from './finetune-flags.js';
import { stopOnSignals } from './signals.js';

/** Flags of the classification tasks that head pose does not read: refused rather than ignored. */
const NOT_FOR_POSE = [
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

const deg = (v: number) => `${v.toFixed(2)}°`;

function render(con: CliConsole, json: boolean): (e: PoseRunEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    if (e.type === 'detect') {
      if (e.done === 1) con.bar(e.total, 0, 'finding the faces of the frames [{bar}] {value}/{total}');
      con.update(e.done);
    } else if (e.type === 'prepare') {
      if (e.done === 1) con.bar(e.total, 0, 'cutting out faces [{bar}] {value}/{total}');
      con.update(e.done);
    } else if (e.type === 'start') {
      con.stop();
      const out = [
        e.skipped ? `${e.skipped} not read` : '',
        e.beyond99 ? `${e.beyond99} beyond ±99° left out` : '',
        e.noFace ? `${e.noFace} without a face found` : '',
      ].filter(Boolean);
      con.line(
        `head pose (${e.format}) on ${e.backend}: ${e.train} train / ${e.test} test${out.length ? ` (${out.join(', ')})` : ''}; init ${e.init} → ${e.out}`,
      );
      con.line(
        `every face predicted frontal would score MAE ${deg(e.frontal.mae)}, geodesic ${deg(e.frontal.geodesic)}`,
      );
    } else if (e.type === 'step') {
      if (e.step === 1)
        con.bar(e.steps, 0, 'epoch {epoch} [{bar}] {value}/{total} | loss {loss}', { epoch: e.epoch, loss: '-' });
      con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'eval') {
      const s = e.summary;
      con.line(
        `epoch ${e.epoch} test: MAE ${deg(s.mae)} (yaw ${deg(s.yaw)}, pitch ${deg(s.pitch)}, roll ${deg(s.roll)}), geodesic ${deg(s.geodesic)}`,
      );
    } else if (e.type === 'done') {
      con.final(
        e.summary
          ? `done: test MAE ${deg(e.summary.mae)} on ${e.summary.count} faces; ${e.file}`
          : 'stopped before the first epoch was evaluated: nothing written',
      );
    }
  };
}

export async function poseCommand(o: FinetuneCliOptions): Promise<void> {
  const s = readFlags(FINETUNE_FIELDS, o) as Record<string, unknown>;
  const format = s['format'] as string | undefined;
  if (!format || !POSE_FORMATS.includes(format as PoseFormat))
    throw new UserError(
      `--task pose reads --format ${POSE_FORMATS.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data'])
    throw new UserError(
      '--task pose needs --data (the 300W-LP or AFLW2000 folder of images and .mat files, or the BIWI hpdb folder)',
      2,
      'usage',
    );
  if (!s['init'])
    throw new UserError('--task pose needs --init (a camd pretrain checkpoint or encoder, or none)', 2, 'usage');
  const unused = NOT_FOR_POSE.filter((k) => s[k] !== undefined);
  if (unused.length)
    throw new UserError(
      `--task pose does not use ${unused.map((k) => FINETUNE_FIELDS[k].flag!.split(' ')[0]).join(', ')} (yet): leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const D = POSE_DEFAULTS;
  const con = new CliConsole();
  const stop = stopOnSignals('the model as it is');
  try {
    await runPose(
      {
        format: format as PoseFormat,
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
          resolve(join('runs', `pose-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
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
