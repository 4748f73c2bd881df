#!/usr/bin/env python3
"""W1 with SciPy (bench-only; see README.md).

    w1_scipy.py {curve_fit|least_squares} [rows=10000000] [reps=3] [--method lm|trf|dogbox]

curve_fit: scipy.optimize.curve_fit(f, x, y, p0=(1, 1, 0)) with every default, as users call it:
    no Jacobian given (finite differences), method 'lm' (MINPACK lmdif) since there are no bounds.
least_squares: scipy.optimize.least_squares(residual, (1, 1, 0), jac=analytic_jac) with the
    default method, 'trf' (pass --method lm for MINPACK lmder with the analytic Jacobian).

The data come from numpy's default Generator with a fixed seed: same distribution as the C++
programs' W1, not the same draws. Only the fit is timed (time.perf_counter). Prints one
key=value line like the C++ programs; peak_MB is the process's ru_maxrss (VmHWM), in 1e6 bytes.
"""
import argparse
import resource
import statistics
import sys
import time

import numpy as np
import scipy
from scipy.optimize import curve_fit, least_squares

START = (1.0, 1.0, 0.0)


def generate(rows):
    rng = np.random.default_rng(20261126)
    x = rng.uniform(0.0, 5.0, rows)
    y = 2.5 * np.exp(-1.3 * x) + 0.5 + rng.normal(0.0, 0.05, rows)
    return x, y


def model(x, a, b, c):
    return a * np.exp(-b * x) + c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tool", choices=["curve_fit", "least_squares"])
    ap.add_argument("rows", nargs="?", type=int, default=10_000_000)
    ap.add_argument("reps", nargs="?", type=int, default=3)
    ap.add_argument("--method", default=None, help="least_squares method (default: scipy's, 'trf')")
    args = ap.parse_args()
    x, y = generate(args.rows)

    def residual(p):
        return p[0] * np.exp(-p[1] * x) + p[2] - y

    def jac(p):
        e = np.exp(-p[1] * x)
        J = np.empty((x.size, 3))
        J[:, 0] = e
        J[:, 1] = -p[0] * x * e
        J[:, 2] = 1.0
        return J

    times = []
    for _ in range(max(1, args.reps)):
        t0 = time.perf_counter()
        if args.tool == "curve_fit":
            popt, _pcov, info, _msg, ier = curve_fit(model, x, y, p0=START, full_output=True)
            seconds = time.perf_counter() - t0
            # MINPACK lmdif does not report its iteration count; nfev includes the 3 extra
            # evaluations per finite-difference Jacobian, so iterations ~ nfev / 4.
            name, iterations = "scipy_curve_fit", "NA"
            extra = f"method=lm(lmdif,finite-diff) f_evals={info['nfev']} ier={ier}"
        else:
            kwargs = {} if args.method is None else {"method": args.method}
            res = least_squares(residual, START, jac=jac, **kwargs)
            seconds = time.perf_counter() - t0
            popt = res.x
            method = args.method or "trf"
            name = "scipy_least_squares" if args.method is None else f"scipy_least_squares_{method}"
            iterations = res.njev if res.njev is not None else "NA"
            extra = f"method={method}(analytic-jac) f_evals={res.nfev} status={res.status}"
        times.append(seconds)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(f"tool={name} threads=1 rows={args.rows} reps={len(times)} fit_seconds={statistics.median(times):.3f} "
          f"min_seconds={min(times):.3f} iterations={iterations} a={popt[0]:.6f} b={popt[1]:.6f} c={popt[2]:.6f} "
          f"peak_MB={peak_mb:.1f} {extra} numpy={np.__version__} scipy={scipy.__version__}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
