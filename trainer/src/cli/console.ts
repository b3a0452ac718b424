/**
 * What `camd` shows a person on stderr: one progress bar at a time (cli-progress) and plain lines
 * that are never lost. cli-progress buffers lines written while a bar is shown and prints them at
 * its next redraw — which never comes when the bar stops first — so every line here forces the
 * redraw, and the last lines of a command are written after the bar has stopped.
 */
import { MultiBar, Presets } from 'cli-progress';
import type { RunEvent, RunEventOf } from '../protocol/events.js';

type Bar = ReturnType<MultiBar['create']>;

export class CliConsole {
  readonly tty = Boolean(process.stderr.isTTY);
  private multi: MultiBar | null = null;
  private current: Bar | null = null;

  /** Replaces the current bar by a new one. */
  bar(total: number, start: number, format: string, payload: Record<string, unknown> = {}): void {
    this.current?.stop();
    if (!this.multi) {
      this.multi = new MultiBar(
        {
          clearOnComplete: false,
          hideCursor: true,
          stream: process.stderr,
          noTTYOutput: !this.tty,
          notTTYSchedule: 10_000,
          etaBuffer: 50,
          format,
        },
        Presets.shades_classic,
      );
    }
    this.current = this.multi.create(total, start, payload, { format });
  }

  update(value: number, payload?: Record<string, unknown>): void {
    this.current?.update(value, payload);
  }

  /** A line above the bar (or alone when no bar is shown). */
  line(s: string): void {
    if (this.multi && this.tty) {
      this.multi.log(`${s}\n`);
      this.multi.update(); // flush now: a buffered line is lost if the bar stops first
    } else process.stderr.write(`${s}\n`);
  }

  /** Stops the bars; later lines go straight to stderr. */
  stop(): void {
    this.current?.stop();
    this.current = null;
    this.multi?.stop();
    this.multi = null;
  }

  /** A closing line: after the bars have stopped. */
  final(s: string): void {
    this.stop();
    process.stderr.write(`${s}\n`);
  }
}

/** What a progress phase is called on a progress bar. */
export const PHASE_LABEL: Record<RunEventOf<'progress'>['phase'], string> = {
  scanning: 'indexing images ',
  decoding: 'decoding (cache)',
  features: 'features        ',
  evaluating: 'evaluating      ',
  checkpoint: 'checkpoint      ',
  predicting: 'predicting      ',
  detecting: 'finding faces   ',
};

/** JSON lines on stdout; warnings also on stderr, for the person watching the terminal. */
export function jsonRenderer(): (e: RunEvent) => void {
  return (e) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    if (e.type === 'log' && e.level === 'warn') process.stderr.write(`camd: warning: ${e.message}\n`);
  };
}
