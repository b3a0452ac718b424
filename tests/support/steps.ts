// Runs training steps and returns, per step, the numbers the cross-backend checks compare.
import type { CamdBatch } from '../../trainer/src/model/camd.js';
import type { CamdTrainer } from '../../trainer/src/train/step.js';

/** [loss, dense, global, agmd, grad_norm] for each of n steps on the same batch. */
export async function stepRows(tr: CamdTrainer, b: CamdBatch, n: number): Promise<number[][]> {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const m = await tr.trainStep(b);
    rows.push([m.loss, m.loss_dense, m.loss_global, m.loss_agmd, m.grad_norm]);
  }
  return rows;
}
