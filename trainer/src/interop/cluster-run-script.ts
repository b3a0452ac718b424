/**
 * The `run.sh` of a `camd cluster-pack` box (cluster-pack.ts): how to run it, then the
 * `torchrun --nproc_per_node=N camd_launch.py …` line with the released flags of the run.
 */
import { join } from 'node:path';
import type { FlagValue } from './released-args.js';

/** Where the packed checkpoint goes in the box (outside output/, which is the cluster's). */
export const PACKED_START = join('start', 'checkpoint.pth');

/** The flags on the command line: switches bare, lists spread, strings quoted where the shell needs it. */
function flagLine(flags: Record<string, FlagValue>): string {
  return Object.entries(flags)
    .filter(([, v]) => v !== false && v !== null)
    .map(([k, v]) =>
      v === true
        ? `--${k}`
        : Array.isArray(v)
          ? `--${k} ${v.join(' ')}`
          : `--${k} ${typeof v === 'string' && /[^\w./:-]/.test(v) ? `'${v}'` : v}`,
    )
    .join(' \\\n    ');
}

/** What run.sh says and runs: the run packed, its GPUs, its flags, and the checkpoint it starts from (if packed). */
export interface RunScriptInput {
  runDir: string;
  gpus: number;
  epochs: number;
  flags: Record<string, FlagValue>;
  resume: { step: number; epoch: number } | null;
}

export function runScript(r: RunScriptInput): string {
  const { runDir, gpus, epochs, resume } = r;
  const line = flagLine(r.flags);
  return `#!/bin/sh
# Pre-train with the authors' released code (github.com/mumumu-wss/CAMD) on ${gpus} GPU(s) — made by camd cluster-pack
# from ${runDir}. On the GPU box, with this folder copied there and a checkout of that repository (and its
# requirements: PyTorch, torchvision, timm 0.6.12, tensorboard):
#   CAMD_CODE=/path/to/CAMD NUM_GPUS=${gpus} sh run.sh
# It runs in this folder: data/ is read, output/ written; camd_launch.py runs the released CAMD_pretrain.py as it is
# and supplies what it lacks (see its first lines). Run it again to go on: the cluster's own newest checkpoint wins.
# Then bring the run back:  camd import-run output   (and carry it on: camd pretrain --continue output/checkpoint-latest.pth)
${
  resume
    ? `# ${PACKED_START} holds ${runDir} at step ${resume.step} (${resume.epoch + 1} of ${epochs} epochs done), with its AdamW state:
# the run starts from it while output/ holds no checkpoint of the cluster's own.
`
    : ''
}set -e
cd "$(dirname "$0")"
: "\${CAMD_CODE:?set CAMD_CODE to a checkout of github.com/mumumu-wss/CAMD}"
export CAMD_CODE
torchrun --nproc_per_node=\${NUM_GPUS:-${gpus}} camd_launch.py ${resume ? `--camd_start ${PACKED_START.replace(/\\/g, '/')} ` : ''}\\
    ${line}
`;
}
