/**
 * `camd finetune --task parsing`: the flags read as for the other tasks (finetune-flags.ts), the
 * run in parsing/parsing-run.ts, its events as a progress bar and lines (or JSON lines).
 */
import { join, resolve } from 'node:path';
import { PARSING_FORMATS, type ParsingFormat } from '../parsing/parsing-formats.js';
import { type ParsingRunEvent, runParsing } from '../parsing/parsing-run.js';
import { PARSING_DEFAULTS } from '../protocol/defaults.js';
import { FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';
import { readFlags } from './field-flags.js';
import type { FinetuneCliOptions } from './finetune-flags.js';
import { stopOnSignals } from './signals.js';

/** Flags of the classification tasks that face parsing does not read: refused rather than ignored. */
const NOT_FOR_PARSING = [
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

function render(con: CliConsole, json: boolean): (e: ParsingRunEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify(e)}\n`);
  return (e) => {
    if (e.type === 'prepare') {
      if (e.done === 1) con.bar(e.total, 0, 'reading faces and label maps [{bar}] {value}/{total}');
      con.update(e.done);
    } else if (e.type === 'start') {
      con.stop();
      con.line(
        `parsing (${e.scheme}, ${e.classes} classes) on ${e.backend}: ${e.train} train / ${e.test} test (${e.split})${e.skipped ? `, ${e.skipped} sample(s) not read` : ''}; init ${e.init} → ${e.out}`,
      );
    } else if (e.type === 'step') {
      if (e.step === 1)
        con.bar(e.steps, 0, 'epoch {epoch} [{bar}] {value}/{total} | loss {loss}', { epoch: e.epoch, loss: '-' });
      con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'eval') {
      con.line(
        `epoch ${e.epoch} test: mean F1 ${pct(e.summary.meanF1)} (background excluded), pixel accuracy ${pct(e.summary.pixelAccuracy)}`,
      );
    } else if (e.type === 'done') {
      con.final(
        e.summary
          ? `done: test mean F1 ${pct(e.summary.meanF1)} on ${e.summary.count} faces; ${e.file}`
          : 'stopped before the first epoch was evaluated: nothing written',
      );
    }
  };
}

export async function parsingCommand(o: FinetuneCliOptions): Promise<void> {
  const s = readFlags(FINETUNE_FIELDS, o) as Record<string, unknown>;
  const format = s['format'] as string | undefined;
  if (!format || !PARSING_FORMATS.includes(format as ParsingFormat))
    throw new UserError(
      `--task parsing reads --format ${PARSING_FORMATS.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data']) throw new UserError('--task parsing needs --data (the LaPa or the CelebAMask-HQ folder)', 2, 'usage');
  if (!s['init'])
    throw new UserError('--task parsing needs --init (a camd pretrain checkpoint or encoder, or none)', 2, 'usage');
  const unused = NOT_FOR_PARSING.filter((k) => s[k] !== undefined);
  if (unused.length)
    throw new UserError(
      `--task parsing does not use ${unused.map((k) => FINETUNE_FIELDS[k].flag!.split(' ')[0]).join(', ')} (yet): leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const D = PARSING_DEFAULTS;
  const con = new CliConsole();
  const stop = stopOnSignals('the model as it is');
  try {
    await runParsing(
      {
        format: format as ParsingFormat,
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
        width: D.width,
        dice: D.dice,
        seed: (s['seed'] as number | undefined) ?? 0,
        out:
          (s['out'] as string | undefined) ??
          resolve(join('runs', `parsing-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
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
