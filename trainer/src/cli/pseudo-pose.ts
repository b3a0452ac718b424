/** `camd pseudo-label DIR --task pose`: 300W-LP .mat files from the face model beside each face (pose/pseudo-pose.ts). */
import { resolve } from 'node:path';
import { pseudoPose } from '../pose/pseudo-pose.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';
import type { PseudoLabelCliOptions } from './pseudo-label.js';

export async function pseudoPoseCommand(dir: string, o: PseudoLabelCliOptions): Promise<void> {
  const root = resolve(dir);
  const con = new CliConsole();
  let started = false;
  try {
    const r = await pseudoPose(root, {
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
    if (o.json) process.stdout.write(`${JSON.stringify({ type: 'pseudo-label', task: 'pose', ...r })}\n`);
    else {
      const lines = [
        `${r.root}`,
        `  ${r.labelled} face(s) given a .mat file (300W-LP: Pose_Para, pt2d)${r.kept ? `, ${r.kept} kept as they were (--overwrite writes over them)` : ''}`,
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
        `  fine-tune on them: camd finetune --task pose --format 300w-lp --data ${r.root} --init <encoder or none>`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (r.labelled + r.kept === 0) throw new UserError(`no face labelled in ${root}`, 2, 'input');
  } finally {
    con.stop();
  }
}
