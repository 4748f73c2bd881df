#!/usr/bin/python3
"""Reference values for parafit's robust losses (issue 14), made offline with Debian's
python3-scipy (1.10) and stored beside this script; the tests read the stored files only.

Writes, next to this script:
  outliers.csv   200 rows of y = a exp(-b x) + c + N(0, 0.1^2), a = 5, b = 0.4, c = 1,
                 x uniform on [0, 10], with 5% (10 rows) gross outliers (y shifted by +-2 to +-5);
  reference.json for each loss (scipy.optimize.least_squares, f_scale = delta = 0.2, method
                 'trf', ftol = xtol = gtol = 1e-15, from the start a = 4, b = 0.5, c = 1.5): the
                 estimates and the final cost sum rho(r^2) in parafit's convention
                 (delta^2 u(r^2 / delta^2) summed, i.e. 2 * scipy's cost).
Tukey's biweight is not among scipy's losses: it is given to least_squares as a callable
returning u, u' and u'' of z = r^2 / delta^2, as scipy documents for custom losses.

Run: /usr/bin/python3 tests/data/robust/make_reference.py
"""
import json
import os

import numpy as np
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))
DELTA = 0.2
START = [4.0, 0.5, 1.5]


def model(theta, x):
    a, b, c = theta
    return a * np.exp(-b * x) + c


def tukey(z):
    inside = z <= 1.0
    v = np.where(inside, 1.0 - z, 0.0)
    rho = np.where(inside, (1.0 - v ** 3) / 3.0, 1.0 / 3.0)
    return np.vstack([rho, v * v, np.where(inside, -2.0 * v, 0.0)])


def unit_loss(name, z):
    if name == "huber":
        return np.where(z <= 1.0, z, 2.0 * np.sqrt(z) - 1.0)
    if name == "soft-l1":
        return 2.0 * (np.sqrt(1.0 + z) - 1.0)
    if name == "cauchy":
        return np.log1p(z)
    if name == "arctan":
        return np.arctan(z)
    if name == "tukey":
        return tukey(z)[0]
    return z


def main():
    rng = np.random.default_rng(20261203)
    n = 200
    x = np.sort(rng.uniform(0.0, 10.0, n))
    y = model([5.0, 0.4, 1.0], x) + rng.normal(0.0, 0.1, n)
    out = rng.choice(n, size=n // 20, replace=False)
    y[out] += rng.choice([-1.0, 1.0], size=out.size) * rng.uniform(2.0, 5.0, out.size)
    with open(os.path.join(HERE, "outliers.csv"), "w") as f:
        f.write("x,y\n")
        for xi, yi in zip(x, y):
            f.write(f"{xi:.17g},{yi:.17g}\n")

    ref = {"delta": DELTA, "start": {"a": START[0], "b": START[1], "c": START[2]}, "fits": {}}
    scipy_names = {"squared": "linear", "huber": "huber", "soft-l1": "soft_l1", "cauchy": "cauchy",
                   "arctan": "arctan", "tukey": tukey}
    for name, loss in scipy_names.items():
        res = least_squares(lambda t: model(t, x) - y, START, loss=loss, f_scale=DELTA, method="trf",
                            ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=10000)
        r = model(res.x, x) - y
        cost = float(np.sum(DELTA ** 2 * unit_loss(name, r * r / DELTA ** 2))) if name != "squared" \
            else float(np.sum(r * r))
        ref["fits"][name] = {"a": res.x[0], "b": res.x[1], "c": res.x[2], "cost": cost,
                             "status": int(res.status), "nfev": int(res.nfev)}
        print(name, res.x, cost, res.status, res.message)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
