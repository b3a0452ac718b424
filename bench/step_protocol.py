"""The line protocol that `npm run bench -- --compare-torch` (trainer/src/bench/compare-torch.ts)
speaks with a PyTorch training step in a child process: shared by torch_camd_step.py (our CAMD
step written in PyTorch from the method) and released_camd_step.py (the authors' released step),
so one driver measures both the same way.

The process prints one JSON line when ready:
  {"ready": true, "torch": VERSION, "config": torch.__config__.show(), "blas_libs": [paths],
   "openblas": PATH or null, "threads": T, "blas_threads": B or null}
then answers each command on stdin with one JSON line:
  threads T [B]  torch's intra-op threads T (torch.set_num_threads: also MKL's, on MKL builds) and
                 OpenBLAS's B where torch calls OpenBLAS (Debian's build): {"threads", "blas_threads"}
  matmul N       GFLOP/s of an N³ product: {"gflops"}
  profile        share of one step's operator self time in matrix products: {"matmul_share"}
  step           one training step: {"seconds", "loss", "max_rss_bytes"}
  quit           exits
"""
import ctypes
import json
import re
import resource
import sys
import time

import torch

MATMUL_OPS = {"aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::addbmm"}
BLAS_LIB = re.compile(r"(openblas|blas|mkl|blis|accelerate)", re.I)


def _send(obj):
    print(json.dumps(obj), flush=True)


def loaded_blas_libs():
    """Shared libraries mapped into this process whose file name looks like a BLAS (after torch ran a product)."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if line.rstrip().split()[-1].startswith("/")}
    except OSError:
        return []
    return sorted(p for p in paths if ".so" in p and BLAS_LIB.search(p.rsplit("/", 1)[-1]))


class OpenBlas:
    """openblas_set_num_threads / openblas_get_num_threads of the OpenBLAS torch calls, if it calls one."""

    def __init__(self, libs):
        self.path, self.lib = None, None
        for path in libs:  # already loaded by torch: dlopen returns that copy
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_set_num_threads
                lib.openblas_get_num_threads
            except (AttributeError, OSError):
                continue
            self.path, self.lib = path, lib
            break

    def set(self, n):
        if self.lib is not None:
            self.lib.openblas_set_num_threads(int(n))

    def get(self):
        return int(self.lib.openblas_get_num_threads()) if self.lib is not None else None


def serve(step):
    """Answers the commands above; `step()` runs one full training step and returns the loss."""
    libs = loaded_blas_libs()
    openblas = OpenBlas(libs)
    _send({
        "ready": True,
        "torch": torch.__version__,
        "config": torch.__config__.show(),
        "blas_libs": libs,
        "openblas": openblas.path,
        "threads": torch.get_num_threads(),
        "blas_threads": openblas.get(),
    })
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "threads":
            torch.set_num_threads(int(cmd[1]))
            if len(cmd) > 2:
                openblas.set(int(cmd[2]))
            _send({"threads": torch.get_num_threads(), "blas_threads": openblas.get()})
        elif cmd[0] == "matmul":
            n = int(cmd[1])
            a, b = torch.randn(n, n), torch.randn(n, n)
            a @ b
            ts = []  # as the tfjs side: median over 5 rounds of 10 back-to-back products
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(10):
                    a @ b
                ts.append((time.perf_counter() - t0) / 10)
            _send({"gflops": 2 * n**3 / sorted(ts)[2] / 1e9})
        elif cmd[0] == "profile":
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                step()
            events = prof.key_averages()
            total = sum(e.self_cpu_time_total for e in events)
            mm = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)
            _send({"matmul_share": mm / total if total else None})
        elif cmd[0] == "step":
            t0 = time.perf_counter()
            loss = step()
            # the process's peak resident set so far (Linux reports KiB), for the memory comparison
            _send({"seconds": time.perf_counter() - t0, "loss": loss, "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
        else:
            _send({"error": "unknown command %r" % line.strip()})
