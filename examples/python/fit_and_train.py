"""parafit from Python, step by step (run: PYTHONPATH=build/python python3 examples/python/fit_and_train.py).

Each section is a cell of a notebook: a curve fit as scipy's curve_fit, the same fit with R's
statistics and bands, a robust fit, many small fits at once, and an MLP regressor trained the
scikit-learn way.
"""
import numpy as np

import parafit

rng = np.random.default_rng(42)

# %% 1. scipy's curve_fit, unchanged: a function of x and the parameters, popt and pcov back.
def decay(x, a, b, c):
    return a * np.exp(-b * x) + c

x = np.linspace(0, 4, 5000)
y = decay(x, 2.5, 1.3, 0.5) + 0.05 * rng.normal(size=x.size)
popt, pcov = parafit.curve_fit(decay, x, y)
print("curve_fit:", popt, np.sqrt(np.diag(pcov)))

# %% 2. The built-in model (exact derivatives, self-starting) with R's summary(nls) statistics.
r = parafit.fit("exp-decay", xdata=x, ydata=y)
r.summary()
band = r.predict(np.array([0.0, 1.0, 2.0]), interval="prediction", level=0.95)
print("prediction band at 0, 1, 2:", band.lower, band.upper)
r.report("/tmp/parafit_example_fit.html")  # one self-contained interactive page
print("report: /tmp/parafit_example_fit.html")

# %% 3. A robust loss for data with outliers; profile-likelihood intervals (R's confint).
y_out = y.copy()
y_out[::20] += rng.normal(0, 2, y_out[::20].size)
robust = parafit.fit("exp-decay", xdata=x, ydata=y_out, loss="huber:0.1")
plain = parafit.fit("exp-decay", xdata=x, ydata=y_out)
print("least squares:", plain.params, "\nHuber:        ", robust.params)
profiled = parafit.fit("exp-decay", xdata=x, ydata=y, ci="profile")
print("profile intervals:", list(zip(profiled.names, profiled.ci_lower, profiled.ci_upper)))

# %% 4. Ten thousand small fits at once: one Gaussian peak per row, Poisson counts.
grid = np.arange(32, dtype=float)
mu = rng.uniform(10, 22, 10_000)
counts = rng.poisson(500 * np.exp(-0.5 * ((grid[None, :] - mu[:, None]) / 3.0) ** 2) + 20)
peaks = parafit.batch("gauss", counts.astype(float), grid, estimator="poisson-mle")
print(peaks.summary, "| median |mu error|:", np.median(np.abs(peaks.estimates[:, 1] - mu)))

# %% 5. An MLP regressor, scikit-learn style (fit / predict / score), deterministic for any threads.
X = rng.uniform(-1, 1, (20_000, 4))
t = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] ** 2
model = parafit.MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=30, batch_size=128, random_state=0)
model.fit(X[:15_000], t[:15_000])
print("MLP R^2 on held-out rows:", model.score(X[15_000:], t[15_000:]))
