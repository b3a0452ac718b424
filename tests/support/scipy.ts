// Python with numpy and scipy for the head-pose tests: scipy.io.savemat / loadmat are the real
// producer and reader of 300W-LP's and AFLW2000's .mat files, and scipy.spatial.transform an
// independent computation of the rotations. With CI=true a missing scipy fails the test file
// (.ci/run installs python3-scipy); elsewhere the tests that need it are skipped, saying why.
import { spawnSync } from 'node:child_process';

export const scipyPython: string | null =
  [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
    .filter((p): p is string => Boolean(p))
    .find(
      (p) => spawnSync(p, ['-c', 'import numpy, scipy.io, scipy.spatial.transform'], { encoding: 'utf8' }).status === 0,
    ) ?? null;

export const scipyMissing: string | null = scipyPython
  ? null
  : 'no Python with numpy and scipy (install python3-scipy; .ci/run does)';
if (scipyMissing && process.env['CI']) throw new Error(`the head-pose tests need ${scipyMissing}`);

/** Runs a Python script (numpy as np, scipy.io as sio, json and sys imported) with `input` as JSON in `data`; returns its stdout parsed as JSON. */
export function runScipy<T = unknown>(script: string, input: unknown = null): T {
  if (!scipyPython) throw new Error(scipyMissing!);
  const prelude = 'import json, sys\nimport numpy as np\nimport scipy.io as sio\ndata = json.loads(sys.stdin.read())\n';
  const r = spawnSync(scipyPython, ['-c', prelude + script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
