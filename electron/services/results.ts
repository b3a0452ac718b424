/**
 * What runs produced: evaluations (per attribute, per class, confusion matrices in `detail`) and
 * checkpoints (with whether the file is still there), and exports of a checkpoint through the
 * trainer's exporters (`camd export` in a child process: TensorFlow.js stays out of this one).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError, isAbsolutePath, type Store } from 'camd-studio/trainer';
import type { z } from 'zod';
import type { Checkpoint, Evaluation } from '../common/contract.js';
import { NotFound } from '../base/errors.js';
import { failureLine, type CamdCommand } from './camd-command.js';

export class Results {
  constructor(
    private readonly store: Store,
    private readonly camd: CamdCommand,
    private readonly exportsDir: string,
  ) {}

  evaluations(runId: string): z.infer<typeof Evaluation>[] {
    return this.store.evaluations(runId).map((r) => ({
      ...r,
      selected: r.selected === 1,
      detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
    }));
  }

  checkpoints(runId: string): z.infer<typeof Checkpoint>[] {
    return this.store.checkpoints(runId).map((c) => ({ ...c, exists: existsSync(c.path) }));
  }

  /** Exports a checkpoint as a TensorFlow.js model folder or timm/PyTorch safetensors (default: under the data folder's exports/). */
  async export(id: number, format: 'tfjs' | 'safetensors', out?: string): Promise<{ out: string; message: string }> {
    const ck = this.store.checkpoint(id);
    if (!ck) throw new NotFound(`checkpoint ${id}`);
    if (!existsSync(ck.path)) throw new CamdError('input', `the file of checkpoint ${id} is gone: ${ck.path}`, 'id');
    if (out !== undefined && !isAbsolutePath(out))
      throw new CamdError('input', `out must be an absolute path, got '${out}'`, 'out');
    mkdirSync(this.exportsDir, { recursive: true });
    const target =
      out ??
      join(
        this.exportsDir,
        `${ck.run_id.slice(0, 8)}-${ck.kind}-${ck.step}${format === 'safetensors' ? '.safetensors' : ''}`,
      );
    const r = await this.camd(['export', '--checkpoint', ck.path, '--format', format, '--out', target], {
      timeoutMs: 600_000,
      maxBuffer: 1 << 20,
    });
    if (r.code !== 0)
      throw new CamdError(r.code === 2 ? 'input' : 'io', failureLine(r), r.code === 2 ? 'out' : undefined);
    return { out: target, message: r.stdout.trim() };
  }
}
