/** `camd scan DIR`: the dataset index report (counts, and every unreadable file with its reason). */
import { resolve } from 'node:path';
import { scan } from '../api/index.js';
import { UserError } from '../util/errors.js';
import { CliConsole, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { parseNumber } from './parse.js';

export interface ScanCliOptions {
  db?: string;
  json?: boolean;
  maxPixels?: string;
}

export async function scanCommand(dir: string, o: ScanCliOptions): Promise<void> {
  const spec = { dir: resolve(dir), ...(o.db ? { db: resolve(o.db) } : {}), ...(o.maxPixels !== undefined ? { maxPixels: parseNumber('--max-pixels', o.maxPixels, 'int') } : {}) };
  const con = new CliConsole();
  const stop = stopOnSignals('the files indexed so far are kept');
  let started = false;
  try {
    const r = await scan(spec, (e) => {
      if (o.json || e.type !== 'progress' || !con.tty) return;
      if (!started) con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL.scanning });
      started = true;
      con.update(e.done);
    }, stop.signal);
    con.stop();
    if (r.images === 0) {
      const why = r.bad.length ? `; ${r.bad.length} file(s) could not be read, e.g. ${r.bad[0]!.path}: ${r.bad[0]!.reason}` : '';
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      throw new UserError(`no readable image in ${dir}${why}`);
    }
    if (o.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    const lines = [
      `${r.root}`,
      `  ${r.images} readable image(s), ${r.bad.length} unreadable file(s)${r.ignored ? `, ${r.ignored} other file(s) ignored` : ''}`,
      `  this scan: ${r.added} added, ${r.changed} changed, ${r.removed} removed, ${r.unchanged} unchanged${r.complete ? '' : ' (stopped: the rest on the next scan)'}`,
      ...r.bad.map((b) => `  unreadable: ${b.path}: ${b.reason}`),
      `  index: ${r.db}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    con.stop();
    stop.dispose();
  }
}
