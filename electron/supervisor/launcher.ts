/**
 * Starting a trainer worker process (`camd worker`): one interface, two adapters — Node's
 * child_process here (browser mode, tests, the CLI's host), and Electron's utilityProcess in the app
 * (filled by the Electron shell). Messages are JSON lines on stdout in both, validated here; control
 * commands go on stdin, or through postMessage where there is no stdin.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { WorkerMessage, type WorkerCommand } from 'camd-studio/trainer/protocol';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Electron's reason (utility process), when there is one. */
  reason?: string;
}

export interface WorkerProcess {
  readonly pid: number | undefined;
  send(cmd: WorkerCommand): void;
  kill(signal: NodeJS.Signals): void;
  onMessage(fn: (m: WorkerMessage) => void): void;
  /** stderr lines, and stdout lines that are not valid messages. */
  onLog(fn: (line: string) => void): void;
  onExit(fn: (e: ExitInfo) => void): void;
}

export type Launcher = () => WorkerProcess;

/** Wires a process's stdout (JSON lines) and stderr to the handlers. */
export function readWorkerOutput(
  stdout: NodeJS.ReadableStream,
  stderr: NodeJS.ReadableStream | null,
  message: (m: WorkerMessage) => void,
  log: (line: string) => void,
): void {
  createInterface({ input: stdout }).on('line', (line) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      log(`(stdout) ${line}`);
      return;
    }
    const m = WorkerMessage.safeParse(raw);
    if (m.success) message(m.data);
    else log(`(invalid worker message: ${m.error.issues[0]!.message}) ${line.slice(0, 500)}`);
  });
  if (stderr) createInterface({ input: stderr }).on('line', (line) => log(line));
}

/** `node <camd.js> worker` as a child process. */
export function childProcessLauncher(camdBin: string, env: NodeJS.ProcessEnv = process.env): Launcher {
  return () => {
    const child = spawn(process.execPath, [camdBin, 'worker'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const messages: ((m: WorkerMessage) => void)[] = [];
    const logs: ((l: string) => void)[] = [];
    const exits: ((e: ExitInfo) => void)[] = [];
    readWorkerOutput(
      child.stdout,
      child.stderr,
      (m) => messages.forEach((f) => f(m)),
      (l) => logs.forEach((f) => f(l)),
    );
    child.on('error', (e) => logs.forEach((f) => f(`cannot start the worker: ${e.message}`)));
    child.on('exit', (code, signal) => exits.forEach((f) => f({ code, signal })));
    child.stdin.on('error', () => undefined); // a dead worker's stdin: its exit is reported instead
    return {
      pid: child.pid,
      send: (cmd) => {
        if (child.stdin.writable) child.stdin.write(`${JSON.stringify(cmd)}\n`);
      },
      kill: (signal) => {
        child.kill(signal);
      },
      onMessage: (f) => messages.push(f),
      onLog: (f) => logs.push(f),
      onExit: (f) => exits.push(f),
    };
  };
}
