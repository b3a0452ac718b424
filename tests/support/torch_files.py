"""Writes PyTorch files for the .pth reader's tests (run with a Python that has torch): what
PyTorch itself writes — state dicts of real torch.nn modules (an OrderedDict carrying `_metadata`),
through DistributedDataParallel on gloo, in float16 and bfloat16, the released scripts' checkpoint
dict (model, AdamW optimizer, epoch, GradScaler, argparse.Namespace) — and hostile or broken ones.
python3 torch_files.py OUTDIR"""
import argparse, collections, copy, io, os, pickle, struct, sys, zipfile
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_module import make_vit

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(0)
a = torch.randn(4, 6, generator=g)
state = collections.OrderedDict()
state['blocks.0.attn.qkv.weight'] = a
state['blocks.0.attn.qkv.weight_t'] = a.t()                      # a strided view sharing a's storage
state['slice'] = a[1:3, 2:5]                                      # an offset into the storage
state['half'] = torch.randn(3, 2, generator=g).half()
state['bf16'] = torch.randn(5, generator=g).to(torch.bfloat16)
state['double'] = torch.randn(2, 2, generator=g).double()
state['num_batches_tracked'] = torch.tensor(7)
state['param'] = torch.nn.Parameter(torch.randn(2, 3, generator=g))
state['scalar'] = torch.tensor(3.5)
args = argparse.Namespace(model='vit_tiny', input_size=112, mask_ratio=0.6, blr=1.5e-4)
torch.save({'model': state, 'epoch': 41, 'args': args, 'acc': 0.875, 'tags': ['a', 'b'], 'pair': (1, 2)}, os.path.join(out, 'good.pth'))
# every value, flattened and row-major, to compare with
with open(os.path.join(out, 'good.expected'), 'w') as f:
    for k, v in state.items():
        f.write(k + ' ' + str(list(v.shape)).replace(' ', '') + ' ' + ' '.join(repr(float(x)) for x in v.detach().float().flatten().tolist()) + '\n')
torch.save({'w': a}, os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)

# hostile: a state dict whose pickle calls os.system
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ' + os.path.join(out, 'PWNED'),))
torch.save({'w': a, 'evil': Evil()}, os.path.join(out, 'evil-os-system.pth'))
class Eval:
    def __reduce__(self):
        return (eval, ("open(" + repr(os.path.join(out, 'PWNED2')) + ", 'w').write('x')",))
torch.save({'evil': Eval()}, os.path.join(out, 'evil-eval.pth'))
# hostile graphs, saved by torch.save itself (its pickler's memo makes them small): dicts that hold
# the previous one twice, 40 levels deep (2^40 paths in under 2 KB: "billion laughs"), a dict and a
# list that contain themselves, and 300 nested lists
laughs = {'w': a}
for _ in range(40):
    laughs = {'x': laughs, 'y': laughs}
torch.save(laughs, os.path.join(out, 'laughs.pth'))
me = {'w': a}
me['me'] = me
torch.save(me, os.path.join(out, 'self-dict.pth'))
loop = [a]
loop.append(loop)
torch.save({'model': loop}, os.path.join(out, 'self-list.pth'))
deep = [a]
for _ in range(300):
    deep = [deep]
torch.save({'model': deep}, os.path.join(out, 'deep.pth'))
# zip bombs: good.pth's entries again, deflated, plus an entry of 200 MB of zeros nobody refers to;
# and one whose storage entry holds 200 MB more than its tensor (both about 200 KB on disk)
import zipfile
with zipfile.ZipFile(os.path.join(out, 'good.pth')) as src:
    names = src.namelist()
    prefix = names[0].split('/')[0]
    with zipfile.ZipFile(os.path.join(out, 'bomb-unused.pth'), 'w', zipfile.ZIP_DEFLATED) as z:
        for n in names:
            z.writestr(n, src.read(n))
        z.writestr(prefix + '/data/zeros', b'\0' * (200 << 20))
    with zipfile.ZipFile(os.path.join(out, 'bomb-storage.pth'), 'w', zipfile.ZIP_DEFLATED) as z:
        for n in names:
            d = src.read(n)
            if n == prefix + '/data/0':
                d = d + b'\0' * (200 << 20)
            z.writestr(n, d)
# truncated: the archive cut in half
with open(os.path.join(out, 'good.pth'), 'rb') as f:
    data = f.read()
