"""parafit.fit: the same bits as `parafit fit`, the result object, errors."""
import json

import numpy as np
import pytest

import parafit
from conftest import ROOT, read_csv, read_json, run_cli

ROBUST = ROOT / "tests" / "data" / "robust" / "outliers.csv"


def cli_fit(tmp_path, *args):
    """The CLI's JSON and summary; the summary without the data file's name (a Python fit has none)."""
    out = tmp_path / "cli.json"
    r = run_cli("fit", *args, "--json", out)
    assert r.returncode == 0, r.stderr
    data = str(args[args.index("--data") + 1])
    return read_json(out), r.stdout.replace(f"Data:  {data}, ", "Data:  ")


def same_parameters(result, doc):
    for j, p in enumerate(doc["parameters"]):
        assert result.names[j] == p["name"]
        assert result.estimates[j] == p["estimate"], p["name"]
        if p["std_error"] is not None:
            assert result.std_errors[j] == p["std_error"], p["name"]


def test_builtin_fit_has_the_clis_bits(tmp_path, decay):
    doc, text = cli_fit(tmp_path, "--data", ROOT / "examples/data/decay.csv", "--model", "exp-decay")
    r = parafit.fit("exp-decay", decay)
    same_parameters(r, doc)
    assert r.summary(print_it=False) == text
    assert r.copies == 0  # float64 contiguous columns: used in place
    assert r.converged and r.termination == doc["convergence"]["termination"]
    mine = r.to_dict()
    assert mine["parameters"] == doc["parameters"]
    assert mine["statistics"] == doc["statistics"]
    assert np.array_equal(r.covariance, np.array(doc["covariance"], dtype=float))


@pytest.mark.parametrize("args,kwargs", [
    (["--loss", "huber:0.2", "--start", "a=4,b=0.5,c=1.5"], dict(loss="huber:0.2", start={"a": 4, "b": 0.5, "c": 1.5})),
    (["--bounds", "b=0.45:1"], dict(bounds={"b": (0.45, 1.0)})),
    (["--fix", "c=1"], dict(fix={"c": 1.0})),
    (["--ci", "profile"], dict(ci="profile")),
])
def test_options_have_the_clis_bits(tmp_path, args, kwargs):
    doc, text = cli_fit(tmp_path, "--data", ROBUST, "--model", "exp-decay", *args)
    r = parafit.fit("exp-decay", read_csv(ROBUST), **kwargs)
    same_parameters(r, doc)
    assert r.summary(print_it=False) == text


def test_formula_and_weights(tmp_path):
    data = read_csv(ROBUST)
    data["w"] = 1.0 + (np.arange(data["x"].size) % 3)
    path = tmp_path / "w.csv"
    np.savetxt(path, np.c_[data["x"], data["y"], data["w"]], delimiter=",", header="x,y,w", comments="", fmt="%.17g")
    doc, _ = cli_fit(tmp_path, "--data", path, "--model", "a*exp(-b*x)+c", "--start", "a=4,b=0.5,c=1.5",
                     "--weights", "w")
    r = parafit.fit("a*exp(-b*x)+c", data, start={"a": 4, "b": 0.5, "c": 1.5}, weights="w")
    same_parameters(r, doc)
    r2 = parafit.fit("a*exp(-b*x)+c", data, start={"a": 4, "b": 0.5, "c": 1.5}, weights=data["w"])
    assert np.array_equal(r2.estimates, r.estimates)


def test_xdata_ydata_predict_and_intervals(decay):
    r = parafit.fit("exp-decay", xdata=decay["x"], ydata=decay["y"], threads=1)
    assert np.array_equal(r.estimates, parafit.fit("exp-decay", decay, threads=2).estimates)
    x = np.linspace(0, 5, 7)
    f = r.predict(x)
    a, b, c = r.estimates
    np.testing.assert_allclose(f, a * np.exp(-b * x) + c, rtol=1e-14)
    band = r.predict(x, interval="prediction", level=0.9)
    assert band.level == 0.9
    assert np.all(band.lower < f) and np.all(band.upper > f)
    conf = r.predict(x, interval="confidence")
    assert np.all(conf.upper - conf.lower < band.upper - band.lower)


def test_a_python_function_model(decay):
    def model(x, a, b, c):
        return a * np.exp(-b * x) + c

    def jac(x, a, b, c):
        e = np.exp(-b * x)
        return np.stack([e, -a * x * e, np.ones_like(x)], axis=1)

    ref = parafit.fit("exp-decay", decay)
    start = dict(zip(ref.names, ref.estimates * 1.1))
    with_jac = parafit.fit(model, decay, jac=jac, start=start)
    np.testing.assert_allclose(with_jac.estimates, ref.estimates, rtol=1e-9)
    np.testing.assert_allclose(with_jac.std_errors, ref.std_errors, rtol=1e-6)
    by_fd = parafit.fit(model, decay, start=start)
    np.testing.assert_allclose(by_fd.estimates, ref.estimates, rtol=1e-7)
    assert by_fd.names == ["a", "b", "c"]

    def star(x, *p):  # no names in the signature: start names them
        return p[0] * np.exp(-p[1] * x) + p[2]

    starred = parafit.fit(star, decay, start=start)
    assert starred.names == ["a", "b", "c"]
    np.testing.assert_array_equal(starred.estimates, by_fd.estimates)
    with pytest.raises(ValueError, match="cannot tell the parameters"):
        parafit.fit(star, decay)


def test_a_python_exception_is_raised_as_it_was(decay):
    def broken(x, a, b):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        parafit.fit(broken, decay, start={"a": 1, "b": 1})


def test_errors_carry_the_command_lines_message(tmp_path, decay):
    r = run_cli("fit", "--data", ROOT / "examples/data/decay.csv", "--model", "exp-decy")
    assert r.returncode == 2
    with pytest.raises(parafit.Error) as e:
        parafit.fit("exp-decy", decay)
    assert isinstance(e.value, ValueError)
    assert str(e.value) in r.stderr
    with pytest.raises(parafit.Error, match="no column named 'nosuch'"):
        parafit.fit("exp-decay", decay, x="nosuch")
    with pytest.raises(TypeError):
        parafit.fit(42, decay)
    with pytest.raises(ValueError, match="one-dimensional"):
        parafit.fit("exp-decay", {"x": np.zeros((3, 2)), "y": np.zeros(3)})


def test_report_writes_a_page(tmp_path, decay):
    r = parafit.fit("exp-decay", decay)
    path = tmp_path / "r.html"
    r.report(str(path))
    html = path.read_text()
    assert "<!DOCTYPE html>" in html and "95% prediction band" in html
