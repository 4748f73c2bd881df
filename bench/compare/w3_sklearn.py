#!/usr/bin/env python3
"""W3 with scikit-learn (bench-only; see README.md): one epoch of MLPRegressor.

    w3_sklearn.py --data DIR [--threads T] [--seed 1]

MLPRegressor(hidden_layer_sizes=(64, 64), activation='tanh', solver='adam',
learning_rate_init=1e-3, batch_size=256, max_iter=1, shuffle=True, alpha=0, random_state=seed):
one epoch (max_iter counts epochs for adam), no L2 penalty (alpha=0; sklearn's default is 1e-4),
no early stopping; tol and n_iter_no_change play no part in a single epoch. Its ConvergenceWarning
("maximum iterations reached") is silenced. Data are passed as the float64 arrays they are (what
users do; sklearn then trains in float64). sklearn's own loss is half the MSE, which Adam's
update does not see (it is invariant to the loss's scale, up to epsilon).

Threads: MLPRegressor has no thread setting; its matrix products go to NumPy's BLAS, limited to
T threads with threadpoolctl.threadpool_limits(T) around the fit. The line's blas= extra lists
the BLAS libraries threadpoolctl found and their thread counts; "none" means it found none it
can control (e.g. Debian's reference BLAS or ATLAS, both single-threaded), so T has no effect.

Times fit() only (input validation, the shuffle, the epoch); train_mse is the mean squared error
of predict() over the whole training set afterwards, not timed. Prints one line:

    tool=sklearn threads=T rows=N samples_per_s=... train_mse=... seconds=... [extras]
"""
import argparse
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_info, threadpool_limits

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from the import below
from w3_data import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory written by w3_data.py")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    ap.add_argument("--seed", type=int, default=1, help="random_state: weight init and shuffling")
    args = ap.parse_args()
    x, y = load(args.data)
    n = x.shape[0]
    model = MLPRegressor(hidden_layer_sizes=(64, 64), activation="tanh", solver="adam",
                         learning_rate_init=1e-3, batch_size=256, max_iter=1, shuffle=True,
                         alpha=0.0, random_state=args.seed)
    with threadpool_limits(limits=args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        blas = ",".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()
                        if i["user_api"] == "blas") or "none"
        t0 = time.perf_counter()
        model.fit(x, y)
        seconds = time.perf_counter() - t0
    mse = float(np.mean((model.predict(x) - y) ** 2))
    print(f"tool=sklearn threads={args.threads} rows={n} samples_per_s={n / seconds:.0f} "
          f"train_mse={mse:.6g} seconds={seconds:.3f} batch=256 epochs={model.n_iter_} "
          f"dtype=float64 blas={blas} sklearn={sklearn.__version__} numpy={np.__version__}",
          flush=True)


if __name__ == "__main__":
    main()
