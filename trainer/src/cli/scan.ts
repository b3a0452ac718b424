/** `camd scan DIR`: the dataset index report (counts, and every unreadable file with its reason). */
import { SingleBar } from 'cli-progress';
import { scanDataset } from '../data/scan.js';
import { Store } from '../store/store.js';
import { defaultDbPath } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';

export interface ScanCliOptions {
  db?: string;
  json?: boolean;
  maxPixels?: string;
}

export async function scanCommand(dir: string, o: ScanCliOptions): Promise<void> {
  const maxPixels = o.maxPixels === undefined ? DEFAULT_MAX_PIXELS : Number(o.maxPixels);
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new UserError(`--max-pixels must be a positive integer, got '${o.maxPixels}'`);
  const store = new Store(o.db ?? defaultDbPath());
  store.reapDeadRuns(); // any command that opens the store tells dead runs from live ones
  const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: 'scanning [{bar}] {value}/{total} {file}', hideCursor: true, stream: process.stderr }) : null;
  let started = false;
  try {
    const r = await scanDataset(store, dir, {
      maxPixels,
      onProgress: (done, total, file) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0, { file: '' });
          started = true;
        }
        bar.update(done, { file });
      },
    }).catch((e: Error) => {
      throw new UserError(e.message);
    });
    bar?.stop();
    if (r.images === 0) {
      const why = r.bad.length ? `; ${r.bad.length} file(s) could not be read, e.g. ${r.bad[0]!.path}: ${r.bad[0]!.reason}` : '';
      if (o.json) process.stdout.write(JSON.stringify({ ...r, db: store.file }) + '\n');
      throw new UserError(`no readable image in ${dir}${why}`);
    }
    if (o.json) {
      process.stdout.write(JSON.stringify({ ...r, db: store.file }) + '\n');
      return;
    }
    const lines = [
      `${r.root}`,
      `  ${r.images} readable image(s), ${r.bad.length} unreadable file(s)${r.ignored ? `, ${r.ignored} other file(s) ignored` : ''}`,
      `  this scan: ${r.added} added, ${r.changed} changed, ${r.removed} removed, ${r.unchanged} unchanged`,
      ...r.bad.map((b) => `  unreadable: ${b.path}: ${b.reason}`),
      `  index: ${store.file}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    bar?.stop();
    store.close();
  }
}
