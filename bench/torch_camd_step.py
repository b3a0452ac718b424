#!/usr/bin/env python3
"""Reference CAMD training step in PyTorch, written from the method (docs/method.md; not the release),
for `npm run bench -- --compare-torch`, and the independent check of the trainer's objective
(`--check FILE`, tests/integration/torch-parity.test.ts): it installs nothing.

--check FILE: FILE is a tensor file written by the test (our checkpoint layout: 8-byte header
length, JSON header, raw float32) with the trainer's initial weights under our names and layouts,
the batch (batch.x1, batch.x2 NHWC, batch.mask 1 = masked, batch.rel the relative embedding), and
in its metadata the model, loss and optimiser settings, each step's lr and EMA momentum and the
names of the gradients to report. It loads them into this module (Linear weights transposed, the
patch embedding reshaped to a convolution), runs the steps and prints one JSON line per step:
every loss term, the gradient norm before clipping and the named gradients in our layout.

Protocol: started with one JSON argument (the model configuration of the tfjs side); it then
speaks step_protocol.py's line protocol, where "step" runs one full training step (EMA update,
teacher forward, student forward, dense + global + AGMD losses, backward, global-norm clipping,
AdamW); "threads T B" sets torch's intra-op threads and OpenBLAS's separately.
"""
import copy
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from step_protocol import serve


def sincos_2d(dim, grid, cls=True):
    f = dim // 4
    omega = 1.0 / (10000 ** (torch.arange(f, dtype=torch.float64) / f))
    rows = []
    for r in range(grid):
        for c in range(grid):
            a, b = r * omega, c * omega
            rows.append(torch.cat([torch.sin(a), torch.cos(a), torch.sin(b), torch.cos(b)]))
    t = torch.stack(rows).float()
    if cls:
        t = torch.cat([torch.zeros(1, dim), t])
    return t.unsqueeze(0)


class PermuteBN(nn.Module):  # BN1d over channels, statistics over batch x tokens (method.md §2)
    def __init__(self, dim):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim, eps=1e-5)

    def forward(self, x):
        return self.bn(x.permute(0, 2, 1)).permute(0, 2, 1)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.h = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, L, C = x.shape
        qkv = self.qkv(x).reshape(B, L, 3, self.h, C // self.h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q * self.scale) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, L, C))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, bn):
        super().__init__()
        norm = (lambda: PermuteBN(dim)) if bn else (lambda: nn.LayerNorm(dim, eps=1e-6))
        self.norm1, self.attn, self.norm2 = norm(), Attention(dim, heads), norm()
        hidden = int(dim * mlp_ratio)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class TopKAttention(nn.Module):  # AGMD (§3.3)
    def __init__(self, dim, heads, k):
        super().__init__()
        self.h, self.k = heads, k
        self.q, self.kp, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, local, glob):
        B, V, C = local.shape
        N = glob.shape[1]
        d = C // self.h
        q = self.q(local).reshape(B, V, self.h, d).transpose(1, 2)
        k = self.kp(glob).reshape(B, N, self.h, d).transpose(1, 2)
        v = self.v(glob).reshape(B, N, self.h, d).transpose(1, 2)
        s = q @ k.transpose(-2, -1) / math.sqrt(d)
        val, idx = s.topk(self.k, dim=-1)
        a = val.softmax(-1)
        g = torch.gather(v.unsqueeze(2).expand(B, self.h, V, N, d), 3, idx.unsqueeze(-1).expand(B, self.h, V, self.k, d))
        return self.o((a.unsqueeze(-1) * g).sum(3).transpose(1, 2).reshape(B, V, C))


