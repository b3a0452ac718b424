# A face-geometry model exported by `camd export --format pytorch`, read by PyTorch itself
# (torch.load(weights_only=True)), against the model file it came from (read here with numpy as
# the safetensors it is): every exported tensor is ours in PyTorch's layout, value for value, and a
# 3×3 convolution of the parsing head computed as our matrix product over the nine shifted copies
# equals torch's conv2d with the exported weight. Prints one JSON line; exits 3 without torch.
import json, struct, sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit(3)

ours_path, pth_path = sys.argv[1:3]


def read_safetensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8 : 8 + n])
    h.pop('__metadata__', None)
    base = 8 + n
    return {
        k: np.frombuffer(b[base + v['data_offsets'][0] : base + v['data_offsets'][1]], dtype='<f4').reshape(v['shape'])
        for k, v in h.items()
    }


ours = read_safetensors(ours_path)
d = torch.load(pth_path, weights_only=True)
sd = d['model']
meta = json.loads(d['camd'])
p = meta['model']['patchSize']


def torch_layout(k):
    t = ours[k]
    if k == 'patch_embed.proj.weight':
        return t.reshape(p, p, 3, t.shape[1]).transpose(3, 2, 0, 1)
    if k.startswith('decode.') and k.endswith('.weight'):
        kk = 3 if ('ppm_bottleneck' in k or '.fpn.' in k) else 1
        return t.reshape(kk, kk, t.shape[0] // (kk * kk), t.shape[1]).transpose(3, 2, 0, 1)
    if k.endswith('.weight') and t.ndim == 2:
        return t.T
    return t


diff = max(float(np.abs(sd[k].numpy().reshape(-1) - torch_layout(k).reshape(-1)).max()) for k in sd)
shapes_match = all(list(sd[k].shape) == list(torch_layout(k).shape) for k in sd if k != 'cls_token')
conv = None
if 'decode.fpn.0.weight' in ours:
    w, b = ours['decode.fpn.0.weight'], ours['decode.fpn.0.bias']
    cin = w.shape[0] // 9
    x = np.random.default_rng(0).standard_normal((1, 5, 6, cin)).astype(np.float32)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    shifted = np.concatenate([xp[:, dy : dy + 5, dx : dx + 6, :] for dy in range(3) for dx in range(3)], -1)
    mine = shifted @ w + b
    theirs = torch.nn.functional.conv2d(
        torch.from_numpy(x).permute(0, 3, 1, 2), sd['decode.fpn.0.weight'], sd['decode.fpn.0.bias'], padding=1
    )
    conv = float(np.abs(mine - theirs.permute(0, 2, 3, 1).numpy()).max())
print(json.dumps({'keys': {k: list(v.shape) for k, v in sd.items()}, 'meta': meta, 'diff': diff, 'shapes_match': shapes_match, 'conv': conv}))
