"""parafit.curve_fit against scipy.optimize.curve_fit on examples written from scipy's
documentation: popt and pcov within 1e-6 relative, with and without sigma and absolute_sigma,
and with bounds.

scipy runs to convergence (ftol = xtol = gtol = 1e-14): at its default tolerances (1.5e-8) its
pcov comes from the Jacobian of MINPACK's last evaluation, not the one at popt, and is up to 2e-5
off the exact covariance at its own popt (test_scipy_defaults_are_looser shows it), where parafit's
is within 4e-8."""
import numpy as np
import pytest
from scipy.optimize import curve_fit as scipy_default

import parafit


def scipy_curve_fit(*args, **kwargs):
    return scipy_default(*args, ftol=1e-14, xtol=1e-14, gtol=1e-14, **kwargs)


def close(mine, theirs, rtol=1e-6):
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=0)


def close_cov(mine, theirs, rtol=1e-6):
    """Covariances entry by entry, relative to sqrt(C_ii C_jj): an off-diagonal entry near zero
    (a correlation near 0) is made by cancellation, and both tools' forward-difference Jacobians
    leave it a few 1e-6 of itself off the exact value (scipy's too, measured)."""
    scale = np.sqrt(np.outer(np.diag(theirs), np.diag(theirs)))
    assert np.all(np.abs(mine - theirs) <= rtol * scale), np.max(np.abs(mine - theirs) / scale)


def decay(x, a, b, c):
    return a * np.exp(-b * x) + c


@pytest.fixture
def decay_data():
    # scipy's documented example: a*exp(-b*x) + c with a=2.5, b=1.3, c=0.5, noise 0.2.
    rng = np.random.default_rng(1729)
    xdata = np.linspace(0, 4, 50)
    ydata = decay(xdata, 2.5, 1.3, 0.5) + 0.2 * rng.normal(size=xdata.size)
    return xdata, ydata


def test_the_documented_exponential(decay_data):
    x, y = decay_data
    mine = parafit.curve_fit(decay, x, y)
    theirs = scipy_curve_fit(decay, x, y)
    close(mine[0], theirs[0])
    close_cov(mine[1], theirs[1])


def test_the_documented_exponential_with_bounds(decay_data):
    x, y = decay_data
    # scipy's example constrains 0 <= a <= 3, 0 <= b <= 1, 0 <= c <= 0.5: b ends on its bound.
    bounds = (0, [3.0, 1.0, 0.5])
    mine = parafit.curve_fit(decay, x, y, bounds=bounds)
    theirs = scipy_curve_fit(decay, x, y, bounds=bounds)
    close(mine[0], theirs[0])
    assert mine[0][1] == pytest.approx(1.0)
    # pcov as scipy's: over every parameter, the one on its bound included.
    close_cov(mine[1], theirs[1])


@pytest.mark.parametrize("absolute", [False, True])
def test_sigma_and_absolute_sigma(decay_data, absolute):
    x, y = decay_data
    sigma = 0.1 + 0.2 * x / 4
    mine = parafit.curve_fit(decay, x, y, p0=[2, 1, 0.3], sigma=sigma, absolute_sigma=absolute)
    theirs = scipy_curve_fit(decay, x, y, p0=[2, 1, 0.3], sigma=sigma, absolute_sigma=absolute)
    close(mine[0], theirs[0])
    close_cov(mine[1], theirs[1])


def test_two_independent_variables():
    # xdata of shape (k, M) for a function of several variables, as scipy documents.
    def f(X, a, b, c):
        return a * np.exp(-b * X[0]) + c * X[1]

    rng = np.random.default_rng(7)
    X = np.vstack([rng.uniform(0, 3, 200), rng.uniform(-1, 1, 200)])
    y = f(X, 2.0, 0.8, 0.4) + 0.05 * rng.normal(size=200)
    mine = parafit.curve_fit(f, X, y, p0=[1, 1, 1])
    theirs = scipy_curve_fit(f, X, y, p0=[1, 1, 1])
    close(mine[0], theirs[0])
    close_cov(mine[1], theirs[1])


def test_a_gaussian_peak_with_a_jacobian():
    def gauss(x, a, mu, s):
        return a * np.exp(-0.5 * ((x - mu) / s) ** 2)

    def jac(x, a, mu, s):
        e = np.exp(-0.5 * ((x - mu) / s) ** 2)
        return np.stack([e, a * e * (x - mu) / s**2, a * e * (x - mu) ** 2 / s**3], axis=1)

    rng = np.random.default_rng(11)
    x = np.linspace(-5, 5, 300)
    y = gauss(x, 3.0, 0.5, 1.2) + 0.1 * rng.normal(size=x.size)
    mine = parafit.curve_fit(gauss, x, y, p0=[1, 0, 1], jac=jac)
    theirs = scipy_curve_fit(gauss, x, y, p0=[1, 0, 1], jac=jac)
    close(mine[0], theirs[0])
    close_cov(mine[1], theirs[1])


def test_built_in_names_and_formulas_as_f(decay_data):
    x, y = decay_data
    theirs = scipy_curve_fit(decay, x, y)
    by_name = parafit.curve_fit("exp-decay", x, y)          # self-starts: no p0 needed
    close(by_name[0], theirs[0])
    close_cov(by_name[1], theirs[1])
    by_formula = parafit.curve_fit("a*exp(-b*x) + c", x, y)  # p0 = ones, as scipy
    close(by_formula[0], theirs[0])


def test_full_output_and_failures(decay_data):
    x, y = decay_data
    popt, pcov, info, mesg, ier = parafit.curve_fit(decay, x, y, full_output=True)
    assert ier == 1 and isinstance(info["result"], parafit.FitResult)
    np.testing.assert_allclose(info["fvec"], decay(x, *popt) - y, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="infs or NaNs"):
        parafit.curve_fit(decay, x, np.where(x > 1, np.nan, y))
    with pytest.raises(TypeError, match="unexpected keyword"):
        parafit.curve_fit(decay, x, y, maxfev=10)
    with pytest.raises(ValueError, match="3 parameter"):
        parafit.curve_fit(decay, x, y, p0=[1, 2])


def test_scipy_defaults_are_looser(decay_data):
    # Against the exact covariance at each tool's own popt (the analytic Jacobian there), parafit's
    # pcov is within 1e-7; scipy's at its default tolerances is further off, and popt agrees with
    # scipy's defaults to 1e-6.
    x, y = decay_data

    def exact(p):
        a, b, c = p
        e = np.exp(-b * x)
        J = np.stack([e, -a * x * e, np.ones_like(x)], axis=1)
        r = decay(x, *p) - y
        return np.linalg.inv(J.T @ J) * (r @ r) / (x.size - 3)

    mine = parafit.curve_fit(decay, x, y)
    theirs = scipy_default(decay, x, y)
    close(mine[0], theirs[0])
    mine_error = np.max(np.abs(mine[1] - exact(mine[0])) / np.abs(exact(mine[0])))
    theirs_error = np.max(np.abs(theirs[1] - exact(theirs[0])) / np.abs(exact(theirs[0])))
    assert mine_error < 1e-7
    assert mine_error < theirs_error
