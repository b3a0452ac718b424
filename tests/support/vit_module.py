"""An independent PyTorch ViT classifier with timm's / the released models_vit.py's parameter names
(global_pool: fc_norm over the mean of the patch tokens, then head), for the export check: loads
FILE's {'model': state_dict} with load_state_dict(strict=True) and prints the logits of a fixed
input (the second line of FEATURES, NHWC) on one line.

python3 vit_module.py FILE.pth FEATURES WIDTH DEPTH HEADS PATCH SIZE CLASSES

Also imported (make_vit) by torch_files.py, which saves such modules with torch.save."""
import sys
import torch
from torch import nn


def make_vit(C, depth, heads, p, S, K):
    """A ViT classifier module with timm's names: C wide, depth blocks, heads, p-px patches, S px, K classes."""
    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)

        def forward(self, x):
            B, N, _ = x.shape
            q, k, v = self.qkv(x).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
            a = ((q * (C // heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
            return self.proj((a @ v).transpose(1, 2).reshape(B, N, C))


    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(C, 4 * C)
            self.fc2 = nn.Linear(4 * C, C)

        def forward(self, x):
            return self.fc2(nn.functional.gelu(self.fc1(x)))


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(C, eps=1e-6)
            self.attn = Attention()
            self.norm2 = nn.LayerNorm(C, eps=1e-6)
            self.mlp = Mlp()

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))


    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(3, C, p, p)


    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbed()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, C))
            self.pos_embed = nn.Parameter(torch.zeros(1, (S // p) ** 2 + 1, C))
            self.blocks = nn.ModuleList(Block() for _ in range(depth))
            self.fc_norm = nn.LayerNorm(C, eps=1e-6)
            self.head = nn.Linear(C, K)

        def forward(self, x):
            h = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
            h = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), h], 1) + self.pos_embed
            for b in self.blocks:
                h = b(h)
            return self.head(self.fc_norm(h[:, 1:].mean(1)))

    return ViT()


if __name__ == '__main__':
    file, features = sys.argv[1], sys.argv[2]
    C, depth, heads, p, S, K = (int(v) for v in sys.argv[3:9])
    m = make_vit(C, depth, heads, p, S, K)
    m.load_state_dict(torch.load(file, map_location='cpu', weights_only=True)['model'], strict=True)
    x = torch.tensor([float(v) for v in open(features).read().split('\n')[1].split()]).reshape(-1, S, S, 3).permute(0, 3, 1, 2)
    with torch.no_grad():
        print(' '.join(repr(float(v)) for v in m(x).flatten().tolist()))

