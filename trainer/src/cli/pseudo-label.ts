/** `camd pseudo-label DIR --task landmarks`: 300W .pts files from the face model beside each face (geometry/pseudo-landmarks.ts). */
import { resolve } from 'node:path';
import { pseudoLandmarks } from '../faces/pseudo-landmarks.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';

export interface PseudoLabelCliOptions {
  task: string;
  overwrite?: boolean;
  json?: boolean;
}

export async function pseudoLabelCommand(dir: string, o: PseudoLabelCliOptions): Promise<void> {
  if (o.task === 'pose') return (await import('./pseudo-pose.js')).pseudoPoseCommand(dir, o);
  if (o.task === 'parsing') return (await import('./pseudo-parsing.js')).pseudoParsingCommand(dir, o);
  if (o.task !== 'landmarks')
    throw new UserError(`--task ${o.task}: only landmarks, pose and parsing are pseudo-labelled`, 2, 'usage');
  const root = resolve(dir);
  const con = new CliConsole();
  let started = false;
  try {
    const r = await pseudoLandmarks(root, {
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
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ type: 'pseudo-label', task: 'landmarks', ...r })}\n`);
    } else {
      const lines = [
        `${r.root}`,
        `  ${r.labelled} face(s) given a .pts file (300W, 68 points)${r.kept ? `, ${r.kept} kept as they were (--overwrite writes over them)` : ''}`,
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
        `  fine-tune on them: camd finetune --task landmarks --format 300w --data ${r.root} --init <encoder or none>`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (r.labelled + r.kept === 0) throw new UserError(`no face labelled in ${root}`, 2, 'input');
  } finally {
    con.stop();
  }
}
