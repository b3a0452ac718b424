// The real `camd` process, as a user (or the app's supervisor) runs it.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));

export type Ev = { type: string; [k: string]: unknown };

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (only with --json). */
  events: Ev[];
}

function parseLines(stdout: string): Ev[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Ev);
}

/** Runs `camd args…` to the end. */
export function camd(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CAMD, ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, ...env },
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    events: args.includes('--json') ? parseLines(r.stdout) : [],
  };
}

/** Runs `camd args…` (with --json) in the background, calling onEvent for each event as it comes. */
export function camdLive(
  args: string[],
  onEvent: (e: Ev, pid: number) => void = () => undefined,
): { pid: number; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CAMD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Ev[] = [];
  let buf = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    stdout += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim().startsWith('{')) continue;
      const e = JSON.parse(line) as Ev;
      events.push(e);
      onEvent(e, child.pid!);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': the process can exit before its last output has been read
  const done = new Promise<CliResult>((res) =>
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr, events })),
  );
  return { pid: child.pid!, done };
}

export const of = (evs: Ev[], type: string) => evs.filter((e) => e.type === type);

/** One row of a store, read with a fresh connection. */
export function sql<T>(db: string, query: string, ...params: unknown[]): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(query).all(...params) as T[];
  } finally {
    d.close();
  }
}

/** The store's integrity check. */
export function integrity(db: string): string {
  const d = new Database(db);
  try {
    return d.pragma('integrity_check', { simple: true }) as string;
  } finally {
    d.close();
  }
}

/** Every line a user sees is one of ours: no Node stack frame. */
export function noStack(text: string): boolean {
  return !text.split('\n').some((l) => /^\s{4}at /.test(l));
}
