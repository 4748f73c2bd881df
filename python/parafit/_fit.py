"""parafit.fit and parafit.curve_fit: nonlinear least squares on numpy arrays."""
from __future__ import annotations

import inspect
import json
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core

ModelLike = Union[str, Callable[..., Any]]


@dataclass(frozen=True)
class Prediction:
    """Predictions with an interval (``FitResult.predict(..., interval=...)``)."""

    fit: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se_fit: np.ndarray
    se_pred: Optional[np.ndarray]
    level: float


class FitResult:
    """The result of :func:`parafit.fit`: estimates, standard errors, intervals, covariance and
    statistics, as ``parafit fit`` reports them (R's ``summary(nls)``).

    Attributes: ``names``, ``estimates``, ``std_errors``, ``t_values``, ``p_values``,
    ``ci_lower``, ``ci_upper`` (Wald or profile, ``statistics['ci_method']``), ``covariance``
    (p x p; NaN rows for fixed parameters), ``params`` (name -> estimate), ``statistics`` (sigma,
    df, r_squared, aic, bic, loss, ...), ``converged``, ``termination``, ``message``,
    ``iterations``, ``cost_history``.
    """

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        d = handle.to_python()
        self.names: list[str] = list(d["names"])
        self.estimates: np.ndarray = d["estimates"]
        self.std_errors: np.ndarray = d["std_errors"]
        self.t_values: np.ndarray = d["t_values"]
        self.p_values: np.ndarray = d["p_values"]
        self.ci_lower: np.ndarray = d["ci_lower"]
        self.ci_upper: np.ndarray = d["ci_upper"]
        self.fixed: list[bool] = list(d["fixed"])
        self.at_bound: list[bool] = list(d["at_bound"])
        self.covariance: np.ndarray = d["covariance"]
        self._jtwj: np.ndarray = d["jtwj"]  # J^T W J over the fitted parameters (bounded ones included)
        self.converged: bool = bool(d["converged"])
        self.termination: str = d["termination"]
        self.message: str = d["message"]
        self.iterations: int = int(d["iterations"])
        self.function_evaluations: int = int(d["function_evaluations"])
        self.cost_history: np.ndarray = d["cost_history"]
        self.statistics: dict[str, Any] = dict(d["statistics"])
        self.inputs: list[str] = list(d["inputs"])
        self.response: str = d["response"]

    @property
    def params(self) -> dict[str, float]:
        """The estimates by parameter name."""
        return dict(zip(self.names, (float(v) for v in self.estimates)))

    @property
    def copies(self) -> int:
        """How many data columns had to be converted to float64 (0: every array was used in place)."""
        return int(self._handle.copies)

    def summary(self, print_it: bool = True) -> str:
        """The summary ``parafit fit`` prints (R's ``summary(nls)`` table); printed unless
        ``print_it`` is False, and returned."""
        text = self._handle.summary()
        if print_it:
            print(text, end="")
        return text

    def predict(self, x: Any, interval: Optional[str] = None, level: Optional[float] = None,
                weights: Any = None) -> Union[np.ndarray, Prediction]:
        """Predictions at ``x`` (an array for a model of one input, an array of shape (k, n) for k
        inputs, or a mapping of input column names to arrays). With ``interval='confidence'`` (the
        mean's) or ``'prediction'`` (a new observation's, with ``weights`` if given), a
        :class:`Prediction` with the band at ``level`` (default: the fit's confidence level)."""
        data = _input_columns(x, self.inputs)
        out = self._handle.predict(data, interval or "confidence", float(level or 0.0), weights)
        if interval is None:
            return out["fit"]
        return Prediction(out["fit"], out["lower"], out["upper"], out["se_fit"], out.get("se_pred"),
                          float(out["level"]))

    def report(self, path: str, title: str = "", comm: Any = None) -> None:
        """Writes the HTML report of ``parafit fit --report`` (one self-contained file). Under MPI,
        a collective: every rank calls it with the same ``comm``; rank 0 writes the file."""
        html = self._handle.report_html(title, comm)
        if html:
            with open(path, "w", encoding="utf-8") as f:
                f.write(html)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``parafit fit --json`` as a dict."""
        return json.loads(self._handle.json())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={v:.6g}" for n, v in self.params.items())
        return f"FitResult({inner}; {self.termination})"


def _input_columns(x: Any, inputs: Sequence[str]) -> Mapping[str, Any]:
    if hasattr(x, "keys"):
        return x
    arr = np.asarray(x)
    if len(inputs) == 1:
        if arr.ndim != 1:
            raise ValueError(f"x must be one-dimensional for a model of one input, not of shape {arr.shape}")
        return {inputs[0]: x}
    if arr.ndim != 2 or arr.shape[0] != len(inputs):
        raise ValueError(f"x must have shape ({len(inputs)}, n) for the inputs {', '.join(inputs)}")
    return {name: arr[k] for k, name in enumerate(inputs)}


def _callable_parameters(f: Callable[..., Any], count: Optional[int]) -> list[str]:
    """The parameter names of f(x, a, b, ...) (scipy's rule: every argument after the first)."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        sig = None
    names: list[str] = []
    if sig is not None:
        for i, p in enumerate(sig.parameters.values()):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                names = []
                break
            if i > 0:
                names.append(p.name)
    if not names:
        if count is None:
            raise ValueError("cannot tell how many parameters the function takes: give p0 (or start)")
        names = [f"p{j}" for j in range(count)]
    if count is not None and count != len(names):
        raise ValueError(f"the function takes {len(names)} parameter(s) ({', '.join(names)}), "
                         f"but {count} start value(s) were given")
    return names


def _label(f: Callable[..., Any], names: Sequence[str]) -> str:
    return f"{getattr(f, '__name__', 'f')}(x, {', '.join(names)})"


def fit(model: ModelLike, data: Optional[Mapping[str, Any]] = None, *, x: Union[str, Sequence[str], None] = None,
        y: str = "y", xdata: Any = None, ydata: Any = None, weights: Union[str, Any, None] = None,
        loss: str = "squared", start: Optional[Mapping[str, float]] = None,
        fix: Optional[Mapping[str, float]] = None,
        bounds: Optional[Mapping[str, tuple[Optional[float], Optional[float]]]] = None,
        params: Optional[Sequence[str]] = None, jac: Optional[Callable[..., Any]] = None,
        threads: Optional[int] = None, conf_level: float = 0.95, ci: str = "wald",
        max_iterations: Optional[int] = None, comm: Any = None) -> FitResult:
    """Fits ``model`` as ``parafit fit`` does and returns a :class:`FitResult`.

    ``model``: a built-in model name (``"exp-decay"``, ``"poly:2"``; see ``parafit models``), a
    formula (``"a*exp(-b*x) + c"``, ``"log(y) ~ b1 - b2*x"``), or a Python function
    ``f(x, a, b, ...)`` evaluated on whole blocks of rows (x an array of shape (n,), or (k, n) for
    k inputs), with ``jac(x, a, b, ...)`` (shape (n, p)) or forward differences for its Jacobian.

    The data: ``data``, a mapping of column names to arrays (a dict, a DataFrame), with ``x`` the
    input column(s) and ``y`` the response; or ``xdata``/``ydata`` arrays (the inputs named x, or
    x0, x1, ... for a (k, n) xdata). float64 C-contiguous arrays are used in place (no copy); other
    arrays are converted once. ``weights``: a column name or an array. ``loss``: ``squared`` or
    a robust loss (``huber:0.5``, ``soft-l1:D``, ``cauchy:D``, ``arctan:D``, ``tukey:D``).
    ``start``/``fix``/``bounds`` by parameter name; ``ci``: ``wald`` or ``profile``.
    ``threads``: worker threads (default: all cores; 1 for a Python function, which holds the
    GIL); the result does not depend on it.
    ``comm``: an mpi4py communicator: under ``mpirun`` each rank passes its own rows, and every
    rank gets the same result, bit for bit the one of a single process.

    Raises :class:`parafit.Error` (a ValueError) with the command line's message for bad input.
    The GIL is released while the fit runs; Ctrl-C stops it between iterations.
    """
    columns: dict[str, Any] = {}
    if data is not None:
        if xdata is not None or ydata is not None:
            raise TypeError("give data, or xdata and ydata, not both")
        columns = data  # type: ignore[assignment]
    else:
        if xdata is None or ydata is None:
            raise TypeError("fit needs data (a mapping of columns) or xdata and ydata")
        columns = {}
        xa = np.asarray(xdata) if not isinstance(xdata, np.ndarray) else xdata
        if xa.ndim == 1:
            columns["x"] = xa
            default_x = ["x"]
        elif xa.ndim == 2:
            default_x = [f"x{k}" for k in range(xa.shape[0])]
            for k, name in enumerate(default_x):
                columns[name] = xa[k]
        else:
            raise ValueError(f"xdata must have shape (n,) or (k, n), not {xa.shape}")
        columns[y] = ydata
        if x is None and (callable(model) or not _is_formula(model)):
            x = default_x
    weights_name = ""
    if weights is not None:
        if isinstance(weights, str):
            weights_name = weights
        else:
            columns = dict(columns)
            weights_name = "__weights__"
            columns[weights_name] = weights
    x_list = [x] if isinstance(x, str) else list(x or [])
    function = None
    names: list[str] = list(params or [])
    label = model if isinstance(model, str) else ""
    if callable(model):
        function = model
        if threads is None:
            threads = 1  # a Python function holds the GIL: more threads only queue for it
        if not names:
            try:
                names = _callable_parameters(model, None)
            except ValueError:
                if not start:
                    raise ValueError("cannot tell the parameters of a function f(x, *args): give params "
                                     "(their names) or start (by name)") from None
                names = list(start.keys())
        label = _label(model, names)
        if not x_list:
            x_list = ["x"]
    elif not isinstance(model, str):
        raise TypeError(f"model must be a name, a formula or a function, not {type(model).__name__}")
    elif jac is not None:
        raise TypeError("jac is for a Python function model; built-in and formula models have exact derivatives")
    handle = _core.fit(columns, label, function, jac, names, x_list, y, weights_name, loss,
                       dict(start or {}), dict(fix or {}), dict(bounds or {}), threads, conf_level, ci,
                       max_iterations, comm)
    return FitResult(handle)


def _is_formula(model: Any) -> bool:
    return isinstance(model, str) and any(not (c.isalnum() or c in "_:-") for c in model)


def curve_fit(f: ModelLike, xdata: Any, ydata: Any, p0: Any = None, sigma: Any = None, absolute_sigma: bool = False,
              check_finite: Optional[bool] = None, bounds: Any = (-np.inf, np.inf), method: Optional[str] = None,
              jac: Optional[Callable[..., Any]] = None, *, full_output: bool = False,
              nan_policy: Optional[str] = None, threads: Optional[int] = None, loss: str = "squared",
              **kwargs: Any) -> Any:
    """scipy.optimize.curve_fit's signature and return value ``(popt, pcov)``, on parafit's
    Levenberg-Marquardt: code written for scipy runs unchanged.

    ``f``: a function ``f(x, *params)`` (evaluated on whole arrays, never per point: with ``jac``
    or forward differences, 1 + p calls per block of rows and iteration), a built-in model name
    (``"exp-decay"``: without ``p0`` it self-starts), or a formula of ``x`` (or ``x0``, ``x1``,
    ... for a (k, n) ``xdata``). ``p0`` defaults to ones, as in scipy, for functions and formulas.
    ``sigma``: one standard deviation per point (weights 1/sigma^2); ``absolute_sigma`` as in
    scipy (pcov not scaled by the residual variance). ``bounds``: (lower, upper), scalars or one
    per parameter. ``method`` is accepted for compatibility; parafit always uses its LM (with
    bounds, as a box). ``full_output=True`` returns ``(popt, pcov, infodict, mesg, ier)`` as scipy,
    with ``infodict['result']`` the :class:`FitResult`. ``threads`` and ``loss`` are parafit's.

    Raises RuntimeError when the fit does not converge (as scipy), ValueError for non-finite data
    (``check_finite``) and :class:`parafit.Error` for bad input.
    """
    if kwargs:
        raise TypeError(f"curve_fit got unexpected keyword arguments: {', '.join(sorted(kwargs))} "
                        "(parafit's LM takes no scipy least_squares/leastsq options)")
    if method not in (None, "lm", "trf", "dogbox"):
        raise ValueError(f"method must be 'lm', 'trf' or 'dogbox', not {method!r}")
    if nan_policy not in (None, "raise"):
        raise ValueError("nan_policy: parafit supports None and 'raise' (rows with NaN are an error)")
    xa = np.asarray(xdata)
    ya = np.asarray(ydata)
    if xa.dtype == object or ya.dtype == object:
        raise ValueError("xdata and ydata must be arrays of numbers")
    if check_finite is None:
        check_finite = nan_policy is None
    if check_finite and (not np.all(np.isfinite(xa)) or not np.all(np.isfinite(ya))):
        raise ValueError("array must not contain infs or NaNs")
    if ya.ndim != 1:
        raise ValueError(f"ydata must be one-dimensional, not of shape {ya.shape}")
    n = ya.shape[0]
    if xa.ndim not in (1, 2) or xa.shape[-1] != n:
        raise ValueError(f"xdata must have shape ({n},) or (k, {n}), not {xa.shape}")
    inputs = ["x"] if xa.ndim == 1 else [f"x{k}" for k in range(xa.shape[0])]
    columns: dict[str, Any] = {"__y__": ydata if isinstance(ydata, np.ndarray) else ya}
    if xa.ndim == 1:
        columns["x"] = xdata if isinstance(xdata, np.ndarray) else xa
    else:
        for k, name in enumerate(inputs):
            columns[name] = xa[k]
    # The parameters and where they start.
    p0a = None if p0 is None else np.atleast_1d(np.asarray(p0, dtype=float))
    function = None
    if callable(f):
        function = f
        if threads is None:
            threads = 1  # a Python function holds the GIL: more threads only queue for it
        names = _callable_parameters(f, None if p0a is None else p0a.size)
        label = _label(f, names)
        if p0a is None:
            p0a = np.ones(len(names))
    elif isinstance(f, str):
        label = f
        if jac is not None:
            raise TypeError("jac is for a function model; built-in and formula models have exact derivatives")
        names = list(_core.parameters_of(f, list(columns.keys())))
        if p0a is None and _is_formula(f):
            p0a = np.ones(len(names))
        if p0a is not None and p0a.size != len(names):
            raise ValueError(f"p0 has {p0a.size} values, but {f} has {len(names)} parameters ({', '.join(names)})")
    else:
        raise TypeError(f"f must be a function, a built-in model name or a formula, not {type(f).__name__}")
    box: dict[str, tuple[Optional[float], Optional[float]]] = {}
    lb, ub = bounds
    lba = np.broadcast_to(np.asarray(lb, dtype=float), (len(names),))
    uba = np.broadcast_to(np.asarray(ub, dtype=float), (len(names),))
    if p0 is None and p0a is not None and (np.any(np.isfinite(lba)) or np.any(np.isfinite(uba))):
        # scipy's feasible default: the middle of a finite box, 1 inside a one-sided bound.
        both = np.isfinite(lba) & np.isfinite(uba)
        p0a = np.where(both, 0.5 * (lba + uba), p0a)
        p0a = np.where(np.isfinite(lba) & ~np.isfinite(uba), lba + 1, p0a)
        p0a = np.where(~np.isfinite(lba) & np.isfinite(uba), uba - 1, p0a)
    start = {} if p0a is None else dict(zip(names, (float(v) for v in p0a)))
    for j, name in enumerate(names):
        lo = float(lba[j]) if np.isfinite(lba[j]) else None
        hi = float(uba[j]) if np.isfinite(uba[j]) else None
        if lo is not None or hi is not None:
            box[name] = (lo, hi)
    weights_name = ""
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)
        if s.ndim != 1 or s.shape[0] != n:
            raise ValueError("sigma must be one standard deviation per point (a 1-D array of ydata's length); "
                             "parafit takes no covariance matrix of the errors")
        columns["__weights__"] = 1.0 / (s * s)
        weights_name = "__weights__"
    handle = _core.fit(columns, label, function, jac, names if function is not None else [],
                       inputs, "__y__", weights_name, loss, start, {}, box, threads, 0.95, "wald", None, None)
    result = FitResult(handle)
    if not result.converged:
        raise RuntimeError(f"Optimal parameters not found: {result.message}")
    popt = result.estimates.copy()
    pcov = result.covariance.copy()
    s_sq = result.statistics["sigma"] ** 2  # RSS / df: the residual variance the covariance carries
    if any(result.at_bound) and not result.statistics["singular"]:
        # parafit gives a parameter held at its bound no standard error; scipy's pcov is
        # RSS / (n - p) (J^T W J)^-1 over every parameter, bound or not (p counts them all): that,
        # for code written for scipy.
        dof = result.statistics["observations"] - len(names)
        s_sq = result.statistics["rss"] / dof if dof > 0 else np.inf
        try:
            pcov = np.linalg.inv(result._jtwj) * s_sq
        except np.linalg.LinAlgError:
            pcov = np.full((len(names), len(names)), np.nan)
    if result.statistics["singular"] or not np.all(np.isfinite(pcov)):
        warnings.warn("Covariance of the parameters could not be estimated", category=RuntimeWarning, stacklevel=2)
        pcov = np.full((len(names), len(names)), np.inf)
    elif absolute_sigma:  # sigma as given: undo the scaling by the residual variance
        pcov = pcov / s_sq
    if full_output:
        fitted = result.predict(_input_columns(xa, inputs))
        infodict = {"nfev": result.function_evaluations, "fvec": np.asarray(fitted) - ya, "result": result}
        return popt, pcov, infodict, result.message, 1
    return popt, pcov
