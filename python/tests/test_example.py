"""examples/python/fit_and_train.py runs to the end and its fits land where the data came from."""
import subprocess

from conftest import PYTHON, ROOT


def test_the_example_runs():
    r = subprocess.run([PYTHON, str(ROOT / "examples" / "python" / "fit_and_train.py")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "10000 fits: 10000 converged" in r.stdout
    r2 = float(r.stdout.rsplit("MLP R^2 on held-out rows:", 1)[1])
    assert r2 > 0.95
