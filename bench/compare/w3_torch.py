#!/usr/bin/env python3
"""W3 with PyTorch (bench-only; see README.md): one epoch of an MLP, as PyTorch users write it.

    w3_torch.py --data DIR [--threads T] [--seed 1]      # one process, torch.set_num_threads(T)
    w3_torch.py --data DIR --ddp 2 [--seed 1]            # DistributedDataParallel, 2 Gloo processes

Model 16-64-64-1 (nn.Linear with PyTorch's default init, tanh), MSELoss, Adam(lr=1e-3), float32,
global batch 256, one epoch. Shuffling: no DataLoader; each epoch draws torch.randperm over the
rows and each step gathers its batch with X[idx] (fancy indexing; the last, partial batch is
kept, as DataLoader's drop_last=False does). The timed part is exactly the epoch: randperm, the
gathers, forward, backward and Adam steps; loading the data, building the model and the final
evaluation are not timed.

--ddp W: W processes (torch.multiprocessing.spawn), each torch.set_num_threads(1), Gloo backend
initialised through a FileStore in a temporary file (no TCP rendezvous port), and Gloo's own
traffic on the loopback interface (GLOO_SOCKET_IFNAME=lo unless already set: in a container
Gloo's default, the address the hostname resolves to, may not be reachable). Rank r owns the
contiguous shard [r*N/W, (r+1)*N/W) of the rows, shuffles it with its own randperm, and takes
256/W rows a step, so a step is one global batch of 256 and DDP's gradient all-reduce (mean over
ranks) gives the same update as one process with batch 256. Time = rank 0's wall clock from a
barrier before the epoch to a barrier after it.

train_mse is the mean squared error over the whole training set after the epoch (no_grad,
float32 forward, float64 sum; under --ddp each rank sums its shard and the sums are
all-reduced). Prints one line:

    tool=pytorch|pytorch_ddp threads=T rows=N samples_per_s=... train_mse=... seconds=... [extras]
"""
import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from the import below
from w3_data import load  # noqa: E402

BATCH = 256
LR = 1e-3


def make_model():
    return nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def to_tensors(x, y):
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32)).unsqueeze(1)


def batches(n, b, steps):
    """Row-index ranges of `steps` batches of b over n rows; the last batch takes the rest."""
    for i in range(steps):
        yield i * b, (n if i == steps - 1 else (i + 1) * b)


def train_epoch(model, X, Y, b, steps, seed):
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(X.shape[0], generator=g)
    for lo, hi in batches(X.shape[0], b, steps):
        idx = perm[lo:hi]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()


@torch.no_grad()
def sum_sq_err(model, X, y64, chunk=1 << 16):
    s = 0.0
    for lo in range(0, X.shape[0], chunk):
        pred = model(X[lo:lo + chunk]).squeeze(1).numpy().astype(np.float64)
        s += float(np.sum((pred - y64[lo:lo + chunk]) ** 2))
    return s


def line(tool, threads, rows, seconds, mse, extra=""):
    return (f"tool={tool} threads={threads} rows={rows} samples_per_s={rows / seconds:.0f} "
            f"train_mse={mse:.6g} seconds={seconds:.3f} batch={BATCH} epochs=1 "
            f"torch={torch.__version__}{extra}")


def single(args):
    torch.set_num_threads(args.threads)
    x, y = load(args.data)
    X, Y = to_tensors(x, y)
    n = X.shape[0]
    torch.manual_seed(args.seed)
    model = make_model()
    t0 = time.perf_counter()
    train_epoch(model, X, Y, BATCH, math.ceil(n / BATCH), args.seed)
    seconds = time.perf_counter() - t0
    mse = sum_sq_err(model, X, y) / n
    print(line("pytorch", torch.get_num_threads(), n, seconds, mse), flush=True)


def ddp_worker(rank, world, store_path, args):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store_path}", rank=rank, world_size=world)
    x, y = load(args.data)
    n = x.shape[0]
    lo, hi = rank * n // world, (rank + 1) * n // world
    X, Y = to_tensors(x[lo:hi], y[lo:hi])
    y_shard = y[lo:hi]
    del x, y
    b = BATCH // world
    # Every rank must run the same number of steps (each step is an all-reduce): size them on
    # the smallest shard; a larger shard's last batch takes its extra rows.
    steps = math.ceil((n // world) / b)
    torch.manual_seed(args.seed)
    model = nn.parallel.DistributedDataParallel(make_model())  # broadcasts rank 0's weights
    dist.barrier()
    t0 = time.perf_counter()
    train_epoch(model, X, Y, b, steps, args.seed + 1000 * rank)  # own shuffle per rank
    dist.barrier()
    seconds = time.perf_counter() - t0
    sse = torch.tensor([sum_sq_err(model.module, X, y_shard)], dtype=torch.float64)
    dist.all_reduce(sse)
    if rank == 0:
        print(line("pytorch_ddp", 1, n, seconds, sse.item() / n,
                   f" processes={world} batch_per_process={b} backend=gloo"), flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory written by w3_data.py")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (single process)")
    ap.add_argument("--ddp", type=int, default=0, metavar="W", help="W Gloo processes, 1 thread each")
    ap.add_argument("--seed", type=int, default=1, help="weight init and shuffling")
    args = ap.parse_args()
    if args.ddp <= 0:
        single(args)
        return
    if BATCH % args.ddp:
        ap.error(f"--ddp must divide the global batch {BATCH}")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    os.environ["OMP_NUM_THREADS"] = "1"  # children start with 1-thread OpenMP pools
    with tempfile.TemporaryDirectory() as tmp:  # FileStore file must not exist beforehand
        mp.spawn(ddp_worker, args=(args.ddp, os.path.join(tmp, "store"), args), nprocs=args.ddp)


if __name__ == "__main__":
    main()
