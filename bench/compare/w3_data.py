#!/usr/bin/env python3
"""Writes workload W3 as a parafit .npy directory (bench-only; see README.md).

    w3_data.py --out DIR [--rows 1000000] [--seed 20261203]

W3: x0..x15 ~ U[-1, 1] (independent), noise ~ N(0, 0.01^2),
    y = sin(3*x0) + x1*x2 + 0.5*x3^2 - x4 + 0.1*(x5 + ... + x15) + noise.
Drawn with numpy's default_rng(seed): first the (rows, 16) uniform matrix (row by row), then the
rows noise values, so the same rows/seed give the same bytes on every run. Written as one 1-D
float64 .npy file per column: DIR/x0.npy .. DIR/x15.npy and DIR/y.npy (parafit's binary table
format, docs/data-formats.md), which every w3_* program and `parafit train --data DIR` read.
"""
import argparse
import os

import numpy as np

D = 16


def generate(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (rows, D))
    noise = rng.normal(0.0, 0.01, rows)
    y = (np.sin(3.0 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] ** 2 - x[:, 4]
         + 0.1 * x[:, 5:].sum(axis=1) + noise)
    return x, y


def load(data_dir):
    """(x float64 (rows, 16), y float64 (rows,)) from a directory written by this script."""
    x = np.column_stack([np.load(os.path.join(data_dir, f"x{j}.npy")) for j in range(D)])
    y = np.load(os.path.join(data_dir, "y.npy"))
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    args = ap.parse_args()
    x, y = generate(args.rows, args.seed)
    os.makedirs(args.out, exist_ok=True)
    for j in range(D):
        np.save(os.path.join(args.out, f"x{j}.npy"), np.ascontiguousarray(x[:, j]))
    np.save(os.path.join(args.out, "y.npy"), y)
    print(f"w3_data rows={args.rows} seed={args.seed} columns={D + 1} out={args.out} "
          f"y_var={y.var():.6f}")


if __name__ == "__main__":
    main()
