"""Shared paths and helpers of the Python tests (run by CTest python.pytest, or
`PYTHONPATH=build/python python3 -m pytest python/tests`)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(os.environ.get("PARAFIT_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXE = os.environ.get("PARAFIT_EXE", str(ROOT / "build" / "apps" / "parafit" / "parafit"))
PYTHON = os.environ.get("PARAFIT_PYTHON", sys.executable)


def run_cli(*args, cwd=None):
    """Runs the parafit command; returns the CompletedProcess (text)."""
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def read_csv(path):
    """A CSV with a header as a dict of float64 columns (numpy's parser: correctly rounded, as
    parafit's fast_float)."""
    with open(path) as f:
        header = f.readline().strip().split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: np.ascontiguousarray(table[:, k]) for k, name in enumerate(header)}


def read_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture
def decay():
    return read_csv(ROOT / "examples" / "data" / "decay.csv")