class CAMD(nn.Module):
    def __init__(self, m):
        super().__init__()
        C, D, p, S = m["embedDim"], m["decoderDim"], m["patchSize"], m["imgSize"]
        self.m, self.G = m, S // p
        self.N = self.G * self.G
        self.patch_embed = nn.Conv2d(3, C, p, p)
        self.patch_embed.requires_grad_(False)
        self.cls_token = nn.Parameter(torch.randn(1, 1, C) * 0.02)
        self.register_buffer("pos_embed", sincos_2d(C, self.G))
        self.register_buffer("decoder_pos_embed", sincos_2d(D, self.G))
        self.blocks = nn.ModuleList(Block(C, m["numHeads"], m["mlpRatio"], False) for _ in range(m["depth"]))
        self.decoder_embed = nn.Linear(C, D)
        self.projector = nn.ModuleList(Block(D, m["decoderHeads"], m["mlpRatio"], True) for _ in range(m["projectorDepth"]))
        self.predictor = nn.ModuleList(Block(D, m["decoderHeads"], m["mlpRatio"], True) for _ in range(m["predictorDepth"]))
        self.mask_token = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.decoder_pred = nn.Linear(D, D)
        self.decoder_pos_mlp = nn.Linear(2 * D, D)
        self.agmd = TopKAttention(C, m["numHeads"], m["topK"])
        for n in ["patch_embed", "blocks", "decoder_embed", "projector"]:
            mod = copy.deepcopy(getattr(self, n))
            mod.requires_grad_(False)
            setattr(self, "mm_" + n, mod)
        self.mm_cls_token = nn.Parameter(self.cls_token.detach().clone(), requires_grad=False)
        self.mm_mask_token = nn.Parameter(self.mask_token.detach().clone(), requires_grad=False)
        self.teacher_norm = nn.LayerNorm(D, eps=1e-5, elementwise_affine=False)
        self.ema_pairs = [(getattr(self, "mm_" + n), getattr(self, n)) for n in ["patch_embed", "blocks", "decoder_embed", "projector"]]

    @torch.no_grad()
    def ema(self, mm):
        for tgt, src in self.ema_pairs:
            for pt, ps in zip(tgt.parameters(), src.parameters()):
                pt.mul_(mm).add_(ps.detach(), alpha=1 - mm)
        self.mm_cls_token.mul_(mm).add_(self.cls_token.detach(), alpha=1 - mm)
        self.mm_mask_token.mul_(mm).add_(self.mask_token.detach(), alpha=1 - mm)

    def forward(self, x1, x2, mask, rel, mm):
        B, layers = x1.shape[0], set(self.m["distillLayers"])
        p = self.patch_embed(x1).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        V = self.N - int(mask[0].sum())
        x = torch.cat([self.cls_token.expand(B, -1, -1), p[~mask].reshape(B, V, -1)], 1)
        locals_ = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in layers:
                locals_.append(x[:, 1:])
        z = self.decoder_embed(x)
        for blk in self.projector:
            z = blk(z)
        vis_pos = self.decoder_pos_embed[:, 1:].expand(B, -1, -1)[~mask].reshape(B, V, -1)
        h = torch.cat([z[:, :1], z[:, 1:] + vis_pos, self.mask_token + self.decoder_pos_mlp(rel)], 1)
        for blk in self.predictor:
            h = blk(h)
        pred = self.decoder_pred(h[:, -self.N:])
        with torch.no_grad():
            self.ema(mm)
            t = self.mm_patch_embed(x2).flatten(2).transpose(1, 2)
            t = torch.cat([self.mm_cls_token.expand(B, -1, -1), t], 1) + self.pos_embed
            globals_ = []
            for i, blk in enumerate(self.mm_blocks):
                t = blk(t)
                if i in layers:
                    globals_.append(t[:, 1:])
            t = self.mm_decoder_embed(t)
            for blk in self.mm_projector:
                t = blk(t)
            target = t[:, 1:]
        return pred, target, locals_, globals_


def unigrad(P, T, lam):
    n, D = P.shape
    pos = ((P - T) ** 2).sum(1).mean()
    C = T.t() @ T / n
    neg = ((P @ C) * P).sum(1).mean()
    return (pos + lam * neg) / D


