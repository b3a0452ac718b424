#!/usr/bin/env python3
"""The authors' released CAMD training step (github.com/mumumu-wss/CAMD), timed on this CPU for
`npm run bench -- --compare-torch --released DIR`: a developer's local check, never CI. The
released code has no licence and is not part of this project: nothing of it is copied here; it is
imported at run time from DIR, a checkout the user gives.

Started with one JSON argument:
  {"code": DIR, "shim": tests/support/released-shim, "argv": [the released CAMD_pretrain.py flags
   of our configuration, from trainer/src/interop/released-args.ts], "model": {imgSize, patchSize,
   embedDim, depth, numHeads, decoderHeads, mlpRatio}, "batch": B, "maskCount": M}
It builds the released CAMDViT at our model's sizes and input size with the args namespace the
released CAMD_pretrain.get_args_parser() makes of those flags (plus --device cpu --fp32), and the
optimiser CAMD_pretrain.py builds (timm's param_groups_weight_decay, AdamW(0.9, beta2)). One step
is what CAMD_pretrain_engine.train_one_epoch does for one batch on a CPU in fp32: forward_CAMD
(EMA update, student, teacher, AGMD), the loss combination (xi_1, xi_2, the distillation weight by
its size), the released NativeScalerWithGradNormCount (disabled: fp32) for backward, gradient
clipping and the AdamW step, then zero_grad. Then it speaks step_protocol.py's line protocol.

What a CPU machine with Debian's packages lacks is supplied before the import, as
tests/support/released-shim does for the released scripts: the shim folder first on sys.path (a
timm stand-in, a `turtle` without tkinter), NumPy's removed np.float/np.int aliases, and a
SummaryWriter that writes nothing where tensorboard is missing.
"""
import functools
import json
import math
import os
import sys
import types

import numpy as np
import torch

from step_protocol import serve


def supply_cpu_environment(shim):
    sys.path.insert(0, os.path.abspath(shim))
    np.float = float
    np.int = int
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        tb = types.ModuleType("torch.utils.tensorboard")

        class SummaryWriter:
            def __init__(self, *args, **kwargs):
                pass

            def __getattr__(self, name):
                return lambda *a, **k: None

        tb.SummaryWriter = SummaryWriter
        sys.modules["torch.utils.tensorboard"] = tb
    try:
        import torch._six  # noqa: F401  (the released util/misc.py imports inf from it; PyTorch 2 removed it)
    except ImportError:
        six = types.ModuleType("torch._six")
        six.inf = math.inf
        sys.modules["torch._six"] = six


def main():
    spec = json.loads(sys.argv[1])
    code, m, B, S = os.path.abspath(spec["code"]), spec["model"], spec["batch"], spec["model"]["imgSize"]
    if not os.path.isfile(os.path.join(code, "models_CAMD.py")):
        sys.exit("released_camd_step.py: %s is no checkout of github.com/mumumu-wss/CAMD (no models_CAMD.py)" % code)
    supply_cpu_environment(spec["shim"])
    sys.path.insert(0, code)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    import CAMD_pretrain
    import models_CAMD
    from timm.optim.optim_factory import param_groups_weight_decay
    from util.misc import LayerNorm, NativeScalerWithGradNormCount

    args = CAMD_pretrain.get_args_parser().parse_args(spec["argv"] + ["--device", "cpu", "--fp32"])
    if args.lr is None:
        args.lr = args.blr * B / 256
    model = models_CAMD.CAMDViT(
        img_size=S, patch_size=m["patchSize"], embed_dim=m["embedDim"], depth=m["depth"], num_heads=m["numHeads"],
        decoder_num_heads=m["decoderHeads"], mlp_ratio=m["mlpRatio"], norm_layer=functools.partial(LayerNorm, eps=1e-6),
        norm_pix_loss=args.norm_pix_loss, args=args,
    )
    model.train(True)
    optimizer = torch.optim.AdamW(param_groups_weight_decay(model, args.weight_decay), lr=args.lr, betas=(0.9, args.beta2))
    loss_scaler = NativeScalerWithGradNormCount(enabled=False, growth_interval=args.amp_growth_interval)

    # one batch as the released ImagenetWithMask yields it: two views, the relative position of view 2
    # in view 1 (offsets, scales, flip), and a mask with maskCount patches of each image masked
    G = S // m["patchSize"]
    x1, x2 = torch.randn(B, 3, S, S), torch.randn(B, 3, S, S)
    mask = torch.zeros(B, G * G, dtype=torch.bool)
    for b in range(B):
        mask[b, torch.randperm(G * G)[: spec["maskCount"]]] = True
    mask = mask.view(B, G, G)
    rel = (
        torch.rand(B) - 0.5, torch.rand(B) - 0.5, 0.5 + torch.rand(B), 0.5 + torch.rand(B),
        torch.rand(B) < 0.5, torch.rand(B) - 0.5,
    )

    def step():
        out = model.forward_CAMD(x1, x2, rel, args.mm, True, mask=mask)
        loss, global_loss, distill_loss = out[0], out[1], out[2]
        loss = loss * args.xi_1 + global_loss * args.xi_2
        if distill_loss is not None:
            if distill_loss > 1.0:
                loss += 0.01 * distill_loss
            elif distill_loss < 1.0:
                loss += args.beta_dis * distill_loss
        loss_value = loss.item()
        loss_scaler(loss, optimizer, parameters=model.parameters(), update_grad=True, clip_grad=args.clip_grad)
        optimizer.zero_grad()
        return loss_value

    serve(step)


if __name__ == "__main__":
    main()
