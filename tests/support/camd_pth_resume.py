"""What CAMD_pretrain.py --resume does with a `camd export --format camd-pth` file, without the
released code (it needs timm, which may not be installed at test time):
  torch.load (weights_only=True from torch 2 on); parameters in the file's order with the released
  requires_grad (no mm_*, no sin-cos tables, no patch embedding); AdamW over timm's
  param_groups_weight_decay grouping (no decay for ndim <= 1 and biases) with betas (0.9, 0.95);
  optimizer.load_state_dict; one optimiser step.
Prints JSON: the epoch, group sizes, and per parameter name (step, sum of exp_avg, sum of exp_avg_sq).
Then saves the file again the way the released scripts save checkpoints (misc.save_model: the
model's own state_dict() — an nn.Module holding these parameters under these names, so an
OrderedDict with `_metadata` — torch's own optimizer state_dict, the loss scaler's state and an
argparse.Namespace of args) to OUT, and the model alone as safetensors to OUT.safetensors.

python3 camd_pth_resume.py IN.pth OUT.pth"""
import argparse, json, sys
import torch

src, out = sys.argv[1], sys.argv[2]
# torch < 2 cannot read Python floats (the optimiser's lr, betas) under weights_only; the released scripts load without it
ck = torch.load(src, map_location='cpu', weights_only=int(torch.__version__.split('.')[0]) >= 2)
sd = ck['model']
BUFFERS = ('.running_mean', '.running_var', '.num_batches_tracked')
frozen = lambda k: k.startswith('mm_') or k in ('pos_embed', 'decoder_pos_embed') or k.startswith('patch_embed.')


def module_of(state):
    """An nn.Module tree whose state_dict() has exactly these names, in this order (a module per dotted
    prefix; parameters, or buffers for BatchNorm's statistics), as the released CAMDViT registers them."""
    root = torch.nn.Module()
    for name, v in state.items():
        *path, leaf = name.split('.')
        m = root
        for part in path:
            if part not in m._modules:
                m.add_module(part, torch.nn.Module())
            m = m._modules[part]
        if name.endswith(BUFFERS):
            m.register_buffer(leaf, v.clone())
        else:
            m.register_parameter(leaf, torch.nn.Parameter(v.clone(), requires_grad=not frozen(name)))
    return root


model = module_of(sd)
assert list(model.state_dict()) == list(sd), 'the module tree does not give the file\'s order'
params = [(k, p) for k, p in model.named_parameters()]
trainable = [(k, p) for k, p in params if p.requires_grad]
no_decay = [p for k, p in trainable if p.ndim <= 1 or k.endswith('.bias')]
decay = [p for k, p in trainable if not (p.ndim <= 1 or k.endswith('.bias'))]
opt = torch.optim.AdamW([{'params': no_decay, 'weight_decay': 0.}, {'params': decay, 'weight_decay': 0.05}], lr=1e-4, betas=(0.9, 0.95))
opt.load_state_dict(ck['optimizer'])

report = {'epoch': ck['epoch'], 'groups': [len(g['params']) for g in opt.param_groups], 'weight_decay': [g['weight_decay'] for g in opt.param_groups], 'state': {}}
for k, p in trainable:
    s = opt.state.get(p)
    if s is None:
        continue
    assert s['exp_avg'].shape == p.shape and s['exp_avg_sq'].shape == p.shape, k
    report['state'][k] = [float(s['step']), float(s['exp_avg'].double().sum()), float(s['exp_avg_sq'].double().sum())]

args = argparse.Namespace(model='CAMD_vit_micro_for_tests', input_size=32, batch_size=2, world_size=2, accum_iter=1, epochs=7, blr=2e-4,
                          warmup_epochs=1, seed=3, with_blockwise_mask=True, blockwise_num_masking_patches=10, output_dir='./output')
saved = model.state_dict()
assert hasattr(saved, '_metadata')
torch.save({'model': saved, 'optimizer': opt.state_dict(), 'epoch': ck['epoch'], 'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000, '_growth_tracker': 0}, 'args': args}, out)

# the model alone as a safetensors file (written by hand: header length, JSON, raw little-endian data)
import struct
blobs, header, pos = [], {}, 0
for k, v in sd.items():
    dt, arr = ('I64', v.numpy().astype('<i8')) if v.dtype == torch.int64 else ('F32', v.contiguous().numpy().astype('<f4'))
    b = arr.tobytes()
    header[k] = {'dtype': dt, 'shape': list(v.shape), 'data_offsets': [pos, pos + len(b)]}
    blobs.append(b); pos += len(b)
h = json.dumps(header).encode()
with open(out + '.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))

# the cluster's first iteration: a step runs on the loaded state
for k, p in trainable:
    p.grad = torch.full_like(p, 1e-3)
opt.step()
report['stepped'] = all(bool(torch.isfinite(p).all()) for _, p in trainable)
print(json.dumps(report))
