/**
 * `camd pseudo-label DIR --task landmarks|pose|parsing`: the bundled face model's guesses written
 * beside each face in the task's dataset format — 300W .pts files (faces/pseudo-landmarks.ts),
 * 300W-LP .mat files (pose/pseudo-pose.ts), LaPa label maps under labels/ (parsing/pseudo-parsing.ts).
 */
import { resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';

export interface PseudoLabelCliOptions {
  task: string;
  overwrite?: boolean;
  json?: boolean;
}

/** What every pseudo-labeller reports. */
interface PseudoReport {
  root: string;
  labelled: number;
  kept: number;
  noFace: string[];
  unreadable: { path: string; reason: string }[];
  source: string;
}
type Labeller = (
  root: string,
  opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void },
) => Promise<PseudoReport>;

const TASKS: Record<string, { labeller: () => Promise<Labeller>; wrote: string; format: string }> = {
  landmarks: {
    labeller: async () => (await import('../faces/pseudo-landmarks.js')).pseudoLandmarks,
    wrote: 'a .pts file (300W, 68 points)',
    format: '300w',
  },
  pose: {
    labeller: async () => (await import('../pose/pseudo-pose.js')).pseudoPose,
    wrote: 'a .mat file (300W-LP: Pose_Para, pt2d)',
    format: '300w-lp',
  },
  parsing: {
    labeller: async () => (await import('../parsing/pseudo-parsing.js')).pseudoParsing,
    wrote: "a label map under labels/ (LaPa's 11 classes; hair is never labelled)",
    format: 'lapa',
  },
};

export async function pseudoLabelCommand(dir: string, o: PseudoLabelCliOptions): Promise<void> {
  const t = TASKS[o.task];
  if (!t) throw new UserError(`--task ${o.task}: landmarks, pose or parsing are pseudo-labelled`, 2, 'usage');
  const root = resolve(dir);
  const con = new CliConsole();
  let started = false;
  try {
    const r = await (await t.labeller())(root, {
      overwrite: Boolean(o.overwrite),
      onProgress: (done, total) => {
        if (o.json) return;
        if (!started) {
          con.bar(total, 0, 'pseudo-labelling [{bar}] {value}/{total}');
          started = true;
        }
        con.update(done);
      },
    });
    con.stop();
    if (o.json) process.stdout.write(`${JSON.stringify({ type: 'pseudo-label', task: o.task, ...r })}\n`);
    else {
      const lines = [
        `${r.root}`,
        `  ${r.labelled} face(s) given ${t.wrote}${r.kept ? `, ${r.kept} kept as they were (--overwrite writes over them)` : ''}`,
        ...(r.noFace.length
          ? [
              `  ${r.noFace.length} image(s) without a face found, not labelled: ${r.noFace.slice(0, 3).join(', ')}${r.noFace.length > 3 ? ', …' : ''}`,
            ]
          : []),
        ...(r.unreadable.length
          ? [
              `  ${r.unreadable.length} unreadable: ${r.unreadable
                .slice(0, 3)
                .map((u) => `${u.path}: ${u.reason}`)
                .join('; ')}`,
            ]
          : []),
        `  pseudo-labels from ${r.source}: a model's guesses, not human annotations`,
        `  fine-tune on them: camd finetune --task ${o.task} --format ${t.format} --data ${r.root} --init <encoder or none>`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (r.labelled + r.kept === 0) throw new UserError(`no face labelled in ${root}`, 2, 'input');
  } finally {
    con.stop();
  }
}
