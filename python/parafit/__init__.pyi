# Type stubs of the parafit package (docstrings: help(parafit.fit) and the modules).
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

__version__: str

class Error(ValueError): ...

ModelLike = Union[str, Callable[..., Any]]

class Prediction:
    fit: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se_fit: np.ndarray
    se_pred: Optional[np.ndarray]
    level: float

class FitResult:
    names: list[str]
    estimates: np.ndarray
    std_errors: np.ndarray
    t_values: np.ndarray
    p_values: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    fixed: list[bool]
    at_bound: list[bool]
    covariance: np.ndarray
    converged: bool
    termination: str
    message: str
    iterations: int
    function_evaluations: int
    cost_history: np.ndarray
    statistics: dict[str, Any]
    inputs: list[str]
    response: str
    @property
    def params(self) -> dict[str, float]: ...
    @property
    def copies(self) -> int: ...
    def summary(self, print_it: bool = ...) -> str: ...
    def predict(self, x: Any, interval: Optional[str] = ..., level: Optional[float] = ...,
                weights: Any = ...) -> Union[np.ndarray, Prediction]: ...
    def report(self, path: str, title: str = ..., comm: Any = ...) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...

def fit(model: ModelLike, data: Optional[Mapping[str, Any]] = ..., *, x: Union[str, Sequence[str], None] = ...,
        y: str = ..., xdata: Any = ..., ydata: Any = ..., weights: Union[str, Any, None] = ..., loss: str = ...,
        start: Optional[Mapping[str, float]] = ..., fix: Optional[Mapping[str, float]] = ...,
        bounds: Optional[Mapping[str, tuple[Optional[float], Optional[float]]]] = ...,
        params: Optional[Sequence[str]] = ..., jac: Optional[Callable[..., Any]] = ..., threads: Optional[int] = ...,
        conf_level: float = ..., ci: str = ..., max_iterations: Optional[int] = ..., comm: Any = ...) -> FitResult: ...

def curve_fit(f: ModelLike, xdata: Any, ydata: Any, p0: Any = ..., sigma: Any = ..., absolute_sigma: bool = ...,
              check_finite: Optional[bool] = ..., bounds: Any = ..., method: Optional[str] = ...,
              jac: Optional[Callable[..., Any]] = ..., *, full_output: bool = ..., nan_policy: Optional[str] = ...,
              threads: Optional[int] = ..., loss: str = ..., **kwargs: Any) -> Any: ...

class BatchResult:
    names: list[str]
    estimates: np.ndarray
    std_errors: np.ndarray
    cost: np.ndarray
    iterations: np.ndarray
    points: np.ndarray
    status: np.ndarray
    status_names: list[str]
    summary: str
    @property
    def converged(self) -> np.ndarray: ...
    def counts(self) -> dict[str, int]: ...

def batch(model: str, y: Any, x: Any = ..., *, weights: Any = ..., estimator: str = ..., start: Any = ...,
          fix: Optional[Mapping[str, float]] = ...,
          bounds: Optional[Mapping[str, tuple[Optional[float], Optional[float]]]] = ...,
          tolerance: Optional[float] = ..., max_iterations: Optional[int] = ..., precision: str = ...,
          threads: Optional[int] = ...) -> BatchResult: ...

class MLPRegressor:
    n_features_in_: int
    loss_: float
    loss_curve_: list[float]
    validation_scores_: list[float]
    n_iter_: int
    t_: int
    model_: str
    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = ..., activation: str = ..., *,
                 solver: str = ..., alpha: float = ..., batch_size: Union[int, str] = ..., learning_rate: str = ...,
                 learning_rate_init: float = ..., max_iter: int = ..., shuffle: bool = ...,
                 random_state: Optional[int] = ..., tol: float = ..., verbose: bool = ..., warm_start: bool = ...,
                 momentum: float = ..., nesterovs_momentum: bool = ..., early_stopping: bool = ...,
                 validation_fraction: float = ..., beta_1: float = ..., beta_2: float = ..., epsilon: float = ...,
                 n_iter_no_change: int = ..., max_fun: int = ..., threads: Optional[int] = ...,
                 precision: str = ..., loss: str = ..., checkpoint: Optional[str] = ...,
                 resume: Optional[str] = ..., comm: Any = ...) -> None: ...
    def fit(self, X: Any, y: Any) -> "MLPRegressor": ...
    def partial_fit(self, X: Any, y: Any) -> "MLPRegressor": ...
    def predict(self, X: Any) -> np.ndarray: ...
    def score(self, X: Any, y: Any, sample_weight: Any = ...) -> float: ...
    def get_params(self, deep: bool = ...) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> "MLPRegressor": ...
    def save(self, path: str) -> None: ...
    @property
    def model_info_(self) -> dict[str, Any]: ...
