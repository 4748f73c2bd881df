#!/usr/bin/env python3
"""parafit.curve_fit against scipy.optimize.curve_fit on the same numpy arrays, in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python/w1_curve_fit.py [rows=10000000] [rounds=3]
                                                                          [small_rows=100000]

W1: x ~ U[0, 5], y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2), fitted with a exp(-b x) + c from
p0 = (1, 1, 0) (bench/compare/README.md). Rounds alternate the tools (scipy, parafit with the
built-in model, parafit with the model as a formula), so the machine's drift hits all alike; each
prints its median and best fit time and the ratio to scipy. Then, on `small_rows` rows, the
overhead of a Python function as parafit's model against the same model as a formula (both from
the same p0), with forward differences and with a Jacobian function.
Bench-only: scipy is a test/bench package (scripts/setup.sh --test).
"""
import os
import platform
import statistics
import sys
import time

import numpy as np
from scipy.optimize import curve_fit as scipy_curve_fit

import parafit

P0 = (1.0, 1.0, 0.0)


def model(x, a, b, c):
    return a * np.exp(-b * x) + c


def jac(x, a, b, c):
    e = np.exp(-b * x)
    return np.stack([e, -a * x * e, np.ones_like(x)], axis=1)


def data(rows):
    rng = np.random.default_rng(20261126)
    x = rng.uniform(0.0, 5.0, rows)
    return x, 2.5 * np.exp(-1.3 * x) + 0.5 + rng.normal(0.0, 0.05, rows)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def compare(title, tools, rounds):
    times = {name: [] for name in tools}
    results = {}
    for _ in range(rounds):
        for name, fn in tools.items():
            t, out = timed(fn)
            times[name].append(t)
            results[name] = out
    print(title)
    base = statistics.median(times[next(iter(tools))])
    for name in tools:
        med, best = statistics.median(times[name]), min(times[name])
        print(f"  {name:<44} median {med:9.4f} s  best {best:9.4f} s  median ratio {base / med:7.2f}x  "
              f"popt {np.array2string(np.asarray(results[name]), precision=6)}")
    return times


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    small = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    threads = os.cpu_count()
    print(f"CPU: {cpu()}, {threads} logical cores; numpy {np.__version__}; rows {rows}, rounds {rounds}")
    x, y = data(rows)
    compare(f"W1, {rows} rows: scipy.optimize.curve_fit vs parafit.curve_fit (same arrays)", {
        "scipy curve_fit(f, x, y, p0)": lambda: scipy_curve_fit(model, x, y, p0=P0)[0],
        f"parafit curve_fit('exp-decay', p0), {threads} threads": lambda: parafit.curve_fit("exp-decay", x, y, p0=P0)[0],
        "parafit curve_fit('exp-decay', p0), 1 thread": lambda: parafit.curve_fit("exp-decay", x, y, p0=P0,
                                                                                  threads=1)[0],
        f"parafit curve_fit('a*exp(-b*x)+c', p0), {threads} thr": lambda: parafit.curve_fit("a*exp(-b*x)+c", x, y,
                                                                                            p0=P0)[0],
    }, rounds)
    xs, ys = data(small)
    compare(f"\n{small} rows: a Python function as the model, against the same model as a formula", {
        "formula 'a*exp(-b*x)+c'": lambda: parafit.curve_fit("a*exp(-b*x)+c", xs, ys, p0=P0)[0],
        "Python function, forward differences": lambda: parafit.curve_fit(model, xs, ys, p0=P0)[0],
        "Python function with jac": lambda: parafit.curve_fit(model, xs, ys, p0=P0, jac=jac)[0],
        "scipy curve_fit(f, x, y, p0)": lambda: scipy_curve_fit(model, xs, ys, p0=P0)[0],
    }, rounds)


if __name__ == "__main__":
    main()
