"""parafit from Python: fast, parallel nonlinear regression on numpy arrays.

    import parafit
    popt, pcov = parafit.curve_fit(f, xdata, ydata, p0)          # scipy's curve_fit, unchanged
    r = parafit.fit("exp-decay", xdata=x, ydata=y)                # `parafit fit`: R's statistics
    r.summary(); r.predict(x_new, interval="prediction"); r.report("fit.html")
    b = parafit.batch("gauss", counts, estimator="poisson-mle")  # many small fits, numpy out
    m = parafit.MLPRegressor(hidden_layer_sizes=(64, 64)).fit(X, y)  # a scikit-learn estimator

Errors in the input raise parafit.Error (a ValueError) with the command line's message. The GIL is
released while parafit computes. Under mpirun, pass an mpi4py communicator as ``comm``: each rank
gives its own rows and every rank gets the same result as one process.
"""
from ._core import Error
from ._batch import BatchResult, batch
from ._fit import FitResult, Prediction, curve_fit, fit
from ._mlp import MLPRegressor

__all__ = ["Error", "fit", "FitResult", "Prediction", "curve_fit", "batch", "BatchResult", "MLPRegressor"]
__version__ = "0.1.0"
