"""Global fits with shared parameters (Prism's "shared value for all data sets").

Checked by identities an independent computation gives: sharing nothing reproduces each
set's own fit; sharing everything reproduces the pooled fit; the composite Jacobian
matches a finite-difference one; and the F test tells sets with one Km from sets with two.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from asnflux import DataError
from asnflux.fitting import fit_curve, get_model
from asnflux.fitting._global import fit_global, global_model

S = np.array([0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0])


def mm(vmax, km, s=S):
    return vmax * s / (km + s)


def two_sets(km_b=0.3, seed=4):
    rng = np.random.default_rng(seed)
    ya = mm(100.0, 0.3) * (1 + 0.02 * rng.standard_normal(len(S)))
    yb = mm(160.0, km_b) * (1 + 0.02 * rng.standard_normal(len(S)))
    x = np.concatenate([S, S])
    y = np.concatenate([ya, yb])
    groups = ["A"] * len(S) + ["B"] * len(S)
    return x, y, groups


def test_sharing_nothing_reproduces_each_sets_own_fit():
    x, y, groups = two_sets()
    res = fit_global("michaelis-menten", x, y, groups, ["Km"])
    own_a = fit_curve("michaelis-menten", S, y[: len(S)])
    own_b = fit_curve("michaelis-menten", S, y[len(S) :])
    sep = res.separate.parameters
    for name, own in (("A", own_a), ("B", own_b)):
        assert sep[f"Km[{name}]"].value == pytest.approx(own["Km"].value, rel=1e-7)
        assert sep[f"Vmax[{name}]"].value == pytest.approx(own["Vmax"].value, rel=1e-7)
    assert res.separate.rss == pytest.approx(own_a.rss + own_b.rss, rel=1e-8)


def test_sharing_everything_reproduces_the_pooled_fit():
    x, y, groups = two_sets()
    both = fit_global("michaelis-menten", x, y, groups, ["Km", "Vmax"]).shared
    pooled = fit_curve("michaelis-menten", x, y)
    assert both["Km"].value == pytest.approx(pooled["Km"].value, rel=1e-7)
    assert both["Km"].stderr == pytest.approx(pooled["Km"].stderr, rel=1e-6)


def test_composite_jacobian_matches_finite_differences():
    base = get_model("michaelis-menten")
    m = global_model(base, ("A", "B"), ["Km"])
    x, _, groups = two_sets()
    g = np.array([0.0 if v == "A" else 1.0 for v in groups])
    assert m.params == ("Km", "Vmax[A]", "Vmax[B]")  # shared first, then per set
    th = np.array([0.3, 100.0, 160.0])
    analytic = m.jac(x, g, th)
    numeric = np.empty_like(analytic)
    for j in range(3):
        h = 1e-7 * max(1.0, abs(th[j]))
        up, down = th.copy(), th.copy()
        up[j] += h
        down[j] -= h
        numeric[:, j] = (m.f(x, g, up) - m.f(x, g, down)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_f_test_tells_one_km_from_two():
    same = fit_global("michaelis-menten", *two_sets(km_b=0.3), ["Km"])
    differ = fit_global("michaelis-menten", *two_sets(km_b=1.2), ["Km"])
    assert same.comparison["f_test"]["p"] > 0.05
    assert differ.comparison["f_test"]["p"] < 1e-4  # ablation: a real Km difference shows
    assert same.shared["Km"].value == pytest.approx(0.3, rel=0.05)


def test_refusals():
    x, y, groups = two_sets()
    with pytest.raises(DataError, match="not parameters of michaelis-menten"):
        fit_global("michaelis-menten", x, y, groups, ["kcat"])
    with pytest.raises(DataError, match="at least two data sets"):
        fit_global("michaelis-menten", x, y, ["A"] * len(x), ["Km"])
    with pytest.raises(DataError, match="share at least one"):
        fit_global("michaelis-menten", x, y, groups, [])


def test_cli_global_fit(cli, tmp_path):
    x, y, groups = two_sets()
    f = tmp_path / "two.csv"
    lines = ["s_mM,rate,enzyme"] + [
        f"{a:g},{b:.6g},{c}" for a, b, c in zip(x, y, groups, strict=True)
    ]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("fit", str(f), "--model", "michaelis-menten", "--y", "rate", "--group", "enzyme",
            "--share", "Km", "--json")  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert set(out["parameters"]) == {"Km", "Vmax[A]", "Vmax[B]"}
    assert out["global"]["sets"] == ["A", "B"]
    assert out["global"]["comparison"]["f_test"]["p"] > 0.05
    text = cli("fit", str(f), "--model", "michaelis-menten", "--y", "rate", "--group", "enzyme",
               "--share", "Km")  # fmt: skip
    assert "shared Km" in text.out
    bad = cli("fit", str(f), "--model", "michaelis-menten", "--y", "rate", "--share", "Km")
    assert bad.code in (1, 2)
    assert "--share goes with --group" in bad.err


def test_puromycin_shared_km_matches_the_published_fit(cli):
    # Bates & Watts (1988) / R's datasets::Puromycin example: nls(rate ~ (Vm + delV *
    # (state == "treated")) * conc / (K + conc)) gives K = 0.05797 (SE 0.005910),
    # Vm = 166.6 (SE 5.807), Vm + delV = 208.6, residual SE 10.59 on 20 df; anova against
    # separate K: F = 1.718 on 1 and 19 df, P = 0.2056 (K does not differ).
    from pathlib import Path

    data = Path(__file__).parents[1] / "examples" / "fit" / "puromycin_both.csv"
    r = cli("fit", str(data), "--model", "michaelis-menten", "--y", "rate_counts_per_min2",
            "--group", "state", "--share", "Km", "--json")  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    p = out["parameters"]
    assert p["Km"]["value"] == pytest.approx(0.05797, abs=5e-6)
    assert p["Km"]["stderr"] == pytest.approx(0.005910, abs=5e-7)
    assert p["Vmax[untreated]"]["value"] == pytest.approx(166.60, abs=0.005)
    assert p["Vmax[untreated]"]["stderr"] == pytest.approx(5.807, abs=5e-4)
    assert p["Vmax[treated]"]["value"] == pytest.approx(208.63, abs=0.005)
    assert out["residual_sd"] == pytest.approx(10.59, abs=0.005)
    f = out["global"]["comparison"]["f_test"]
    assert (f["dfn"], f["dfd"]) == (1, 19)
    assert f["F"] == pytest.approx(1.718, abs=5e-4)
    assert f["p"] == pytest.approx(0.2056, abs=5e-5)
