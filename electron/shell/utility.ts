/**
 * The trainer in Electron's utility processes: the supervisor's worker launcher and the one-shot
 * `camd` commands, forked with `utilityProcess` (Electron's process for CPU-heavy, crash-prone
 * work; it needs no runAsNode, which the app's fuses turn off). Control goes through
 * `postMessage` (the worker reads process.parentPort), events come back as JSON lines on stdout
 * as with a child process. When a process dies, `app`'s `child-process-gone` says why (crashed,
 * oom, killed, launch-failed); the process is matched by the name it was forked with.
 */
import { app, utilityProcess, type Details, type UtilityProcess } from 'electron';
import type { WorkerCommand } from 'camd-studio/trainer/protocol';
import { readWorkerOutput, type ExitInfo, type Launcher, type WorkerProcess } from '../supervisor/launcher.js';
import { collect, type CamdCommand } from '../services/camd-command.js';

/** Reasons worth telling (an exit code says more than `clean-exit` or `abnormal-exit`). */
const TOLD = new Set(['crashed', 'oom', 'killed', 'launch-failed', 'integrity-failure', 'memory-eviction']);

/** How long an exit waits for its child-process-gone event (they come in either order). */
const GONE_WAIT_MS = 1000;

class GoneReasons {
  private readonly seen = new Map<string, Details>();
  private readonly waiting = new Map<string, (d: Details) => void>();
  private listening = false;

  listen(): void {
    if (this.listening) return;
    this.listening = true;
    app.on('child-process-gone', (_e, d) => {
      if (d.type !== 'Utility') return;
      const name = d.name ?? d.serviceName;
      if (!name?.startsWith('camd-')) return;
      const w = this.waiting.get(name);
      if (w) w(d);
      else if (TOLD.has(d.reason)) {
        this.seen.set(name, d);
        // an exit that never asked (clean): forget the oldest
        if (this.seen.size > 64) this.seen.delete(this.seen.keys().next().value!);
      }
    });
  }

  /** The reason `name` went, waited for a little; undefined when none (or a clean one) came. */
  wait(name: string): Promise<string | undefined> {
    const told = (d: Details | undefined) => (d && TOLD.has(d.reason) ? d.reason : undefined);
    const now = this.seen.get(name);
    if (now) {
      this.seen.delete(name);
      return Promise.resolve(told(now));
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(name);
        resolve(undefined);
      }, GONE_WAIT_MS);
      this.waiting.set(name, (d) => {
        clearTimeout(timer);
        this.waiting.delete(name);
        resolve(told(d));
      });
    });
  }
}

const reasons = new GoneReasons();
let seq = 0;

/** Resolves when both output streams have ended (or after a while: a stream may never end). */
function drained(streams: (NodeJS.ReadableStream | null)[], ms = 2000): Promise<void> {
  const ends = streams
    .filter((s): s is NodeJS.ReadableStream => s !== null && !(s as { readableEnded?: boolean }).readableEnded)
    .map((s) => new Promise<void>((r) => s.once('end', () => r())));
  return Promise.race([Promise.all(ends).then(() => undefined), new Promise<void>((r) => setTimeout(r, ms))]);
}

function fork(camdBin: string, args: string[], name: string): UtilityProcess {
  return utilityProcess.fork(camdBin, args, { stdio: ['ignore', 'pipe', 'pipe'], serviceName: name, env: process.env });
}

/** `camd worker` in a utility process, for the supervisor. */
export function utilityLauncher(camdBin: string): Launcher {
  reasons.listen();
  return (): WorkerProcess => {
    const name = `camd-trainer-${++seq}`;
    const messages: Parameters<WorkerProcess['onMessage']>[0][] = [];
    const logs: ((l: string) => void)[] = [];
    const exits: ((e: ExitInfo) => void)[] = [];
    let killedWith: NodeJS.Signals | null = null;
    let ended = false;
    const end = (e: ExitInfo) => {
      if (ended) return;
      ended = true;
      for (const f of exits) f(e);
    };
    let child: UtilityProcess | null = null;
    try {
      child = fork(camdBin, ['worker'], name);
    } catch (e) {
      setImmediate(() => {
        for (const f of logs) f(`cannot start the worker: ${e instanceof Error ? e.message : String(e)}`);
        end({ code: null, signal: null, reason: 'launch-failed' });
      });
    }
    if (child) {
      const out = child.stdout;
      const err = child.stderr;
      if (out)
        readWorkerOutput(
          out,
          err,
          (m) => messages.forEach((f) => f(m)),
          (l) => logs.forEach((f) => f(l)),
        );
      child.on('exit', (code) => {
        const reason = code === 0 && !killedWith ? Promise.resolve(undefined) : reasons.wait(name);
        void Promise.all([reason, drained([out, err])]).then(([reason]) =>
          end({ code: killedWith ? null : code, signal: killedWith, ...(reason ? { reason } : {}) }),
        );
      });
    }
    return {
      get pid() {
        return child?.pid;
      },
      send: (cmd: WorkerCommand) => {
        if (child?.pid !== undefined) child.postMessage(cmd);
      },
      kill: (signal) => {
        if (!child || child.pid === undefined) return;
        killedWith = signal;
        // utilityProcess.kill() is SIGTERM on POSIX (TerminateProcess on Windows): the last resort is a real SIGKILL
        if (signal === 'SIGKILL' && process.platform !== 'win32') {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        } else child.kill();
      },
      onMessage: (f) => messages.push(f),
      onLog: (f) => logs.push(f),
      onExit: (f) => exits.push(f),
    };
  };
}

/** One-shot `camd <args>` (info, selftest, export) in a utility process. */
export function utilityCommand(camdBin: string): CamdCommand {
  reasons.listen();
  return (args, o) => {
    const name = `camd-command-${++seq}`;
    let child: UtilityProcess;
    try {
      child = fork(camdBin, args, name);
    } catch (e) {
      return Promise.resolve({
        stdout: '',
        stderr: `cannot start camd: ${e instanceof Error ? e.message : String(e)}`,
        code: null,
      });
    }
    const out = child.stdout;
    const err = child.stderr;
    return collect(
      {
        stdout: out,
        stderr: err,
        kill: () => void child.kill(),
        onEnd: (fn) => {
          child.once('exit', (code) => {
            void Promise.all([code === 0 ? Promise.resolve(undefined) : reasons.wait(name), drained([out, err])]).then(
              ([reason]) => fn(code, reason ? `the process ${reason}` : undefined),
            );
          });
        },
      },
      o,
    );
  };
}
