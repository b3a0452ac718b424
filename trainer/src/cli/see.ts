/** `camd see`: the pictures of what the model sees (see/see-run.ts). */
import { resolve } from 'node:path';
import { runSee } from '../see/see-run.js';
import { CliConsole, jsonRenderer } from './console.js';
import { parseNumber } from './parse.js';
import { CamdError } from '../util/errors.js';

export interface SeeCliOptions {
  checkpoint?: string;
  image?: string;
  data?: string;
  format?: string;
  schema?: string;
  out?: string;
  maskRatio?: string;
  seed?: string;
  backend?: string;
  db?: string;
  json?: boolean;
}

export async function seeCommand(o: SeeCliOptions): Promise<void> {
  if (!o.checkpoint) throw new CamdError('usage', 'camd see needs --checkpoint FILE');
  const maskRatio = parseNumber('--mask-ratio', o.maskRatio, 'float');
  const seed = parseNumber('--seed', o.seed, 'int');
  const con = new CliConsole();
  try {
    const r = await runSee(
      {
        checkpoint: resolve(o.checkpoint),
        out: resolve(o.out ?? 'see'),
        ...(o.image ? { image: resolve(o.image) } : {}),
        ...(o.data ? { data: resolve(o.data) } : {}),
        ...(o.format ? { format: o.format } : {}),
        ...(o.schema ? { schema: o.schema } : {}),
        ...(maskRatio !== undefined ? { maskRatio } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(o.backend ? { backend: o.backend } : {}),
        ...(o.db ? { db: resolve(o.db) } : {}),
      },
      o.json ? jsonRenderer() : () => undefined,
    );
    if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'see', ...r })}\n`);
    if (r.face)
      process.stdout.write(
        `prediction quality at step ${r.face.step}: mean cosine ${r.face.meanCosineMasked.toFixed(3)} on the ${r.face.masked} masked patches, ${r.face.meanCosineVisible.toFixed(3)} on the visible ones (grid ${r.face.grid}×${r.face.grid})\n`,
      );
    if (r.projection)
      process.stdout.write(
        `${r.projection.points} faces on two principal components (${(100 * r.projection.explained[0]).toFixed(1)} % and ${(100 * r.projection.explained[1]).toFixed(1)} % of the variance)${r.projection.labels.length ? `, framed by label: ${r.projection.labels.join(', ')}` : ''}\n`,
      );
    for (const f of r.files) process.stdout.write(`  ${f}\n`);
  } finally {
    con.stop();
  }
}
