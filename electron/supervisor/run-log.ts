/**
 * One log file a run: every line its worker printed on stderr and every event it sent, with a
 * time, appended as they come and rotated at 5 MB (one previous file kept). Its tail is what a
 * failed run shows.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROTATE_BYTES = 5 * 1024 * 1024;

export class RunLog {
  readonly file: string;
  private size = 0;

  constructor(dir: string, runId: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${runId}.log`);
    this.size = existsSync(this.file) ? statSync(this.file).size : 0;
  }

  write(source: 'event' | 'stderr' | 'supervisor', text: string): void {
    const line = `${new Date().toISOString()} ${source.padEnd(10)} ${text.replace(/\n+$/, '')}\n`;
    try {
      if (this.size + line.length > ROTATE_BYTES) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      appendFileSync(this.file, line);
      this.size += Buffer.byteLength(line);
    } catch {
      /* a full disk must not stop the supervisor */
    }
  }

  /** The last `n` lines (from the rotated file too when needed). */
  static tail(dir: string, runId: string, n: number): string[] {
    const file = join(dir, `${runId}.log`);
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
    let lines = read(file);
    if (lines.length < n) lines = [...read(`${file}.1`), ...lines];
    return lines.slice(-n);
  }

  static remove(dir: string, runId: string): void {
    const file = join(dir, `${runId}.log`);
    rmSync(file, { force: true });
    rmSync(`${file}.1`, { force: true });
  }
}
