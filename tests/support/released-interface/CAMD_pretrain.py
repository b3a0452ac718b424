"""A stand-in for the released CAMD_pretrain.py's interface (github.com/mumumu-wss/CAMD has no
licence: nothing of it is here), for the cluster-pack test of camd_launch.py without the release:
get_args_parser() with the flags run.sh passes, ImagenetWithMask taking input_size/patch_size as
keywords with the release's 224/16 defaults, and main(args), which builds the model the way the
release does (models_CAMD.__dict__[args.model](norm_pix_loss=..., args=args)), the dataset the way
it does (ImagenetWithMask(root, transform=..., with_blockwise_mask=..., blockwise_num_masking_patches=...)),
unpacks five values from forward_CAMD as its engine does, and writes what it saw as JSON to
output_dir/seen.json."""
import argparse
import json
import os

import models_CAMD


def get_args_parser():
    p = argparse.ArgumentParser('stand-in', add_help=False)
    for name, kind in [('batch_size', int), ('epochs', int), ('model', str), ('input_size', int), ('decoder_embed_dim', int), ('projector_depth', int),
                       ('predictor_depth', int), ('warmup_epochs', int), ('blr', float), ('min_lr', float), ('weight_decay', float), ('beta2', float),
                       ('clip_grad', float), ('mm', float), ('mmschedule', str), ('crop_min', float), ('crop_max', float), ('blockwise_num_masking_patches', int),
                       ('loss_type', str), ('neg_weight', float), ('xi_1', float), ('xi_2', float), ('beta_dis', float), ('select_top_k', int), ('seed', int),
                       ('data_path', str), ('output_dir', str), ('log_dir', str), ('save_latest_freq', int), ('resume', str)]:
        p.add_argument('--' + name, type=kind, default='' if name == 'resume' else None)
    p.add_argument('--dis_lay', type=int, nargs='+')
    p.add_argument('--with_blockwise_mask', action='store_true')
    p.add_argument('--train_patch_embed', action='store_true')
    return p


class ImagenetWithMask:
    def __init__(self, root, transform=None, with_blockwise_mask=False, blockwise_num_masking_patches=75, input_size=224, patch_size=16):
        self.root, self.window = root, input_size // patch_size
        self.masked = blockwise_num_masking_patches


def main(args):
    model = models_CAMD.__dict__[args.model](norm_pix_loss=False, args=args)
    data = ImagenetWithMask(os.path.join(args.data_path, 'train'), transform=None, with_blockwise_mask=args.with_blockwise_mask, blockwise_num_masking_patches=args.blockwise_num_masking_patches)
    loss, global_loss, distill_loss, pixel_loss, outputs = model.forward_CAMD(None, None, None, 0.99, True)
    with open(os.path.join(args.output_dir, 'seen.json'), 'w') as f:
        json.dump({'model': model.kwargs, 'window': data.window, 'masked': data.masked, 'resume': args.resume, 'pixel_loss': pixel_loss, 'outputs': outputs}, f)
