/**
 * System information for the app: versions, where the data lives, and every rung of the backend
 * ladder (loaded, or why not and what to do) — `camd info --json` in a child process, so that the
 * probing (TensorFlow.js, Dawn, CUDA) never loads into this process. Cached for ten minutes.
 */
import { userInfo } from 'node:os';
import type { z } from 'zod';
import type { SystemInfo } from '../common/contract.js';
import type { AppPaths } from './paths.js';
import { packageVersion } from './package-root.js';
import { failureLine, type CamdCommand } from './camd-command.js';

export class System {
  private cached: { at: number; backends: Record<string, unknown> } | null = null;
  private asking: Promise<void> | null = null;

  constructor(
    private readonly paths: AppPaths,
    private readonly camd: CamdCommand,
  ) {}

  async info(): Promise<z.infer<typeof SystemInfo>> {
    if (!this.cached || Date.now() - this.cached.at > 600_000) {
      // one `camd info` at a time: calls that arrive while it runs wait for its answer (never a process each)
      this.asking ??= (async () => {
        let backends: Record<string, unknown>;
        const r = await this.camd(['info', '--json'], { timeoutMs: 120_000, maxBuffer: 4 << 20 });
        try {
          if (r.code !== 0) throw new Error(failureLine(r));
          backends = JSON.parse(r.stdout) as Record<string, unknown>;
        } catch (e) {
          backends = { error: `camd info failed: ${(e as Error).message.split('\n')[0]}` };
        }
        this.cached = { at: Date.now(), backends };
      })().finally(() => (this.asking = null));
      await this.asking;
    }
    return {
      version: packageVersion(),
      user: userName(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      dataDir: this.paths.root,
      store: this.paths.db,
      backends: this.cached?.backends ?? { error: 'camd info gave no answer' },
    };
  }
}

/** The account's user name ('' when the system cannot say: no passwd entry in a container). */
function userName(): string {
  try {
    return userInfo().username.slice(0, 64);
  } catch {
    return '';
  }
}
