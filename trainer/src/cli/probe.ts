/** `camd probe`: k-NN and linear-probe accuracy of encoders on a labelled folder, one table. */
import { resolve } from 'node:path';
import { runProbe } from '../probe/run.js';
import { CliConsole, jsonRenderer } from './console.js';
import { parseNumber } from './parse.js';
import { CamdError } from '../util/errors.js';
import { PRESET_NAMES, type PresetName } from '../model/config.js';

export interface ProbeCliOptions {
  checkpoint?: string[];
  data?: string;
  format?: string;
  schema?: string;
  random?: boolean;
  pixels?: boolean;
  control?: boolean;
  preset?: string;
  imgSize?: string;
  seed?: string;
  folds?: string;
  backend?: string;
  db?: string;
  json?: boolean;
}

export async function probeCommand(o: ProbeCliOptions): Promise<void> {
  if (!o.data) throw new CamdError('usage', 'camd probe needs --data DIR (a labelled folder)');
  if (!o.format)
    throw new CamdError('usage', 'camd probe needs --format (celeba, lfwa, rafdb, ferplus, folders, csv or store)');
  if (o.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(o.preset))
    throw new CamdError('usage', `--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const imgSize = parseNumber('--img-size', o.imgSize, 'int');
  const seed = parseNumber('--seed', o.seed, 'int');
  const folds = parseNumber('--folds', o.folds, 'int');
  const con = new CliConsole();
  let bar = false;
  try {
    const r = await runProbe(
      {
        checkpoints: (o.checkpoint ?? []).map((f) => resolve(f)),
        data: resolve(o.data),
        format: o.format,
        ...(o.schema ? { schema: o.schema } : {}),
        ...(o.random ? { random: true } : {}),
        ...(o.pixels ? { pixels: true } : {}),
        ...(o.control ? { control: true } : {}),
        ...(o.preset ? { preset: o.preset as PresetName } : {}),
        ...(imgSize !== undefined ? { imgSize } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(folds !== undefined ? { folds } : {}),
        ...(o.backend ? { backend: o.backend } : {}),
        ...(o.db ? { db: resolve(o.db) } : {}),
      },
      o.json
        ? jsonRenderer()
        : (e) => {
            if (e.type !== 'progress' || !con.tty) return;
            if (!bar || e.done === 0) {
              con.stop();
              con.bar(e.total, 0, 'features         [{bar}] {value}/{total}', {});
              bar = true;
            }
            con.update(e.done);
          },
    );
    con.stop();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ type: 'probe', ...r })}\n`);
      return;
    }
    const metric = r.rows[0]?.metric === 'mean_acc' ? 'mean accuracy' : 'top-1 accuracy';
    const head = ['encoder', `k-NN (k=20)`, 'linear probe', 'seconds'];
    const pm = (v: number, sd: number | undefined) =>
      sd === undefined ? v.toFixed(3) : `${v.toFixed(3)} ± ${sd.toFixed(3)}`;
    const rows = r.rows.map((x) => [
      x.name,
      pm(x.knn, x.spread?.knn),
      pm(x.linear, x.spread?.linear),
      x.seconds.toFixed(1),
    ]);
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ');
    process.stdout.write(
      `${r.task === 'far' ? `${r.classes} attributes` : `${r.classes} classes`}, ${metric}; ${r.split}\n`,
    );
    process.stdout.write(`${[line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n')}\n`);
    if (rows.some((x) => x[1]!.includes('±')))
      process.stdout.write("± the standard deviation of the folds' accuracies (fold-to-fold spread)\n");
  } finally {
    con.stop();
  }
}
