// The order test files start in: the longest first, so that with two files at a time (two cores)
// no long file starts last and runs alone at the end. vitest's own order on a fresh clone (no
// timing cache) is by file size, which started the 129-s vit-base test last (1,015 s for the
// suite). The seconds are those of a fresh-clone `.ci/run` on a 2-core VM (2026-12-06, 17 min 36 s in
// all); a file under 5 s is not listed and keeps vitest's order after them.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  'tests/integration/contract.test.ts': 162,
  'tests/e2e/app.e2e.test.ts': 150,
  'tests/integration/pretrain.test.ts': 132,
  'tests/integration/crash-safety.test.ts': 130,
  'tests/integration/faces.test.ts': 98,
  'tests/integration/vit-base.test.ts': 94,
  'tests/integration/cli-errors.test.ts': 90,
  'tests/e2e/landmarks.e2e.test.ts': 76,
  'tests/electron/shell.test.ts': 54,
  'tests/integration/torch-file.test.ts': 44,
  'tests/integration/probe.test.ts': 44,
  'tests/integration/torch-parity.test.ts': 43,
  'tests/integration/finetune-safety.test.ts': 38,
  'tests/integration/camd-continue.test.ts': 36,
  'tests/integration/finetune.test.ts': 35,
  'tests/integration/parsing.test.ts': 35,
  'tests/integration/pose.test.ts': 31,
  'tests/integration/predict.test.ts': 27,
  'tests/integration/faces-ordinary.test.ts': 27,
  'tests/integration/landmarks.test.ts': 23,
  'tests/electron/release-check.test.ts': 20,
  'tests/integration/camd-export.test.ts': 18,
  'tests/integration/faces-report.test.ts': 18,
  'tests/integration/cli-output.test.ts': 17,
  'tests/electron/packaging.test.ts': 17,
  'tests/integration/worker.test.ts': 15,
  'tests/integration/cluster-pack.test.ts': 14,
  'tests/integration/wasm-threads-race.test.ts': 13,
  'tests/integration/scan.test.ts': 12,
  'tests/integration/scan-skipped.test.ts': 11,
  'tests/integration/cli-info.test.ts': 10,
  'tests/integration/export.test.ts': 10,
  'tests/electron/web-data-dir.test.ts': 8,
  'tests/unit/webgpu-backend.test.ts': 8,
  'tests/integration/pil-parity.test.ts': 8,
  'tests/e2e/host-restart.e2e.test.ts': 6,
  'tests/renderer/pretrain-form.test.ts': 5,
  'tests/unit/fused-kernels.test.ts': 5,
  'tests/unit/train-step.test.ts': 5,
  'tests/unit/wasm-memory.test.ts': 5,
  'tests/unit/recompute.test.ts': 5,
};

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const seconds = (f: TestSpecification) =>
      SECONDS[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')] ?? 0;
    // a stable sort: the listed files by their time, then the rest in vitest's order
    return base
      .map((f, i) => ({ f, i, s: seconds(f) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map((x) => x.f);
  }
}
