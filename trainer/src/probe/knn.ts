/**
 * Weighted k-nearest-neighbour classification of features, as DINO's k-NN evaluation: features
 * L2-normalised, cosine similarity to every training feature, the k most similar vote with weight
 * exp(similarity / T). One class per face (task 'fer'): the class with the largest vote. Binary
 * attributes ('far'): per attribute, the neighbours' weighted mean of the label decides (> ½ → 1).
 */
export const KNN_K = 20;
export const KNN_T = 0.07;

export interface Split {
  x: Float32Array[];
  /** 'fer': [class]; 'far': one 0/1 per attribute. */
  y: number[][];
}

function normalised(x: Float32Array): Float64Array {
  let s = 0;
  for (let d = 0; d < x.length; d++) s += x[d]! * x[d]!;
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(x, (v) => v / n);
}

/** Accuracy on `test`: top-1 for classes, mean over attributes and faces for attributes. */
export function knnAccuracy(task: 'far' | 'fer', K: number, train: Split, test: Split, k = KNN_K, T = KNN_T): number {
  if (train.x.length === 0 || test.x.length === 0) return 0;
  const tr = train.x.map(normalised);
  const kk = Math.min(k, tr.length);
  let correct = 0;
  let total = 0;
  const sims = new Float64Array(tr.length);
  const order = tr.map((_, i) => i);
  for (let t = 0; t < test.x.length; t++) {
    const q = normalised(test.x[t]!);
    for (let i = 0; i < tr.length; i++) {
      let s = 0;
      const v = tr[i]!;
      for (let d = 0; d < q.length; d++) s += q[d]! * v[d]!;
      sims[i] = s;
    }
    // the k most similar (ties: the earlier training item first, so the answer is deterministic)
    order.sort((a, b) => sims[b]! - sims[a]! || a - b);
    const top = order.slice(0, kk);
    if (task === 'fer') {
      const votes = new Float64Array(K);
      for (const i of top) votes[train.y[i]![0]!]! += Math.exp(sims[i]! / T);
      let best = 0;
      for (let c = 1; c < K; c++) if (votes[c]! > votes[best]!) best = c;
      correct += best === test.y[t]![0] ? 1 : 0;
      total++;
    } else {
      for (let a = 0; a < K; a++) {
        let w1 = 0;
        let w = 0;
        for (const i of top) {
          const e = Math.exp(sims[i]! / T);
          w += e;
          w1 += e * train.y[i]![a]!;
        }
        correct += (w1 / w > 0.5 ? 1 : 0) === test.y[t]![a] ? 1 : 0;
        total++;
      }
    }
  }
  return correct / total;
}
