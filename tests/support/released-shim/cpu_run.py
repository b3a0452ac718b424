"""Runs a script of the released CAMD code on a CPU (see README.md): python3 cpu_run.py SCRIPT ARGS…
What a CPU machine lacks is supplied before the script runs; the script itself runs unchanged."""
import os
import runpy
import sys
import types

import numpy as np
import torch
import torch.distributed as dist

# NumPy >= 1.24 removed these aliases; the released util/pos_embed.py and masking_generator.py use them
np.float = float
np.int = int

# no CUDA here: nothing to select or wait for, and tensors asked for on 'cuda' (the metric logger's
# all-reduce) stay on the CPU
torch.cuda.set_device = lambda *a, **k: None
torch.cuda.synchronize = lambda *a, **k: None
torch.Tensor.cuda = lambda self, *a, **k: self
_tensor = torch.tensor


def tensor(*args, **kwargs):
    if str(kwargs.get('device', '')).startswith('cuda'):
        kwargs['device'] = 'cpu'
    return _tensor(*args, **kwargs)


torch.tensor = tensor

# nccl needs CUDA: gloo, the CPU backend
_init = dist.init_process_group


def init_process_group(backend=None, *args, **kwargs):
    return _init('gloo' if backend in (None, 'nccl') else backend, *args, **kwargs)


dist.init_process_group = init_process_group

# SyncBatchNorm needs CUDA; one process has nothing to synchronise
torch.nn.SyncBatchNorm.convert_sync_batchnorm = classmethod(lambda cls, module, *a, **k: module)

# DistributedDataParallel refuses device_ids for a CPU module
_DDP = torch.nn.parallel.DistributedDataParallel


class CpuDDP(_DDP):
    def __init__(self, module, device_ids=None, *args, **kwargs):
        super().__init__(module, None, *args, **kwargs)


torch.nn.parallel.DistributedDataParallel = CpuDDP

# no tensorboard in Debian: a writer that writes nothing
tb = types.ModuleType('torch.utils.tensorboard')


class SummaryWriter:
    def __init__(self, log_dir=None, *args, **kwargs):
        self.log_dir = log_dir

    def add_scalar(self, *args, **kwargs):
        pass

    def flush(self):
        pass

    def close(self):
        pass


tb.SummaryWriter = SummaryWriter
sys.modules['torch.utils.tensorboard'] = tb

script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name='__main__')
