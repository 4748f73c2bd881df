#!/usr/bin/env python3
"""W4 on paper (issue 12): projected step time of the wide MLP 16-2048-2048-2048-1 (batch 256,
float32, Adam) for data (D), tensor (T) and pipeline (P) parallelism up to 64 ranks, from measured
inputs: the alpha-beta figures of bench_collectives and the step's compute and per-weight work
measured by bench_w4 (see docs/parallelism-projection.md). Prints one table.

    bench/w4_projection.py [--compute 0.15] [--update 0.05] [--alpha-ar 1.18e-6] [--beta-ar 0.1207e-9]
                           [--alpha-ag 1.11e-6] [--beta-ag 0.1011e-9] [--alpha-p2p 0.60e-6]
                           [--beta-p2p 0.0610e-9] [--micro 16]

Model (per optimizer step, seconds):
  data parallel D:   C/D + U + ring all-reduce of the gradient (8 bytes x W weights):
                     2 (D-1)/D W 8 beta_ar + 2 (D-1) alpha_ar
  tensor T:          (C + U)/T + 3 allgathers of each rank's partials (B x 2048 x 4 bytes), each
                     alpha_ag + T B 2048 4 beta_ag, + adding T partials (T B 2048 adds at 1 ns)
  pipeline P (<= 4 layers): C/P x (M + P - 1)/M + U/P + 2 (M + P - 1) messages of B/M x 2048 x 4
                     bytes (alpha_p2p + n beta_p2p) on the critical path
  grids D x P x T:   the pipeline formula on C/T, U/T with the tensor exchanges per micro-batch,
                     plus the data-parallel all-reduce of W/(P T) weights
"""
import argparse

W = 8_429_569
B = 256
WIDTH = 2048


def data(D, a):
    ar = 0 if D == 1 else 2 * (D - 1) / D * W * 8 * a.beta_ar + 2 * (D - 1) * a.alpha_ar
    return a.compute / D + a.update + ar


def tensor_exchange(T, rows, a):
    if T == 1:
        return 0.0
    gather = a.alpha_ag + T * rows * WIDTH * 4 * a.beta_ag
    add = T * rows * WIDTH * 1e-9
    return 3 * (gather + add)


def grid(D, P, T, a):
    M = a.micro if P > 1 else 1
    rows = B / D / M
    comp = a.compute / (D * P * T) * (M + P - 1) / M
    upd = a.update / (P * T)
    tex = M * tensor_exchange(T, rows, a) * (M + P - 1) / M
    p2p = 0 if P == 1 else 2 * (M + P - 1) * (a.alpha_p2p + rows * WIDTH * 4 * a.beta_p2p)
    ar = 0 if D == 1 else 2 * (D - 1) / D * W / (P * T) * 8 * a.beta_ar + 2 * (D - 1) * a.alpha_ar
    return comp + upd + tex + p2p + ar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compute", type=float, default=0.15, help="forward+backward of a step on one rank (s)")
    ap.add_argument("--update", type=float, default=0.05, help="per-weight work of a step on one rank (s)")
    ap.add_argument("--alpha-ar", type=float, default=1.18e-6)
    ap.add_argument("--beta-ar", type=float, default=0.1207e-9)
    ap.add_argument("--alpha-ag", type=float, default=1.11e-6)
    ap.add_argument("--beta-ag", type=float, default=0.1011e-9)
    ap.add_argument("--alpha-p2p", type=float, default=0.60e-6)
    ap.add_argument("--beta-p2p", type=float, default=0.0610e-9)
    ap.add_argument("--micro", type=int, default=16)
    a = ap.parse_args()
    one = grid(1, 1, 1, a)
    print(f"W4 projection: one rank {one:.3f} s/step; speed-up over one rank (s/step)")
    print(f"{'ranks':>5} {'data D':>16} {'tensor T':>16} {'pipeline P':>16} {'best grid D x P x T':>30}")
    for n in (1, 2, 4, 8, 16, 32, 64):
        d = grid(n, 1, 1, a)
        t = grid(1, 1, n, a)
        p = grid(1, n, 1, a) if n <= 4 else None
        best = None
        for P in (1, 2, 4):
            for T in (1, 2, 4, 8, 16, 32, 64):
                if n % (P * T):
                    continue
                D = n // (P * T)
                s = grid(D, P, T, a)
                if best is None or s < best[0]:
                    best = (s, D, P, T)
        cell = lambda s: f"{one / s:6.2f}x ({s:.3f})" if s else f"{'-':>16}"
        print(f"{n:>5} {cell(d):>16} {cell(t):>16} {cell(p):>16} "
              f"{cell(best[0])} = {best[1]} x {best[2]} x {best[3]}")


if __name__ == "__main__":
    main()