with open(os.path.join(out, 'truncated.pth'), 'wb') as f:
    f.write(data[: len(data) // 2])
print('ok')

# a timm-style ViT (the micro preset's shape: 32 wide, 2 deep, 2 heads, 8-px patches, 32 px), its
# weights saved as a DDP checkpoint {'model': {'module.…': …}}, and the features of a fixed input as
# an independent PyTorch forward computes them: LayerNorm(mean of the patch tokens), eps 1e-6
C, depth, heads, p, S = 32, 2, 2, 8, 32
N = (S // p) ** 2
g = torch.Generator().manual_seed(1)
r = lambda *s: torch.randn(*s, generator=g) * 0.2
vit = collections.OrderedDict()
vit['cls_token'] = r(1, 1, C)
vit['pos_embed'] = r(1, N + 1, C)
vit['patch_embed.proj.weight'] = r(C, 3, p, p)
vit['patch_embed.proj.bias'] = r(C)
for i in range(depth):
    b = f'blocks.{i}.'
    vit[b + 'norm1.weight'] = 1 + r(C); vit[b + 'norm1.bias'] = r(C)
    vit[b + 'attn.qkv.weight'] = r(3 * C, C); vit[b + 'attn.qkv.bias'] = r(3 * C)
    vit[b + 'attn.proj.weight'] = r(C, C); vit[b + 'attn.proj.bias'] = r(C)
    vit[b + 'norm2.weight'] = 1 + r(C); vit[b + 'norm2.bias'] = r(C)
    vit[b + 'mlp.fc1.weight'] = r(4 * C, C); vit[b + 'mlp.fc1.bias'] = r(4 * C)
    vit[b + 'mlp.fc2.weight'] = r(C, 4 * C); vit[b + 'mlp.fc2.bias'] = r(C)
vit['fc_norm.weight'] = 1 + r(C); vit['fc_norm.bias'] = r(C)
vit['head.weight'] = r(7, C); vit['head.bias'] = r(7)
# the module itself, with these weights: what torch.save writes is its state_dict(), an OrderedDict with _metadata
module = make_vit(C, depth, heads, p, S, 7)
module.load_state_dict(vit, strict=True)
# trained under DistributedDataParallel (gloo, one process): {'model': ddp.state_dict()} has module.-prefixed names
import torch.distributed as dist
dist.init_process_group('gloo', init_method='file://' + os.path.join(out, 'gloo-rendezvous'), rank=0, world_size=1)
ddp = torch.nn.parallel.DistributedDataParallel(module)
ddp_state = ddp.state_dict()
assert hasattr(ddp_state, '_metadata') and all(k.startswith('module.') for k in ddp_state)
torch.save({'model': ddp_state, 'epoch': 3}, os.path.join(out, 'vit-micro.pth'))
dist.destroy_process_group()
# as timm and the Hugging Face hub's pytorch_model.bin have it: the bare state dict; and in half precision
torch.save(module.state_dict(), os.path.join(out, 'vit-micro-timm.pth'))
torch.save(copy.deepcopy(module).half().state_dict(), os.path.join(out, 'vit-micro-float16.pth'))
torch.save(copy.deepcopy(module).to(torch.bfloat16).state_dict(), os.path.join(out, 'vit-micro-bfloat16.pth'))
linear = torch.nn.Linear(4, 4)
torch.save(linear.state_dict(), os.path.join(out, 'linear.pth'))
with open(os.path.join(out, 'linear.expected'), 'w') as f:
    for k, v in linear.state_dict().items():
        f.write(k + ' ' + str(list(v.shape)).replace(' ', '') + ' ' + ' '.join(repr(float(x)) for x in v.flatten().tolist()) + '\n')
# PyTorch 2's archive layout (the same pickle and storages): records under archive/, the .format_version,
# .storage_alignment and .data/serialization_id records, storages aligned to 64 bytes by an extra field
with zipfile.ZipFile(os.path.join(out, 'vit-micro-timm.pth')) as src, zipfile.ZipFile(os.path.join(out, 'vit-micro-torch2.pth'), 'w', zipfile.ZIP_STORED) as dst:
    recs = {n.split('/', 1)[1]: src.read(n) for n in src.namelist()}
    recs.update({'.format_version': b'1', '.storage_alignment': b'64', '.data/serialization_id': b'1234567890123456789012345678901234567890', 'version': b'3\n'})
    order = ['data.pkl', '.format_version', '.storage_alignment', 'byteorder'] + sorted(k for k in recs if k.startswith('data/')) + ['version', '.data/serialization_id']
    for name in order:
        info = zipfile.ZipInfo('archive/' + name, date_time=(1980, 1, 1, 0, 0, 0))
        header = dst.fp.tell() + 30 + len(info.filename) + 4
        pad = (-header) % 64
        info.extra = struct.pack('<HH', 0x4246, pad) + b'Z' * pad
        dst.writestr(info, recs.get(name, b'little' if name == 'byteorder' else b''))
# the same weights as a safetensors file (as the Hugging Face hub serves timm's), written by hand: header length, JSON, raw data
import json as _json, struct
blobs, header, pos = [], {'__metadata__': {'format': 'pt'}}, 0
for k, v in vit.items():
    b = v.contiguous().numpy().astype('<f4').tobytes()
    header[k] = {'dtype': 'F32', 'shape': list(v.shape), 'data_offsets': [pos, pos + len(b)]}
    blobs.append(b); pos += len(b)
h = _json.dumps(header).encode()
with open(os.path.join(out, 'vit-micro.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
# a tensor of the wrong shape: refused by name
bad = collections.OrderedDict(vit)
bad['blocks.1.mlp.fc1.weight'] = r(100, C)
torch.save({'model': bad}, os.path.join(out, 'vit-micro-badshape.pth'))

import torch.nn.functional as F
x = torch.linspace(-2, 2, 2 * 3 * S * S).reshape(2, 3, S, S)
with torch.no_grad():
    h = F.conv2d(x, vit['patch_embed.proj.weight'], vit['patch_embed.proj.bias'], stride=p).flatten(2).transpose(1, 2)
    h = h + vit['pos_embed'][:, 1:]
    h = torch.cat([(vit['cls_token'] + vit['pos_embed'][:, :1]).expand(2, -1, -1), h], 1)
    for i in range(depth):
        b = f'blocks.{i}.'
        y = F.layer_norm(h, (C,), vit[b + 'norm1.weight'], vit[b + 'norm1.bias'], 1e-6)
        qkv = F.linear(y, vit[b + 'attn.qkv.weight'], vit[b + 'attn.qkv.bias']).reshape(2, N + 1, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
        a = ((qkv[0] * (C // heads) ** -0.5) @ qkv[1].transpose(-2, -1)).softmax(-1)
        h = h + F.linear((a @ qkv[2]).transpose(1, 2).reshape(2, N + 1, C), vit[b + 'attn.proj.weight'], vit[b + 'attn.proj.bias'])
        y = F.layer_norm(h, (C,), vit[b + 'norm2.weight'], vit[b + 'norm2.bias'], 1e-6)
        h = h + F.linear(F.gelu(F.linear(y, vit[b + 'mlp.fc1.weight'], vit[b + 'mlp.fc1.bias'])), vit[b + 'mlp.fc2.weight'], vit[b + 'mlp.fc2.bias'])
    feats = F.layer_norm(h[:, 1:].mean(1), (C,), eps=1e-6)
    # the classifier of models_vit.py with global_pool: fc_norm over the mean of the patch tokens, then the head
    logits = F.linear(F.layer_norm(h[:, 1:].mean(1), (C,), vit['fc_norm.weight'], vit['fc_norm.bias'], 1e-6), vit['head.weight'], vit['head.bias'])
with open(os.path.join(out, 'vit-micro.features'), 'w') as f:
    f.write(' '.join(repr(float(v)) for v in feats.flatten().tolist()) + '\n')
    f.write(' '.join(repr(float(v)) for v in x.permute(0, 2, 3, 1).flatten().tolist()) + '\n')
    f.write(' '.join(repr(float(v)) for v in logits.flatten().tolist()) + '\n')
print('vit ok')

# the output folders of the released scripts: log.txt as they write it, a checkpoint with their args
import json
pre = os.path.join(out, 'torchrun-pretrain')
os.makedirs(pre, exist_ok=True)
with open(os.path.join(pre, 'log.txt'), 'w') as f:
    for e in range(3):
        f.write(json.dumps({'train_lr': 1e-4 * (e + 1), 'train_loss': 2.0 - 0.5 * e, 'train_loss_dense': 1.0 - 0.1 * e, 'epoch': e}) + '\n')
pargs = argparse.Namespace(model='CAMD_vit_tiny_patch16', input_size=112, mask_ratio=0.6, batch_size=64, epochs=400, blr=1.5e-4, warmup_epochs=40, seed=0, output_dir=pre, dis_lay=[2, 5, 8, 11], resume='', lr=None, distributed=True)
# misc.save_model's dict: a module's state_dict(), AdamW's state_dict() after a step, the GradScaler's state, args
opt = torch.optim.AdamW(module.parameters(), lr=1e-4, betas=(0.9, 0.95))
module(torch.zeros(1, 3, S, S)).sum().backward()
opt.step()
scaler = torch.cuda.amp.GradScaler(enabled=False)
torch.save({'model': module.state_dict(), 'optimizer': opt.state_dict(), 'epoch': 2, 'scaler': scaler.state_dict(), 'args': pargs}, os.path.join(pre, 'checkpoint-2.pth'))
fin = os.path.join(out, 'torchrun-finetune')
os.makedirs(fin, exist_ok=True)
with open(os.path.join(fin, 'log.txt'), 'w') as f:
    for e, acc in enumerate([61.5, 70.25, 68.0]):
        f.write(json.dumps({'train_lr': 5e-4, 'train_loss': 1.5 - 0.2 * e, 'test_loss': 1.2 - 0.1 * e, 'test_acc1': acc, 'test_acc5': 99.0, 'epoch': e, 'n_parameters': 5526000}) + '\n')
print('runs ok')
