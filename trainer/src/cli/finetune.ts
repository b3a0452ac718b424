/** `camd finetune` and `camd eval`: rendering of their events (progress bar, or JSON lines); their flags are read in finetune-flags.ts. */
import { baselineWords, runEval, runFinetune, type RunEvent } from '../api/index.js';
import { CliConsole, jsonRenderer, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { geometryTaskOf } from '../protocol/geometry-specs.js';
import { EXIT_CODE } from '../util/errors.js';
import { toEvalSpec, toFinetuneSpec, type EvalCliOptions, type FinetuneCliOptions } from './finetune-flags.js';

export type { EvalCliOptions, FinetuneCliOptions } from './finetune-flags.js';

/** Human rendering of fine-tuning and evaluation events. */
function humanRenderer(con: CliConsole): (e: RunEvent) => void {
  const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(2)} %`);
  /** A value of the metric: degrees for head pose's error, a percentage otherwise. */
  const val = (metric: string, v: number | null) => (metric === 'mae' && v !== null ? `${v.toFixed(2)}°` : pct(v));
  const worth = (e: Extract<RunEvent, { type: 'eval' }>) => {
    if (e.metric === 'mae' || e.metric === 'mean_f1')
      return Object.keys(e.values ?? {}).length
        ? ` (${Object.entries(e.values ?? {})
            .map(([k, v]) => `${k} ${val(e.metric, v)}`)
            .join(', ')})`
        : '';
    if (e.metric === 'nme')
      return `, failure rate@10 % ${pct(e.values?.['failure_rate10'] ?? null)}, AUC@10 % ${e.values?.['auc10']?.toFixed(4) ?? '-'}`;
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
        `run ${e.run_id} → ${e.out_dir} on ${e.backend}: ${e.task} (${e.task === 'pose' ? `rotation, ${e.format}` : `${e.classes} ${e.task === 'far' ? 'attributes' : e.task === 'landmarks' ? `points, ${e.format}` : 'classes'}`}), ${e.train} train / ${e.val} val / ${e.test} test${e.dropped ? `, ${e.dropped} ${e.task === 'landmarks' || e.task === 'pose' ? 'sample(s) left out (no annotation or image, no face found, beyond ±99°)' : 'listed image(s) missing or unreadable'}` : ''}; init ${e.init}; pos_embed: ${e.pos_embed}${e.linear_probe ? '; linear probe' : ''}`,
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
      con.line(
        e.split !== undefined
          ? `eval run ${e.run_id} on ${e.backend}: ${e.checkpoint} (${e.task}) on ${e.split}`
          : `eval run ${e.run_id} on ${e.backend}: ${e.checkpoint} on ${e.val} val / ${e.test} test images`,
      );
    } else if (e.type === 'step' && e.kind === 'finetune') {
      if (phase !== 'train') return;
      con.update(e.step, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'eval') {
      if (e.epoch === null) {
        phase = '';
        con.stop();
        process.stdout.write(`${e.split}: ${e.metric} ${val(e.metric, e.value)} on ${e.n} images${worth(e)}\n`);
      } else con.line(`epoch ${e.epoch} ${e.split} ${e.metric}: ${val(e.metric, e.value)}${worth(e)}`);
    } else if (e.type === 'done' && e.kind === 'finetune') {
      const sel =
        e.selected_epoch === null
          ? 'no epoch was evaluated'
          : `epoch ${e.selected_epoch} selected by ${e.selected_by === 'val' ? 'validation' : 'being the last'}; test ${e.metric} there ${val(e.metric, e.test_at_selected)}; best test over epochs ${val(e.metric, e.best_test)} (epoch ${e.best_test_epoch}, not a selection)${e.checkpoint ? `; ${e.checkpoint}` : ''}`;
      con.final(
        e.reason === 'completed'
          ? `done: ${sel}`
          : `stopped at step ${e.step}: the model then is ${e.last ?? e.checkpoint}; ${sel}`,
      );
    } else if (e.type === 'done' && e.kind === 'eval' && e.reason === 'interrupted')
      con.final('stopped before every split was evaluated');
    else if (e.type === 'error') con.final(`camd: ${e.message}`);
  };
}

export async function finetuneCommand(o: FinetuneCliOptions): Promise<void> {
  // the geometry tasks read their own dataset formats (cli/geometry-flags.ts), and are recorded and shown as any fine-tuning run
  const geometry = geometryTaskOf(o);
  const spec = geometry ? (await import('./geometry-flags.js')).toGeometrySpec(geometry, o) : toFinetuneSpec(o);
  const con = new CliConsole();
  const stop = stopOnSignals(geometry ? 'the model as it is' : 'the model as it is (last.safetensors)');
  try {
    const r = await runFinetune(spec, o.json ? jsonRenderer() : humanRenderer(con), stop.signal);
    if (r.outcome === 'diverged') process.exitCode = EXIT_CODE.diverged;
  } finally {
    con.stop();
    stop.dispose();
  }
}

export async function evalCommand(o: EvalCliOptions): Promise<void> {
  // a face-geometry model (landmarks, pose, parsing) names its task in its file; a classifier is read as before
  const geometry = o.checkpoint ? (await import('../tasks/task-eval.js')).geometryTaskOfFile(o.checkpoint) : null;
  const spec = geometry ? (await import('./geometry-flags.js')).toGeometryEvalSpec(geometry, o) : toEvalSpec(o);
  const con = new CliConsole();
  const stop = stopOnSignals('the results so far');
  try {
    await runEval(spec, o.json ? jsonRenderer() : humanRenderer(con), stop.signal);
  } finally {
    con.stop();
    stop.dispose();
  }
}
