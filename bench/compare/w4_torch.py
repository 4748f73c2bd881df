#!/usr/bin/env python3
"""W4 with PyTorch (bench-only; the anchor of bench/w4.sh): the wide MLP 16-2048-2048-2048-1 (tanh,
nn.Linear with PyTorch's default init), MSELoss, Adam(lr=1e-3), float32, batch 256, on one thread
(torch.set_num_threads(1)), as PyTorch users write it.

    w4_torch.py [--steps 10] [--seed 1]

The data is W3's function of 16 uniform inputs, generated here (rows = 256 x steps). The timed part
is the training loop: the gathers of each batch (a random permutation), forward, backward and the
Adam step. Prints one line:

    tool=pytorch threads=1 steps=S samples_per_s=... step_seconds=... train_mse=...
"""
import argparse
import time

import numpy as np
import torch
from torch import nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    rows = 256 * args.steps
    x = rng.uniform(-1, 1, (rows, 16))
    y = (np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] ** 2 - x[:, 4] + 0.1 * x[:, 5:].sum(axis=1)
         + 0.01 * rng.normal(size=rows))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = (y - y.mean()) / y.std()
    X = torch.tensor(x, dtype=torch.float32)
    Y = torch.tensor(y, dtype=torch.float32).unsqueeze(1)
    model = nn.Sequential(nn.Linear(16, 2048), nn.Tanh(), nn.Linear(2048, 2048), nn.Tanh(),
                          nn.Linear(2048, 2048), nn.Tanh(), nn.Linear(2048, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    perm = torch.randperm(rows)
    start = time.perf_counter()
    for s in range(args.steps):
        idx = perm[s * 256:(s + 1) * 256]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        mse = float(((model(X) - Y) ** 2).double().mean())
    print(f"tool=pytorch threads=1 steps={args.steps} samples_per_s={rows / seconds:.0f} "
          f"step_seconds={seconds / args.steps:.4f} train_mse={mse:.6f}")


if __name__ == "__main__":
    main()
