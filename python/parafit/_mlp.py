"""parafit.MLPRegressor: scikit-learn's MLPRegressor interface on parafit's trainer."""
from __future__ import annotations

import json
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core

try:  # scikit-learn is optional: without it MLPRegressor still works, as a plain class.
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.utils.validation import check_is_fitted, column_or_1d

    _HAVE_SKLEARN = True
except ImportError:  # pragma: no cover
    BaseEstimator = object  # type: ignore[misc,assignment]
    RegressorMixin = object  # type: ignore[misc,assignment]
    _HAVE_SKLEARN = False

_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "gelu": "gelu"}


class MLPRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A multi-layer perceptron regressor with scikit-learn's interface (``fit``, ``predict``,
    ``score``, ``partial_fit``, ``get_params``/``set_params``), trained by parafit: data-parallel
    on threads (and MPI ranks with ``comm``), the same weights for any number of them.

    scikit-learn's parameters where they mean the same: ``hidden_layer_sizes``, ``activation``
    (relu, tanh, logistic; and parafit's gelu; not identity), ``solver`` (adam, sgd, lbfgs; and
    parafit's adamw, whose decoupled weight decay is ``alpha``),
    ``alpha`` (L2 penalty, applied as weight decay alpha * w to each step's gradient, PyTorch's
    convention, where scikit-learn divides it by the batch size), ``batch_size`` ("auto":
    min(200, n)), ``learning_rate_init``, ``max_iter`` (epochs; L-BFGS: iterations), ``random_state``
    (an int; None is seed 1: parafit is deterministic), ``momentum``, ``nesterovs_momentum``,
    ``beta_1``, ``beta_2``, ``epsilon``, ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``warm_start``. ``learning_rate`` must be "constant"; ``tol``,
    ``shuffle``, ``verbose`` and ``max_fun`` are accepted and have no effect (parafit always
    shuffles; it stops on ``max_iter`` or early stopping).

    parafit's own: ``threads``, ``precision`` (float32, the default, or float64), ``loss``
    (squared or a robust loss, "huber:0.5"), ``checkpoint`` (a file the full training state is
    written to after every epoch; ``resume`` continues from one), ``comm`` (an mpi4py
    communicator: each rank passes its own rows).

    Fitted attributes: ``n_features_in_``, ``loss_`` (final training loss, response units),
    ``loss_curve_`` (per epoch), ``validation_scores_`` (validation loss per epoch, with
    early_stopping), ``n_iter_``, ``t_`` (samples seen), ``model_`` (the network as parafit's model
    file text: ``parafit predict --model-file`` reads it once saved).

    ``partial_fit`` trains one more epoch from the current weights (a fresh optimizer state each
    call: Adam's moments are not kept between calls). Ctrl-C stops training cleanly between steps
    and raises KeyboardInterrupt; checkpoints written so far stay intact.
    """

    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,), activation: str = "relu",
                 *, solver: str = "adam", alpha: float = 0.0001, batch_size: Union[int, str] = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001, max_iter: int = 200,
                 shuffle: bool = True, random_state: Optional[int] = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, threads: Optional[int] = None, precision: str = "float32",
                 loss: str = "squared", checkpoint: Optional[str] = None, resume: Optional[str] = None,
                 comm: Any = None) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.threads = threads
        self.precision = precision
        self.loss = loss
        self.checkpoint = checkpoint
        self.resume = resume
        self.comm = comm

    # scikit-learn's estimator tags: one output, float input.
    def _more_tags(self) -> dict[str, Any]:
        return {"multioutput": False, "poor_score": False}

    def _options(self, n_rows: int, epochs: int, initial: Optional[str]) -> dict[str, Any]:
        sizes = [self.hidden_layer_sizes] if isinstance(self.hidden_layer_sizes, (int, np.integer)) \
            else list(self.hidden_layer_sizes)
        if not sizes or any(int(s) < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, not {self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(_ACTIVATIONS)} (parafit has no 'identity'), "
                             f"not {self.activation!r}")
        if self.solver not in ("adam", "sgd", "lbfgs", "adamw"):
            raise ValueError(f"solver must be 'adam', 'sgd', 'lbfgs' (or parafit's 'adamw'), not {self.solver!r}")
        if self.learning_rate != "constant":
            raise ValueError(f"learning_rate must be 'constant' (parafit's schedules are not scikit-learn's), "
                             f"not {self.learning_rate!r}")
        if self.batch_size == "auto":
            batch = min(200, n_rows)
        else:
            batch = int(self.batch_size)
            if batch < 1:
                raise ValueError(f"batch_size must be >= 1, not {self.batch_size!r}")
            batch = min(batch, n_rows)
        if self.random_state is not None and not isinstance(self.random_state, (int, np.integer)):
            raise ValueError("random_state must be an int or None (parafit takes seeds, not RandomState objects)")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, not {self.max_iter!r}")
        options: dict[str, Any] = {
            "model": "mlp:" + ",".join(str(int(s)) for s in sizes),
            "activation": _ACTIVATIONS[self.activation],
            "precision": self.precision,
            "optimizer": self.solver,
            "learning_rate": float(self.learning_rate_init),
            "weight_decay": float(self.alpha),
            "batch": batch,
            "epochs": epochs,
            "seed": 1 if self.random_state is None else int(self.random_state),
            "loss": self.loss,
            "initial": initial,
        }
        if self.solver == "sgd":
            options["momentum"] = float(self.momentum)
            options["nesterov"] = bool(self.nesterovs_momentum) and self.momentum > 0
        if self.solver in ("adam", "adamw"):
            options.update(beta1=float(self.beta_1), beta2=float(self.beta_2), epsilon=float(self.epsilon))
        if self.solver == "lbfgs":
            options["max_iterations"] = epochs
        if self.early_stopping:
            options["validation_fraction"] = float(self.validation_fraction)
            options["early_stop"] = int(self.n_iter_no_change)
        if self.checkpoint:
            options["checkpoint"] = self.checkpoint
        if self.resume:
            options["resume"] = self.resume
        return options

    def _validate_x(self, X: Any) -> np.ndarray:
        if _HAVE_SKLEARN:
            return self._validate_data(X, reset=False, dtype=[np.float64, np.float32])
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}), not {X.shape}")
        return X

    def _validate_xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        if _HAVE_SKLEARN:  # scikit-learn's checks and messages (y=None included)
            X, y = self._validate_data(X, y, reset=reset, dtype=[np.float64, np.float32], y_numeric=True)
            return X, column_or_1d(y, warn=True)
        if y is None:
            raise ValueError("MLPRegressor requires y to be passed, but the target y is None")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"X must be two-dimensional, not of shape {X.shape}")
        if reset:
            self.n_features_in_ = X.shape[1]
        return X, np.asarray(y, dtype=float).ravel()

    @staticmethod
    def _columns(X: np.ndarray, y: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        # One column per feature: a Fortran-ordered float64 X is used in place; otherwise one copy.
        Xf = np.asfortranarray(X, dtype=np.float64)
        cols = {f"x{k}": Xf[:, k] for k in range(Xf.shape[1])}
        if y is not None:
            cols["y"] = np.ascontiguousarray(y, dtype=np.float64)
        return cols

    def _train(self, X: Any, y: Any, epochs: int, continue_from: Optional[str]) -> "MLPRegressor":
        X, y = self._validate_xy(X, y, reset=continue_from is None)
        options = self._options(X.shape[0], epochs, continue_from)
        options["x"] = [f"x{k}" for k in range(X.shape[1])]
        handle = _core.train(self._columns(X, y), options, self.threads, self.comm)
        history = handle.history()
        self.model_ = handle.model_text()
        self.loss_curve_ = [float(v) for v in history["train_loss"]]
        if self.early_stopping:
            self.validation_scores_ = [float(v) for v in history["validation_loss"]]
        self.loss_ = float(handle.final_train_loss)
        self.n_iter_ = int(handle.epochs) + (getattr(self, "n_iter_", 0) if continue_from else 0)
        self.t_ = (getattr(self, "t_", 0) if continue_from else 0) + int(handle.epochs) * X.shape[0]
        self.termination_ = handle.termination
        self.summary_ = handle.summary()
        return self

    def fit(self, X: Any, y: Any) -> "MLPRegressor":
        """Trains on X (n_samples, n_features) and y (n_samples,) for ``max_iter`` epochs (from the
        current weights with ``warm_start``)."""
        initial = getattr(self, "model_", None) if self.warm_start else None
        return self._train(X, y, int(self.max_iter), initial)

    def partial_fit(self, X: Any, y: Any) -> "MLPRegressor":
        """One epoch on X, y from the current weights (the first call starts from the seed)."""
        if self.solver == "lbfgs":
            raise ValueError("partial_fit is for the mini-batch solvers (sgd, adam), not lbfgs")
        return self._train(X, y, 1, getattr(self, "model_", None))

    def predict(self, X: Any) -> np.ndarray:
        """The predictions for X, in y's units."""
        if _HAVE_SKLEARN:
            check_is_fitted(self, "model_")
        X = self._validate_x(X)
        return _core.mlp_predict(self.model_, self._columns(X), self.threads)

    @property
    def model_info_(self) -> dict[str, Any]:
        """The fitted network's model file as a dict (widths, activation, standardisation, weights)."""
        return json.loads(self.model_)

    def save(self, path: str) -> None:
        """Writes the fitted network as a parafit model file (``parafit predict --model-file``)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.model_)
