/** `camd pseudo-label DIR --task parsing`: LaPa label maps from the face mesh's regions (parsing/pseudo-parsing.ts). */
import { resolve } from 'node:path';
import { pseudoParsing } from '../parsing/pseudo-parsing.js';
import { UserError } from '../util/errors.js';
import { CliConsole } from './console.js';
import type { PseudoLabelCliOptions } from './pseudo-label.js';

export async function pseudoParsingCommand(dir: string, o: PseudoLabelCliOptions): Promise<void> {
  const root = resolve(dir);
  const con = new CliConsole();
  let started = false;
  try {
    const r = await pseudoParsing(root, {
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
    if (o.json) process.stdout.write(`${JSON.stringify({ type: 'pseudo-label', task: 'parsing', ...r })}\n`);
    else {
      const lines = [
        `${r.root}`,
        `  ${r.labelled} face(s) given a label map under labels/ (LaPa's 11 classes; hair is never labelled)${r.kept ? `, ${r.kept} kept as they were (--overwrite writes over them)` : ''}`,
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
        `  fine-tune on them: camd finetune --task parsing --format lapa --data ${r.root} --init <encoder or none>`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (r.labelled + r.kept === 0) throw new UserError(`no face labelled in ${root}`, 2, 'input');
  } finally {
    con.stop();
  }
}
