"""Writes PyTorch files for the .pth reader's tests (run with a Python that has torch):
good ones made by torch.save, and hostile or broken ones. python3 torch_files.py OUTDIR"""
import argparse, collections, io, os, pickle, sys, zipfile
import torch

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
# truncated: the archive cut in half
with open(os.path.join(out, 'good.pth'), 'rb') as f:
    data = f.read()
with open(os.path.join(out, 'truncated.pth'), 'wb') as f:
    f.write(data[: len(data) // 2])
print('ok')
