/**
 * What runs produced: evaluations (per attribute, per class, confusion matrices in `detail`) and
 * checkpoints (with whether the file is still there), and exports of a checkpoint through the
 * trainer's exporters (`camd export` in a child process: TensorFlow.js stays out of this one).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError, isAbsolutePath, type Store } from 'camd-studio/trainer';
import type { z } from 'zod';
import { type Checkpoint, type Evaluation, OnnxExport } from '../common/contract.js';
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

  /**
   * Exports a checkpoint as one ONNX file for deployment (with what it holds and expects), a
   * TensorFlow.js model folder or timm/PyTorch safetensors (default: under the data folder's exports/).
   */
  async export(
    id: number,
    format: 'onnx' | 'tfjs' | 'safetensors',
    out?: string,
  ): Promise<{ out: string; message: string; onnx?: OnnxExport }> {
    const ck = this.store.checkpoint(id);
    if (!ck) throw new NotFound(`checkpoint ${id}`);
    if (!existsSync(ck.path)) throw new CamdError('input', `the file of checkpoint ${id} is gone: ${ck.path}`, 'id');
    if (out !== undefined && !isAbsolutePath(out))
      throw new CamdError('input', `out must be an absolute path, got '${out}'`, 'out');
    mkdirSync(this.exportsDir, { recursive: true });
    const ext = { onnx: '.onnx', safetensors: '.safetensors', tfjs: '' }[format];
    const target = out ?? join(this.exportsDir, `${ck.run_id.slice(0, 8)}-${ck.kind}-${ck.step}${ext}`);
    const args = ['export', '--checkpoint', ck.path, '--format', format, '--out', target];
    const r = await this.camd(format === 'onnx' ? [...args, '--json'] : args, {
      timeoutMs: 600_000,
      maxBuffer: 1 << 20,
    });
    if (r.code !== 0)
      throw new CamdError(r.code === 2 ? 'input' : 'io', failureLine(r), r.code === 2 ? 'out' : undefined);
    if (format !== 'onnx') return { out: target, message: r.stdout.trim() };
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let onnx: OnnxExport;
    try {
      const j = JSON.parse(line) as { exported?: unknown };
      onnx = OnnxExport.parse({ ...j, kind: j.exported }); // the line's own kind is 'export'
    } catch {
      throw new CamdError('io', `camd export said something other than its JSON line: ${line.slice(0, 200)}`);
    }
    return { out: target, message: `${onnx.kind} → ${target} (ONNX opset ${onnx.opset})`, onnx };
  }
}
