"""Arrays and the interpreter: no copy of float64 C-contiguous columns (shown by the process's
memory), float32 accepted (one copy, counted), the GIL released during a fit, Ctrl-C."""
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import parafit
from conftest import PYTHON


def test_float64_columns_are_used_in_place_and_float32_is_converted_once():
    x = np.linspace(0, 5, 100_000)
    y = 2.5 * np.exp(-1.3 * x) + 0.5
    r = parafit.fit("exp-decay", {"x": x, "y": y})
    assert r.copies == 0
    r32 = parafit.fit("exp-decay", {"x": x.astype(np.float32), "y": y})
    assert r32.copies == 1 and r32._handle.copied_columns == ["x"]
    strided = np.linspace(0, 5, 200_000)[::2]
    assert parafit.fit("exp-decay", {"x": strided, "y": y}).copies == 1


def test_no_copy_of_a_large_array_by_memory():
    # 10 million rows (160 MB of x and y): the fit's peak memory grows by far less than one column
    # (80 MB) would take. Run in a fresh process so its peak is this fit's.
    script = textwrap.dedent("""
        import resource, numpy as np, parafit
        n = 10_000_000
        x = np.linspace(0, 5, n); y = 2.5 * np.exp(-1.3 * x) + 0.5 + 1e-3 * np.sin(7 * x)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r = parafit.fit("exp-decay", {"x": x, "y": y}, threads=2)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(r.copies, (after - before) * 1024)
    """)
    out = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    copies, grown = int(out[0]), int(out[1])
    assert copies == 0
    assert grown < 40_000_000, f"the fit's peak memory grew by {grown} bytes"


def test_a_python_thread_runs_while_a_fit_runs():
    x = np.linspace(0, 5, 4_000_000)
    y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * np.sin(50 * x)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.01)
    start = time.perf_counter()
    # Profile intervals: dozens of refits, long enough to watch the other thread.
    parafit.fit("exp-decay", {"x": x, "y": y}, threads=1, ci="profile")
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [s for s in ticks if start < s < end]
    # The thread kept ticking through the fit (with the GIL held it could not tick at all).
    assert end - start > 0.05
    assert len(during) >= 0.3 * (end - start) / 0.0011, (len(during), end - start)


def test_ctrl_c_stops_training_cleanly_and_keeps_the_checkpoint(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, threading, json, numpy as np, parafit
        rng = np.random.default_rng(0)
        X = rng.uniform(-1, 1, (200_000, 8)); y = np.sin(X).sum(axis=1)
        ck = {str(tmp_path / "ck.json")!r}
        m = parafit.MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=1000, checkpoint=ck, threads=1)
        # First one epoch, so that a checkpoint exists; then a long run interrupted after 1.5 s.
        parafit.MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=1, checkpoint=ck, threads=1).fit(X, y)
        threading.Timer(1.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            m.fit(X, y)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
        json.load(open(ck))
        print("checkpoint ok")
    """)
    r = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["interrupted", "checkpoint", "ok"]


def test_ctrl_c_stops_a_fit():
    script = textwrap.dedent("""
        import os, signal, threading, numpy as np, parafit
        x = np.linspace(0, 5, 2000)
        y = np.exp(-x)
        def slow(x, a, b):
            import time; time.sleep(0.05)  # a slow model: the fit takes seconds
            return a * np.exp(-b * x)
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            parafit.fit(slow, {"x": x, "y": y}, start={"a": 3, "b": 0.1}, max_iterations=100000)
            print("finished")
        except KeyboardInterrupt:
            print("interrupted")
    """)
    r = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "interrupted"
