// The order test files start in: the longest first, so that with two files at a time (two cores)
// no long file starts last and runs alone at the end. vitest's own order on a fresh clone (no
// timing cache) is by file size, which started the 129-s vit-base test last (1,015 s for the
// suite). The seconds are those of a fresh-clone `.ci/run` on a 2-core VM (2026-12-06); a file
// not listed keeps vitest's order after them.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  'tests/integration/contract.test.ts': 179,
  'tests/integration/crash-safety.test.ts': 177,
  'tests/integration/pretrain.test.ts': 176,
  'tests/e2e/app.e2e.test.ts': 174,
  'tests/integration/vit-base.test.ts': 110,
  'tests/integration/cli-errors.test.ts': 97,
  'tests/integration/faces.test.ts': 103,
  'tests/integration/finetune.test.ts': 55,
  'tests/integration/torch-file.test.ts': 49,
  'tests/integration/probe.test.ts': 48,
  'tests/electron/shell.test.ts': 62,
  'tests/integration/finetune-safety.test.ts': 45,
  'tests/integration/camd-continue.test.ts': 44,
  'tests/integration/torch-parity.test.ts': 39,
  'tests/integration/predict.test.ts': 34,
  'tests/integration/landmarks.test.ts': 21,
  'tests/e2e/landmarks.e2e.test.ts': 83,
  'tests/integration/parsing.test.ts': 37,
  'tests/integration/pose.test.ts': 33,
  'tests/integration/cli-output.test.ts': 31,
  'tests/integration/camd-export.test.ts': 22,
  'tests/integration/worker.test.ts': 21,
  'tests/integration/faces-ordinary.test.ts': 21,
  'tests/integration/faces-report.test.ts': 20,
  'tests/integration/cluster-pack.test.ts': 18,
  'tests/electron/release-check.test.ts': 17,
  'tests/electron/packaging.test.ts': 17,
  'tests/integration/wasm-threads-race.test.ts': 15,
  'tests/integration/scan.test.ts': 14,
  'tests/integration/cli-info.test.ts': 12,
  'tests/integration/export.test.ts': 11,
  'tests/electron/web-data-dir.test.ts': 11,
  'tests/unit/webgpu-backend.test.ts': 10,
  'tests/integration/scan-skipped.test.ts': 10,
  'tests/integration/pil-parity.test.ts': 9,
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
