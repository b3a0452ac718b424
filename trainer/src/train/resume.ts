/**
 * Where a run's weights come from when it does not start from random ones: the newest sound
 * checkpoint of its folder (damaged ones moved aside), or a starting point's weights (--init) and,
 * to continue, its AdamW moments and place in the schedule (--continue).
 */
import { z } from 'zod';
import { readTensorFile, CheckpointError, CHECKPOINT_FORMAT } from '../store/checkpoint.js';
import type { Store } from '../store/store.js';
import type { CamdTrainer } from './step.js';
import type { RunFolder } from './run-folder.js';
import { tensorsFor, type StartingPoint, type StartMode } from './start-from.js';
import type { Log, RunStart } from './run-settings.js';
import { UserError } from '../util/errors.js';

const CheckpointState = z.object({ step: z.number().int(), optimizer_step: z.number().int(), run_id: z.string() });

const reasonOf = (e: Error) => e.message.replace(/^.*? is not a usable CAMD checkpoint: /, '');

/**
 * Loads the newest checkpoint of `candidates` (newest first) that is sound and belongs to the run;
 * a damaged one is moved aside and its store row removed. Returns the file loaded (null: none).
 */
export function resumeFromCheckpoints(
  trainer: CamdTrainer,
  candidates: string[],
  run: { folder: RunFolder; store: Store; runId: string; log: Log },
): { resumedFrom: string | null; damaged: number } {
  const { folder, store, runId, log } = run;
  let damaged = 0;
  for (const file of candidates) {
    try {
      const ck = readTensorFile(file, CHECKPOINT_FORMAT);
      const st = CheckpointState.safeParse(ck.state);
      if (!st.success) throw new CheckpointError(`${file}: its state has no step or run id`, false);
      if (st.data.run_id !== runId)
        throw new CheckpointError(`${file} belongs to run ${st.data.run_id}, not ${runId}`, false);
      trainer.importTensors(ck.tensors, st.data.step, st.data.optimizer_step, file);
      return { resumedFrom: file, damaged };
    } catch (e) {
      if (e instanceof CheckpointError && e.damaged) {
        const to = folder.quarantine(file);
        store.removeCheckpoints(runId, [file]);
        damaged++;
        log(
          'warn',
          `skipping checkpoint ${file}: ${reasonOf(e)}; moved aside as ${to} (removed at the next checkpoint)`,
        );
        continue;
      }
      throw new UserError(`cannot resume from ${file}: ${reasonOf(e as Error)}`);
    }
  }
  return { resumedFrom: null, damaged };
}

/**
 * A starting point's weights into the trainer: --init at step 0 with a fresh optimiser; --continue
 * at the step its epochs reach, with its AdamW moments when the file has them. Returns what run.json
 * records of it.
 */
export function startFromFile(
  trainer: CamdTrainer,
  start: StartingPoint,
  startMode: StartMode,
  schedule: { ipe: number; totalSteps: number; epochs: number },
  log: Log,
): RunStart {
  const { ipe, totalSteps, epochs } = schedule;
  const flag = startMode === 'continue' ? '--continue' : '--init';
  const step0 = startMode === 'continue' ? start.epochsDone * ipe : 0;
  if (step0 >= totalSteps)
    throw new UserError(
      `${flag} ${start.file}: its run completed ${start.epochsDone} epoch(s), and this run is ${+epochs.toFixed(2)} epoch(s) long: nothing is left to train (give --epochs more than ${start.epochsDone}, or --init to start a schedule of its own from these weights)`,
      2,
      'epochs',
    );
  const withMoments = startMode === 'continue' && start.optimizerNote === null;
  try {
    trainer.importTensors(tensorsFor(start, startMode), step0, withMoments ? start.optimizerStep : 0, start.file);
  } catch (e) {
    throw new UserError(`${flag} ${(e as Error).message}`, 2, startMode === 'continue' ? 'continueFrom' : 'init');
  }
  if (startMode === 'continue' && start.optimizerNote)
    log('warn', `${start.file}: ${start.optimizerNote}; AdamW starts afresh at epoch ${start.epochsDone + 1}`);
  log(
    'info',
    startMode === 'continue'
      ? `continuing ${start.format === 'released' ? 'a run of the released code' : 'a camd run'} from ${start.file}: ${start.epochsDone} epoch(s) done, this run starts at step ${step0 + 1} (epoch ${start.epochsDone + 1} of ${+epochs.toFixed(2)})${withMoments ? ' with its AdamW state' : ''}`
      : `starting from the weights of ${start.file} (a fresh optimiser, step 1)`,
  );
  return {
    mode: startMode,
    file: start.file,
    sha256: start.sha256,
    format: start.format,
    epochs_done: start.epochsDone,
    step: step0,
    optimizer: withMoments,
  };
}
