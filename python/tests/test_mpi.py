"""Under mpirun with mpi4py: fit and MLPRegressor.fit on each rank's slice give the same bits as
one process."""
import os
import shutil
import subprocess
import textwrap

import pytest

from conftest import PYTHON

SCRIPT = textwrap.dedent("""
    import numpy as np, parafit
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    n = 30_000
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 5, n); y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.05 * rng.normal(size=n)
    X = rng.uniform(-1, 1, (n, 3)); t = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
    mine = slice(n * rank // size, n * (rank + 1) // size)
    r = parafit.fit("exp-decay", {"x": x[mine], "y": y[mine]}, loss="huber:0.1", comm=comm)
    m = parafit.MLPRegressor(hidden_layer_sizes=(16,), max_iter=3, batch_size=128, comm=comm).fit(X[mine], t[mine])
    if rank == 0:
        print(r.estimates.tobytes().hex(), r.std_errors.tobytes().hex())
        print(m.predict(X[:100]).tobytes().hex())
""")


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="no mpirun")
def test_two_ranks_give_one_process_bits(tmp_path):
    path = tmp_path / "run.py"
    path.write_text(SCRIPT)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_orte_tmpdir_base=str(tmp_path))
    outs = []
    for ranks in (1, 2):
        r = subprocess.run(["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(ranks), PYTHON, str(path)],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert len(outs[0].split()) == 3
