/**
 * One-shot `camd` commands (info, selftest, export) in their own process, so that TensorFlow.js
 * and the backend probes never load into the app's: `node camd.js …` as a child process here
 * (browser mode, tests), a utility process in Electron (whose own executable cannot run a script
 * with the runAsNode fuse off). Output is collected up to a limit; a command past its time is
 * killed.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** The exit code; null when killed (timeout) or never started. */
  code: number | null;
}

export interface CommandOptions {
  timeoutMs: number;
  /** Most bytes kept of stdout (and of stderr). */
  maxBuffer: number;
  /** Each whole line of stdout as it comes (progress of `--json` commands). */
  onLine?: (line: string) => void;
  /** Stops the command (killed). */
  signal?: AbortSignal;
}

/** Runs `camd <args>`; never rejects: a failure to start is code null with the reason on stderr. */
export type CamdCommand = (args: string[], o: CommandOptions) => Promise<CommandResult>;

/** The process of a command, whatever started it. */
export interface CommandProcess {
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  kill(): void;
  /** Calls back once with the exit code (null: killed) or a failure to start. */
  onEnd(fn: (code: number | null, startError?: string) => void): void;
}

/** Collects a command process's output until it ends (or is killed at the time limit). */
export function collect(p: CommandProcess, o: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let timedOut = false;
    let partial = '';
    p.stdout?.on('data', (c: Buffer) => {
      if (outSize < o.maxBuffer) out.push(c.subarray(0, o.maxBuffer - outSize));
      outSize += c.length;
      if (o.onLine) {
        const lines = (partial + c.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) o.onLine(l);
      }
    });
    const onAbort = () => p.kill();
    if (o.signal?.aborted) p.kill();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    p.stderr?.on('data', (c: Buffer) => {
      if (errSize < o.maxBuffer) err.push(c.subarray(0, o.maxBuffer - errSize));
      errSize += c.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill();
    }, o.timeoutMs);
    let ended = false;
    p.onEnd((code, startError) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (o.onLine && partial.trim()) o.onLine(partial);
      let stderr = Buffer.concat(err).toString('utf8');
      if (startError) stderr += `${stderr ? '\n' : ''}cannot start camd: ${startError}`;
      if (timedOut) stderr += `${stderr ? '\n' : ''}camd: stopped after ${Math.round(o.timeoutMs / 1000)} s`;
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, code: timedOut ? null : code });
    });
  });
}

/** `node <camd.js> <args>` as a child process. */
export function nodeCommand(camdBin: string, env: NodeJS.ProcessEnv = process.env): CamdCommand {
  return (args, o) => {
    const child = spawn(process.execPath, [camdBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    return collect(
      {
        stdout: child.stdout,
        stderr: child.stderr,
        kill: () => child.kill('SIGKILL'),
        onEnd: (fn) => {
          child.on('error', (e) => fn(null, e.message));
          child.on('close', (code) => fn(code));
        },
      },
      o,
    );
  };
}

/** The last line of a failed command's stderr, without the `camd: ` prefix. */
export function failureLine(r: CommandResult): string {
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim());
  return (lines.pop() ?? `camd exited with code ${r.code}`).replace(/^camd: /, '');
}
