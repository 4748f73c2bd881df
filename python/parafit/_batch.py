"""parafit.batch: many small fits of one model, one per row of a (fits, points) array."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import numpy as np

from . import _core


@dataclass(frozen=True)
class BatchResult:
    """One row per fit: ``estimates`` and ``std_errors`` (fits x p), ``cost`` (chi-square or
    deviance), ``iterations``, ``points`` (with non-zero weight), ``status`` (codes; their names
    in ``status_names``: converged, not-converged, singular, non-finite, too-few-points,
    no-start)."""

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
    def converged(self) -> np.ndarray:
        """A boolean array: which fits converged."""
        return self.status == 0

    def counts(self) -> dict[str, int]:
        """How many fits ended with each status."""
        return {name: int(np.sum(self.status == k)) for k, name in enumerate(self.status_names)}


def batch(model: str, y: Any, x: Any = None, *, weights: Any = None, estimator: str = "lse", start: Any = None,
          fix: Optional[Mapping[str, float]] = None,
          bounds: Optional[Mapping[str, tuple[Optional[float], Optional[float]]]] = None,
          tolerance: Optional[float] = None, max_iterations: Optional[int] = None, precision: str = "float64",
          threads: Optional[int] = None) -> BatchResult:
    """Fits ``model`` (a built-in name, or a formula of x) to every row of ``y`` (fits x points), as
    ``parafit batch`` does: each fit `fit`'s Levenberg-Marquardt on its own points.

    ``x``: the points' x values, shared (points,) or per fit (fits, points); default 0, 1, ...
    ``weights``: (fits, points). ``estimator``: ``lse`` or ``poisson-mle`` (counts).
    ``start``: p values (every fit) or (fits, p); default: each fit self-starts. ``precision``:
    ``float64`` or ``float32`` (Cpufit's arithmetic, tolerance 1e-4 by default).
    The arrays are copied once into the fits' layout. The GIL is released while it runs.
    """
    if precision not in ("float64", "float32"):
        raise ValueError(f"precision must be 'float64' or 'float32', not {precision!r}")
    out = _core.batch(model, y, x, weights, estimator, start, dict(fix or {}), dict(bounds or {}), tolerance,
                      max_iterations, precision == "float32", threads)
    return BatchResult(list(out["names"]), out["estimates"], out["std_errors"], out["cost"], out["iterations"],
                       out["points"], out["status"], list(out["status_names"]), out["summary"])
