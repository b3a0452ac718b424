/**
 * `camd_launch.py`, the launcher `camd cluster-pack` puts in the box: it imports the authors'
 * released `CAMD_pretrain.py` (github.com/mumumu-wss/CAMD, from `$CAMD_CODE`) and runs its `main()`
 * as it is, supplying what the release lacks to train a run of ours — written here, none of the
 * release's code copied or changed on disk (docs/interop.md says why a launcher and not a 224-px
 * repack):
 *  1. the input size: the released model functions build `CAMDViT` at its 224-px default and
 *     `ImagenetWithMask`'s mask generator is fixed at 224 px and 16-px patches, whatever
 *     `--input_size` says (a 112-px run stops on a pos_embed size mismatch);
 *  2. the model: presets the release has no function for (tiny, small, …) registered beside its own,
 *     with the sizes of our presets;
 *  3. the engine: `CAMD_pretrain_engine.train_one_epoch` unpacks five values from
 *     `CAMDViT.forward_CAMD`, which returns four (it crashes at the first step as shipped); the
 *     fifth, a pixel loss CAMD does not use, is None;
 *  4. where to start: the packed checkpoint (`--camd_start`) only while `--output_dir` holds no
 *     checkpoint of the cluster's own; after that the released auto-resume, which run.sh keeps on
 *     the newest with `--save_latest_freq 1`;
 *  5. PyTorch ≥ 2.6 loads with `weights_only=True`: the released checkpoints' argparse.Namespace is
 *     allowed, or the cluster could not resume its own checkpoints.
 */
import type { PresetName } from '../model/config.js';

/** A model function to register: the sizes of one of our presets (CAMDViT's keyword arguments). */
export interface LaunchedModel {
  name: string;
  preset: PresetName;
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  decoderHeads: number;
  mlpRatio: number;
}

export function launcherScript(models: readonly LaunchedModel[]): string {
  const table =
    models.length === 0
      ? '{}'
      : `{\n${models.map((m) => `    ${JSON.stringify(m.name)}: dict(patch_size=${m.patchSize}, embed_dim=${m.embedDim}, depth=${m.depth}, num_heads=${m.numHeads}, decoder_num_heads=${m.decoderHeads}, mlp_ratio=${m.mlpRatio}),  # our ${m.preset} preset`).join('\n')}\n}`;
  return `#!/usr/bin/env python3
"""Runs the authors' released CAMD pre-training (CAMD_pretrain.py of github.com/mumumu-wss/CAMD,
imported from $CAMD_CODE, its main() run as it is) for the run packed in this folder.
Written by camd cluster-pack (CAMD Studio). None of the released files is copied or changed; this
supplies what the release lacks to train this run:
  1. the input size: the released model functions build CAMDViT at 224 px and ImagenetWithMask's
     mask generator is fixed at 224 px with 16-px patches whatever --input_size says; here both
     follow --input_size and the model's patch size;
  2. the model sizes the release has no function for (MODELS below), beside its own;
  3. the engine: CAMD_pretrain_engine unpacks five values (loss, global_loss, distill_loss,
     pixel_loss, outputs) from CAMDViT.forward_CAMD, which returns four; pixel_loss is None;
  4. where to start: --camd_start FILE (the run as it left the desktop) while --output_dir holds no
     checkpoint of the cluster's own; then the released auto-resume (run.sh passes
     --save_latest_freq 1, so output/checkpoint-latest.pth is always the newest);
  5. PyTorch >= 2.6 loads checkpoints with weights_only=True: the argparse.Namespace the released
     checkpoints hold is allowed.
Every other flag is the released script's own (python3 camd_launch.py --help lists ours).
"""
import argparse
import functools
import glob
import os
import re
import sys

# our presets the released models_CAMD.py has no function for: CAMDViT's keyword arguments
MODELS = ${table}


def main():
    ours = argparse.ArgumentParser(description=__doc__, add_help=False, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter)
    ours.add_argument('--camd_start', default='', help='checkpoint to start from while --output_dir has none of its own')
    ours.add_argument('--help', '-h', action='store_true')
    mine, rest = ours.parse_known_args()
    if mine.help:
        ours.print_help()
        sys.exit(0)
    code = os.environ.get('CAMD_CODE', '')
    if not code or not os.path.isfile(os.path.join(code, 'CAMD_pretrain.py')):
        sys.exit('camd_launch.py: set CAMD_CODE to a checkout of github.com/mumumu-wss/CAMD (%s has no CAMD_pretrain.py)' % (code or 'CAMD_CODE'))
    sys.path.insert(0, os.path.abspath(code))

    import torch
    import models_CAMD
    import CAMD_pretrain

    args = CAMD_pretrain.get_args_parser().parse_args(rest)

    # 2. our sizes beside the released functions; 1. every model function at --input_size
    for name, size in MODELS.items():
        if not hasattr(models_CAMD, name):
            setattr(models_CAMD, name, functools.partial(models_CAMD.CAMDViT, norm_layer=functools.partial(models_CAMD.LayerNorm, eps=1e-6), **size))

    def at_input_size(make):
        @functools.wraps(make)
        def build(**kwargs):
            kwargs.setdefault('img_size', args.input_size)
            return make(**kwargs)
        return build

    for name in [n for n in vars(models_CAMD) if n.startswith('CAMD_vit_')]:
        setattr(models_CAMD, name, at_input_size(getattr(models_CAMD, name)))
    if args.model not in vars(models_CAMD):
        sys.exit('camd_launch.py: models_CAMD.py has no model %s' % args.model)
    patch = MODELS[args.model]['patch_size'] if args.model in MODELS else int(re.search(r'patch(\\d+)', args.model).group(1))
    if args.input_size % patch:
        sys.exit('camd_launch.py: --input_size %d is not a multiple of the %d-px patches of %s' % (args.input_size, patch, args.model))
    CAMD_pretrain.ImagenetWithMask = functools.partial(CAMD_pretrain.ImagenetWithMask, input_size=args.input_size, patch_size=patch)

    # 3. the engine's five values
    forward = models_CAMD.CAMDViT.forward_CAMD

    def forward_CAMD(self, *a, **k):
        out = forward(self, *a, **k)
        return out if len(out) == 5 else (out[0], out[1], out[2], None, out[3])

    models_CAMD.CAMDViT.forward_CAMD = forward_CAMD

    # 5. the released checkpoints' args under weights_only loading
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals([argparse.Namespace])

    # 4. where to start
    own = glob.glob(os.path.join(args.output_dir, 'checkpoint-*.pth')) if args.output_dir else []
    if mine.camd_start and not args.resume and not own:
        if not os.path.isfile(mine.camd_start):
            sys.exit('camd_launch.py: %s (--camd_start) does not exist' % mine.camd_start)
        args.resume = mine.camd_start
        print('camd_launch.py: starting from %s, the run as camd cluster-pack packed it' % mine.camd_start, flush=True)
    elif own:
        print('camd_launch.py: %s holds the cluster\\'s own checkpoints: the released auto-resume picks the newest' % args.output_dir, flush=True)

    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
    CAMD_pretrain.main(args)


if __name__ == '__main__':
    main()
`;
}
