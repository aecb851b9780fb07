"""Asparaginase activity (Nessler): known truth recovered, QC flags, bad input, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux import DataError, UnitError
from asnflux.assays import asparaginase_activity

EXAMPLE = Path(__file__).parents[1] / "examples" / "assays" / "asparaginase_nessler.csv"
EXAMPLE_ARGS = (
    "assay",
    "asparaginase",
    str(EXAMPLE),
    "--reaction-volume",
    "1.0 mL",
    "--sample-volume",
    "0.1 mL",
    "--time",
    "10 min",
)
VOLS = {"reaction_volume": "1.0 mL", "sample_volume": "0.1 mL", "time": "10 min"}


def synthetic(activities: dict[str, tuple[float, float]], noise: float = 0.0) -> pd.DataFrame:
    """Exact Nessler data: A = 0.04 + 0.6·c, c = activity/dilution (factor 1 here)."""
    rng = np.random.default_rng(0)
    rows = [
        {"sample": f"S{c}", "type": "standard", "nh4_mM": c, "absorbance": 0.04 + 0.6 * c}
        for c in (0, 0.05, 0.1, 0.2, 0.4, 0.8)
        for _ in range(2)
    ]
    rows.append({"sample": "blank", "type": "enzyme_blank", "absorbance": 0.05})
    for name, (act, dil) in activities.items():
        for _ in range(2):
            a = 0.04 + 0.01 + 0.6 * act / dil + noise * rng.standard_normal()
            rows.append({"sample": name, "type": "sample", "absorbance": a, "dilution": dil})
    return pd.DataFrame(rows)


def test_recovers_known_activity_and_units():
    res = asparaginase_activity(synthetic({"a": (0.3, 1), "b": (2.0, 5)}), **VOLS)
    got = res.samples.set_index("sample")["activity_IU_per_mL"]
    assert got["a"] == pytest.approx(0.3, rel=1e-9)
    assert got["b"] == pytest.approx(2.0, rel=1e-9)
    # Same data, reaction half as long: twice the activity (IU = µmol/min).
    res2 = asparaginase_activity(synthetic({"a": (0.3, 1)}), **{**VOLS, "time": "300 s"})
    assert res2.samples["activity_IU_per_mL"][0] == pytest.approx(0.6, rel=1e-9)


def test_threshold_marked_from_knowledge_base():
    res = asparaginase_activity(synthetic({"hi": (0.3, 1), "lo": (0.07, 1)}), **VOLS)
    flags = res.samples.set_index("sample")["at_or_above_threshold"]
    assert flags["hi"] is True or flags["hi"] == True  # noqa: E712
    assert not flags["lo"]
    assert res.threshold_iu_per_ml == pytest.approx(0.1)
    assert "Riccardi" in res.threshold_source


def test_above_range_recommends_dilution():
    res = asparaginase_activity(synthetic({"x": (3.0, 1)}), **VOLS)
    row = res.samples.iloc[0]
    assert row["status"] == ">ULOQ"
    assert row["activity_IU_per_mL"] is None
    # 3.0 mM against a 0.05-0.8 mM range with mid-point 0.425: dilute 8-fold.
    assert row["recommended_dilution"] == 8.0


def test_below_range_reported():
    res = asparaginase_activity(synthetic({"x": (0.01, 1)}), **VOLS)
    assert res.samples.iloc[0]["status"] == "<LLOQ"


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (
            lambda d: d.assign(type=d["type"].replace("sample", "smple")),
            DataError,
            r"row \d+, column 'type': 'smple'",
        ),
        (lambda d: d.drop(columns=["absorbance"]), DataError, r"missing column\(s\) absorbance"),
        (lambda d: d[d["type"] != "standard"], DataError, r"no standards"),
        (
            lambda d: d.assign(absorbance=d["absorbance"].astype(object).where(d.index != 3, "x")),
            DataError,
            r"row 5, column 'absorbance'",
        ),
    ],
)
def test_bad_tables(mutate, error, match):
    with pytest.raises(error, match=match):
        asparaginase_activity(mutate(synthetic({"a": (0.3, 1)})).reset_index(drop=True), **VOLS)


def test_bad_volumes():
    with pytest.raises(UnitError, match=r"reaction_volume: .* has dimension"):
        asparaginase_activity(synthetic({"a": (0.3, 1)}), **{**VOLS, "reaction_volume": "10 min"})
    with pytest.raises(DataError, match="time must be positive"):
        asparaginase_activity(synthetic({"a": (0.3, 1)}), **{**VOLS, "time": "0 min"})


def test_cli_example_json(cli):
    res = cli(*EXAMPLE_ARGS, "--json")
    assert res.code == 0, res.err
    d = json.loads(res.out)
    by = {s["sample"]: s for s in d["samples"]}
    assert by["P01_day7"]["status"] == ">ULOQ"
    assert by["P01_day14"]["activity_IU_per_mL"] == pytest.approx(0.32, rel=0.1)
    assert by["P03_day3"]["activity_IU_per_mL"] == pytest.approx(2.4, rel=0.1)
    assert by["P02_day14"]["at_or_above_threshold"] is False
    assert d["threshold_IU_per_mL"] == pytest.approx(0.1)


def test_cli_example_table(cli):
    res = cli(*EXAMPLE_ARGS)
    assert res.code == 0, res.err
    assert "re-assay at dilution" in res.out


def test_specific_activity_from_protein():
    df = synthetic({"a": (0.3, 1), "b": (2.0, 5)})
    res = asparaginase_activity(df, **VOLS, protein="1.5 mg/mL")
    got = res.samples.set_index("sample")["specific_activity_IU_per_mg"]
    assert got["a"] == pytest.approx(0.2, rel=1e-9)
    df["protein_mg_per_mL"] = df["sample"].map({"a": 3.0})
    got = asparaginase_activity(df, **VOLS, protein="2 mg/mL").samples.set_index("sample")
    # The column wins for "a"; "b" falls back to the option.
    assert got.loc["a", "specific_activity_IU_per_mg"] == pytest.approx(0.1, rel=1e-9)
    assert got.loc["b", "specific_activity_IU_per_mg"] == pytest.approx(1.0, rel=1e-9)
    with pytest.raises(DataError, match="protein must be positive"):
        asparaginase_activity(df, **VOLS, protein="0 mg/mL")
    with pytest.raises(UnitError):
        asparaginase_activity(df, **VOLS, protein="2 mM")
    df.loc[df["sample"] == "a", "protein_mg_per_mL"] = [3.0, 4.0]
    with pytest.raises(
        DataError, match="sample 'a': protein_mg_per_mL must be one finite positive"
    ):
        asparaginase_activity(df, **VOLS)
