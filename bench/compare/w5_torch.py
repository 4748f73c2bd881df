#!/usr/bin/env python3
"""W5's anchor (issue 11): PyTorch DistributedDataParallel (Gloo) on W3, time to a target MSE.

W processes of 1 thread, each with its contiguous share of the rows and its own shuffle, batch
256 // W rows each (one global batch of 256 per step), Adam 1e-3, 16-64-64-1 tanh, float32: the
model and data of w3_torch.py --ddp. A straggler, --slow R:F, makes process R sleep (F - 1) times
its own step's compute time after each step; DDP's all-reduce makes every process wait for it at
every step. Every --every steps process 0 evaluates the MSE of its weights on the fixed sample of
20,000 rows i*N/20000 (its clock stopped, as bench_w5 does); the time to target is process 0's
training time at the first evaluation at or below --target.

    python3 w5_torch.py --data DIR --ddp 4 [--slow 1:2] [--target 0.002] [--every 50] [--epochs 2]

Prints one line: tool=pytorch_ddp sync=ddp ranks=W workers=W threads=1 slow=... target=...
reached=yes|no seconds_to_target=... steps_to_target=... seconds_total=... steps=...
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

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from the imports below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w3_data import load  # noqa: E402
from w3_torch import BATCH, LR, make_model, to_tensors  # noqa: E402


def worker(rank, world, store_path, args):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store_path}", rank=rank, world_size=world)
    x, y = load(args.data)
    n = x.shape[0]
    if rank == 0:
        m = min(20000, n)
        rows = np.arange(m) * n // m
        Xs, _ = to_tensors(x[rows], y[rows])
        ys = y[rows]
    lo, hi = rank * n // world, (rank + 1) * n // world
    X, Y = to_tensors(x[lo:hi], y[lo:hi])
    del x, y
    b = BATCH // world
    steps_per_epoch = math.ceil((n // world) / b)
    slow_rank, factor = -1, 1.0
    if args.slow:
        r, f = args.slow.split(":")
        slow_rank, factor = int(r), float(f)
    torch.manual_seed(args.seed)
    model = nn.parallel.DistributedDataParallel(make_model())  # broadcasts rank 0's weights
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    g = torch.Generator().manual_seed(args.seed + 1000 * rank)
    trained, evaluating, reached_at, reached_step, step, evaluations = 0.0, 0.0, -1.0, 0, 0, 0
    last_mse = float("nan")
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(X.shape[0], generator=g)
        for i in range(steps_per_epoch):
            s0 = time.perf_counter()
            idx = perm[i * b:(X.shape[0] if i == steps_per_epoch - 1 else (i + 1) * b)]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()  # the all-reduce: every process waits for the slowest here
            opt.step()
            if rank == slow_rank and factor > 1:
                time.sleep((factor - 1) * (time.perf_counter() - s0))
            step += 1
            if rank == 0 and step % args.every == 0:
                trained += time.perf_counter() - t0
                e0 = time.perf_counter()
                with torch.no_grad():
                    pred = model.module(Xs).squeeze(1).numpy().astype(np.float64)
                last_mse = float(np.mean((pred - ys) ** 2))
                evaluations += 1
                if reached_at < 0 and last_mse <= args.target:
                    reached_at, reached_step = trained, step
                evaluating += time.perf_counter() - e0
                t0 = time.perf_counter()
    trained += time.perf_counter() - t0
    if rank == 0:
        print(f"tool=pytorch_ddp sync=ddp ranks={world} servers=0 workers={world} threads=1 "
              f"slow={args.slow or 'none'} target={args.target} reached={'yes' if reached_at >= 0 else 'no'} "
              f"seconds_to_target={reached_at if reached_at >= 0 else trained:.3f} steps_to_target={reached_step} "
              f"seconds_total={trained:.3f} steps={step} last_eval_mse={last_mse:.6g} evaluations={evaluations} "
              f"eval_seconds={evaluating:.3f} torch={torch.__version__} backend=gloo", flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory written by w3_data.py")
    ap.add_argument("--ddp", type=int, required=True, metavar="W", help="W Gloo processes, 1 thread each")
    ap.add_argument("--slow", default="", metavar="R:F", help="process R sleeps (F - 1) x its step time")
    ap.add_argument("--target", type=float, default=0.002)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if BATCH % args.ddp:
        ap.error(f"--ddp must divide the global batch {BATCH}")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    os.environ["OMP_NUM_THREADS"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(worker, args=(args.ddp, os.path.join(tmp, "store"), args), nprocs=args.ddp)


if __name__ == "__main__":
    main()
