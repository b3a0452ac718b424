/**
 * Face parsing's metrics as FaRL reports them: per-class F1 (2·TP / (2·TP + FP + FN), from the pixel
 * counts accumulated over the whole test set) and their mean over every class except the
 * background; also the pixel accuracy (pixels whose predicted class is the true one, background
 * included). A class that is neither in the truth nor predicted anywhere has no F1 (null) and is
 * left out of the mean.
 */

export interface ParsingSummary {
  /** F1 per class, index = class (null: the class is neither true nor predicted anywhere). */
  f1: (number | null)[];
  /** Mean of the non-null F1 of classes 1… (background excluded). */
  meanF1: number;
  pixelAccuracy: number;
  /** Images scored. */
  count: number;
}

export class ParsingConfusion {
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;
  private correct = 0;
  private pixels = 0;
  private images = 0;

  constructor(readonly classes: number) {
    this.tp = new Float64Array(classes);
    this.fp = new Float64Array(classes);
    this.fn = new Float64Array(classes);
  }

  /** One image's predicted and true label maps (same size). */
  add(pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    if (pred.length !== truth.length) throw new Error(`${pred.length} predicted pixels for ${truth.length} true`);
    for (let i = 0; i < pred.length; i++) {
      const p = pred[i]!;
      const t = truth[i]!;
      if (p === t) {
        this.tp[t]!++;
        this.correct++;
      } else {
        this.fp[p]!++;
        this.fn[t]!++;
      }
    }
    this.pixels += pred.length;
    this.images++;
  }

  summary(): ParsingSummary {
    const f1: (number | null)[] = [];
    for (let c = 0; c < this.classes; c++) {
      const d = 2 * this.tp[c]! + this.fp[c]! + this.fn[c]!;
      f1.push(d > 0 ? (2 * this.tp[c]!) / d : null);
    }
    const scored = f1.slice(1).filter((v): v is number => v !== null);
    return {
      f1,
      meanF1: scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : 0,
      pixelAccuracy: this.pixels ? this.correct / this.pixels : 0,
      count: this.images,
    };
  }
}