def read_tensor_file(path):
    """Our tensor file (safetensors layout): {name: float32 tensor}, metadata state (parsed JSON)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    meta = header.pop("__metadata__")
    out = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:en]), dtype=torch.float32).reshape(e["shape"])
    return out, json.loads(meta["state"])


# our parameter names → this module's, with the layout change (our Linear weights are (in, out))
NAME_RULES = [
    (r"patch_embed\.proj\.(weight|bias)", r"patch_embed.\1"),
    (r"cls_token", "cls_token"),
    (r"mask_token", "mask_token"),
    (r"blocks\.(\d+)\.(norm[12])\.(weight|bias)", r"blocks.\1.\2.\3"),
    (r"blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)", r"blocks.\1.attn.\2.\3"),
    (r"blocks\.(\d+)\.mlp\.(fc[12])\.(weight|bias)", r"blocks.\1.\2.\3"),
    (r"projector_decoder_blocks\.(\d+)\.(norm[12])\.(weight|bias)", r"projector.\1.\2.bn.\3"),
    (r"projector_decoder_blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)", r"projector.\1.attn.\2.\3"),
    (r"projector_decoder_blocks\.(\d+)\.mlp\.(fc[12])\.(weight|bias)", r"projector.\1.\2.\3"),
    (r"predictor_decoder_blocks\.(\d+)\.(norm[12])\.(weight|bias)", r"predictor.\1.\2.bn.\3"),
    (r"predictor_decoder_blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias)", r"predictor.\1.attn.\2.\3"),
    (r"predictor_decoder_blocks\.(\d+)\.mlp\.(fc[12])\.(weight|bias)", r"predictor.\1.\2.\3"),
    (r"(decoder_embed|decoder_pred|decoder_pos_mlp)\.(weight|bias)", r"\1.\2"),
    (r"multihead_attention_topk\.q_proj\.(weight|bias)", r"agmd.q.\1"),
    (r"multihead_attention_topk\.k_proj\.(weight|bias)", r"agmd.kp.\1"),
    (r"multihead_attention_topk\.v_proj\.(weight|bias)", r"agmd.v.\1"),
    (r"multihead_attention_topk\.out_proj\.(weight|bias)", r"agmd.o.\1"),
]


def torch_name(ours):
    import re

    pre = ""
    if ours.startswith("mm_"):
        pre, ours = "mm_", ours[3:]
    for pat, rep in NAME_RULES:
        if re.fullmatch(pat, ours):
            return pre + re.sub(pat, rep, ours)
    raise KeyError(f"no PyTorch name for {pre}{ours}")


def to_torch_layout(ours_name, t, patch):
    base = ours_name[3:] if ours_name.startswith("mm_") else ours_name
    if base == "patch_embed.proj.weight":  # (p·p·3, C), rows (row, col, channel) → conv (C, 3, p, p)
        return t.reshape(patch, patch, 3, -1).permute(3, 2, 0, 1).contiguous()
    if base.endswith(".weight") and t.dim() == 2:
        return t.t().contiguous()
    return t


def from_torch_layout(ours_name, t, patch):
    base = ours_name[3:] if ours_name.startswith("mm_") else ours_name
    if base == "patch_embed.proj.weight":
        return t.permute(2, 3, 1, 0).reshape(patch * patch * 3, -1)
    if base.endswith(".weight") and t.dim() == 2:
        return t.t()
    return t


def check(path):
    tensors, spec = read_tensor_file(path)
    m, loss_cfg, optim = spec["model"], spec["loss"], spec["optim"]
    torch.manual_seed(0)
    model = CAMD(m)
    if m.get("trainPatchEmbed"):
        model.patch_embed.requires_grad_(True)
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    loaded = set()
    with torch.no_grad():
        for name, t in tensors.items():
            if name.startswith("batch."):
                continue
            tn = torch_name(name)
            target = params.get(tn)
            if target is None:
                target = buffers[tn]
            target.copy_(to_torch_layout(name, t, m["patchSize"]))
            loaded.add(tn)
    missing = [n for n in params if n not in loaded]
    if missing:
        raise SystemExit(f"weights not in the file: {missing[:5]}")
    x1 = tensors["batch.x1"].permute(0, 3, 1, 2).contiguous()
    x2 = tensors["batch.x2"].permute(0, 3, 1, 2).contiguous()
    mask = tensors["batch.mask"] > 0.5
    rel = tensors["batch.rel"]
    decay, no_decay = [], []
    for n, prm in model.named_parameters():
        if prm.requires_grad:
            (no_decay if prm.ndim <= 1 or n.endswith(".bias") else decay).append(prm)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": optim["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(optim["beta1"], optim["beta2"]), eps=optim["eps"],
    )
    lam = loss_cfg["negWeight"]
    for st in spec["steps"]:
        for g in opt.param_groups:
            g["lr"] = st["lr"]
        pred, target, locs, globs = model(x1, x2, mask, rel, st["mm"])
        D = pred.shape[-1]
        dense = unigrad(pred.reshape(-1, D), model.teacher_norm(target).reshape(-1, D), lam)
        glob_t = model.teacher_norm(target) if loss_cfg.get("globalNormalisedTarget") else target
        glob = unigrad(pred.mean(0), glob_t.mean(0), lam)
        agmd = sum(F.mse_loss(l.mean(1), model.agmd(l, g).mean(1)) for l, g in zip(locs, globs))
        a = agmd.item()
        wd = loss_cfg["agmdWeightAbove1"] if a > 1 else (loss_cfg["agmdWeightBelow1"] if a < 1 else 0.0)
        loss = loss_cfg["denseWeight"] * dense + loss_cfg["globalWeight"] * glob + wd * agmd
        opt.zero_grad()
        loss.backward()
        grads = {n: from_torch_layout(n, params[torch_name(n)].grad, m["patchSize"]).reshape(-1).tolist() for n in spec["grads"]}
        norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], optim["clipGrad"])
        opt.step()
        print(json.dumps({"loss": loss.item(), "dense": dense.item(), "global": glob.item(), "agmd": a, "grad_norm": norm.item(), "grads": grads}), flush=True)


def main():
    if sys.argv[1] == "--check":
        torch.set_num_threads(1)
        check(sys.argv[2])
        return
    m = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(1)
    B, S = m["batch"], m["imgSize"]
    model = CAMD(m)
    decay, no_decay = [], []
    for n, prm in model.named_parameters():
        if not prm.requires_grad:
            continue
        (no_decay if prm.ndim <= 1 or n.endswith(".bias") else decay).append(prm)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.95))
    x1, x2 = torch.randn(B, 3, S, S), torch.randn(B, 3, S, S)
    N = model.N
    mask = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B):
        mask[b, torch.randperm(N)[: m["maskCount"]]] = True
    rel = torch.randn(B, N, 2 * m["decoderDim"])

    def step():
        pred, target, locs, globs = model(x1, x2, mask, rel, 0.995)
        D = pred.shape[-1]
        dense = unigrad(pred.reshape(-1, D), model.teacher_norm(target).reshape(-1, D), 0.02)
        glob = unigrad(pred.mean(0), target.mean(0), 0.02)
        agmd = sum(F.mse_loss(l.mean(1), model.agmd(l, g).mean(1)) for l, g in zip(locs, globs))
        wd = 0.01 if agmd.item() > 1 else (0.1 if agmd.item() < 1 else 0.0)
        loss = dense + 0.25 * glob + wd * agmd
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        return loss.item()

    serve(step)


if __name__ == "__main__":
    main()
