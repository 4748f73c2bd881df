#!/usr/bin/env python3
"""Delayed Adam on W3, in PyTorch alone: why the parameter server with staleness S > 0 misses W5's
target. One process, W3's MLP and data (w3_data.py), Adam 1e-3, batch 256, one epoch; the gradient
of step t is computed at the weights of step t - d (what a worker of ssp:S computes on when it runs
S = d steps ahead). Prints the MSE on the fixed 20,000-row sample of W5 after the epoch, per delay.

    python3 bench/compare/w5_delayed_adam.py DIR      # DIR from w3_data.py

Measured on 2026-12-02 (AMD EPYC): delay 0: 0.00109, delay 1: 0.01184, delay 4: 0.02761 - a
one-step delay alone leaves Adam ten times above the undelayed loss, with no parafit code involved.
"""
import sys, math, time, numpy as np, torch
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
sys.dont_write_bytecode = True
from w3_data import load
from w3_torch import make_model, to_tensors
torch.set_num_threads(1)
x, y = load(sys.argv[1]); X, Y = to_tensors(x, y); n = X.shape[0]
m = 20000; rows = np.arange(m) * n // m
for delay in [0, 1, 4]:
    torch.manual_seed(1)
    model = make_model(); stale = [make_model() for _ in range(delay)]
    hist = [[p.detach().clone() for p in model.parameters()] for _ in range(delay)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1); perm = torch.randperm(n, generator=g)
    evalm = make_model()
    for i in range(math.ceil(n / 256)):
        idx = perm[i*256:(i+1)*256]
        # gradient at the weights of `delay` steps ago
        src = model
        if delay:
            src = stale[0]
            with torch.no_grad():
                for ps, h in zip(src.parameters(), hist[0]): ps.copy_(h)
        src.zero_grad(set_to_none=True)
        loss = ((src(X[idx]) - Y[idx]) ** 2).mean(); loss.backward()
        with torch.no_grad():
            for p, ps in zip(model.parameters(), src.parameters()): p.grad = ps.grad.clone()
        if delay:
            hist.pop(0); hist.append([p.detach().clone() for p in model.parameters()])
        opt.step()
    with torch.no_grad():
        mse = float(((model(X[rows]) - Y[rows]) ** 2).mean())
    print(f"delay {delay}: MSE after 1 epoch {mse:.5f}", flush=True)
