"""parafit.batch: the same bits as `parafit batch`, numpy in and out."""
import numpy as np

import parafit
from conftest import ROOT, run_cli


def test_batch_has_the_clis_bits(tmp_path):
    peaks = ROOT / "examples" / "data" / "peaks.csv"
    out = tmp_path / "fits.npy"
    r = run_cli("batch", "--data", peaks, "--y-columns", "y0..y31", "--model", "gauss", "--estimator", "poisson-mle",
                "--out", out)
    assert r.returncode == 0, r.stderr
    cli = np.load(out)  # id, status, points, iterations, deviance, estimates..., se...
    y = np.loadtxt(peaks, delimiter=",", skiprows=1)
    b = parafit.batch("gauss", y, estimator="poisson-mle")
    assert b.names == ["a", "mu", "s", "c"]
    assert b.estimates.shape == (20, 4)
    p = len(b.names)
    np.testing.assert_array_equal(b.estimates, cli[:, -2 * p:-p])
    np.testing.assert_array_equal(b.std_errors, cli[:, -p:])
    np.testing.assert_array_equal(b.cost, cli[:, -2 * p - 1])
    assert b.counts()["converged"] == 20 and b.converged.all()


def test_batch_shapes_start_and_float32():
    x = np.linspace(0, 4, 25)
    rng = np.random.default_rng(3)
    a = rng.uniform(1, 3, 100)
    y = a[:, None] * np.exp(-1.2 * x)[None, :] + 0.5 + 0.01 * rng.normal(size=(100, 25))
    b = parafit.batch("exp-decay", y, x)
    np.testing.assert_allclose(b.estimates[:, 0], a, rtol=0.05)
    per_fit_x = np.broadcast_to(x, y.shape).copy()
    assert np.array_equal(parafit.batch("exp-decay", y, per_fit_x).estimates, b.estimates)
    started = parafit.batch("exp-decay", y, x, start=[2.0, 1.0, 0.5])
    np.testing.assert_allclose(started.estimates, b.estimates, rtol=1e-6)
    f32 = parafit.batch("exp-decay", y, x, precision="float32")
    np.testing.assert_allclose(f32.estimates, b.estimates, rtol=1e-3)
    assert np.array_equal(parafit.batch("exp-decay", y, x, threads=1).estimates,
                          parafit.batch("exp-decay", y, x, threads=2).estimates)
