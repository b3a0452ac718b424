/**
 * A PyTorch training step in a child process, driven by bench/step_protocol.py's line protocol:
 * our step written in PyTorch (bench/torch_camd_step.py) and the authors' released step
 * (bench/released_camd_step.py) are both started and asked the same way.
 */
import { spawn } from 'node:child_process';
import { setAsideKernelChoice } from './blas-env.js';
import { createInterface } from 'node:readline';
import { describeTorchBlas, type TorchBlas } from './machine-info.js';

export interface StepProcess {
  /** Who it is, for messages ("PyTorch", "released"). */
  label: string;
  /** The ready line: torch's version, its BLAS. */
  torchVersion: string;
  blas: TorchBlas;
  /** Sends a command and reads its one-line answer (an `error` answer throws). */
  ask(command: string): Promise<Record<string, unknown>>;
  /** torch's intra-op threads, and the BLAS's where they are set apart (null: leave them). */
  setThreads(threads: number, blas: number | null): Promise<void>;
  /** One step: its seconds and the process's peak resident set so far. */
  step(): Promise<{ seconds: number; maxRss: number | null }>;
  quit(): void;
}

/** Starts `python script arg` and waits for its ready line. */
export async function startStepProcess(
  python: string,
  script: string,
  arg: string,
  label: string,
  keepKernelChoice = false,
): Promise<StepProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // our OpenBLAS kernel choice (native.ts) is ours; PyTorch's OpenBLAS picks its own (blas-env.ts)
  setAsideKernelChoice(env, keepKernelChoice);
  const child = spawn(python, [script, arg], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const spawned = new Promise<never>((_, reject) =>
    child.on('error', (e) =>
      reject(
        new Error(
          `cannot run ${python}: ${e.message} (--compare-torch needs Python 3 with PyTorch: Debian python3-torch, or --python PATH)`,
        ),
      ),
    ),
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await Promise.race([lines.next(), spawned]);
    if (r.done) throw new Error(`the ${label} step process (${script}) exited early (does ${python} have torch?)`);
    const answer = JSON.parse(r.value) as Record<string, unknown>;
    if (typeof answer['error'] === 'string') throw new Error(`${label}: ${answer['error']}`);
    return answer;
  };
  const ask = (command: string) => {
    child.stdin!.write(`${command}\n`);
    return next();
  };
  let ready: Record<string, unknown>;
  try {
    ready = await next();
  } catch (e) {
    child.kill();
    throw e;
  }
  return {
    label,
    torchVersion: String(ready['torch']),
    blas: describeTorchBlas({
      config: String(ready['config'] ?? ''),
      blas_libs: Array.isArray(ready['blas_libs']) ? ready['blas_libs'].map(String) : [],
      openblas: typeof ready['openblas'] === 'string' ? ready['openblas'] : null,
    }),
    ask,
    setThreads: async (threads, blas) => {
      await ask(blas === null ? `threads ${threads}` : `threads ${threads} ${blas}`);
    },
    step: async () => {
      const r = await ask('step');
      return {
        seconds: r['seconds'] as number,
        maxRss: typeof r['max_rss_bytes'] === 'number' ? r['max_rss_bytes'] : null,
      };
    },
    quit: () => child.stdin!.end('quit\n'),
  };
}
