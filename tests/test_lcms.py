"""LC-MS/MS isotope dilution: ICH M10 acceptance rules, truth recovery, inputs, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux import DataError, FitError, UnitError
from asnflux._tables import read_table
from asnflux.assays import lcms_quantify, standard_addition

EXAMPLE = Path(__file__).parents[1] / "examples" / "assays" / "lcms_skyline_report.csv"
LEVELS = (0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0)
RF, IS_UM, IS_AREA = 0.95, 10.0, 2.0e6


def run_table(
    *,
    unknowns: dict[str, float] | None = None,
    qcs: dict[float, int] | None = None,
    std_bias: dict[tuple[float, int], float] | None = None,
    qc_bias: dict[tuple[float, int], float] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    levels: tuple[float, ...] = LEVELS,
    double_blank_area: float = 100.0,
    carry_over_area: float = 100.0,
    carry_over_is: float = 500.0,
) -> pd.DataFrame:
    """A Skyline-style wide report with exactly known truth (ratio = RF·c/IS)."""
    rng = np.random.default_rng(seed)
    rows: list[list] = []

    def inj(name, stype, conc, nominal=None, area=None, is_area=IS_AREA):
        if area is None:
            ratio = RF * conc / IS_UM * (1 + noise * rng.standard_normal())
            area = ratio * is_area
        rows.append([name, stype, nominal, area, is_area])

    inj("DB1", "Double Blank", 0, area=double_blank_area, is_area=300.0)
    inj("B1", "Blank", 0, area=50.0)
    for rep in (1, 2):
        for c in levels:
            bias = (std_bias or {}).get((c, rep), 0.0)
            inj(f"S{c:g}_{rep}", "Standard", c * (1 + bias), nominal=c)
    inj("DB2", "Double Blank", 0, area=carry_over_area, is_area=carry_over_is)
    for c, n in ({1.5: 3, 20.0: 3, 80.0: 3} if qcs is None else qcs).items():
        for rep in range(1, n + 1):
            bias = (qc_bias or {}).get((c, rep), 0.0)
            inj(f"QC{c:g}_{rep}", "Quality Control", c * (1 + bias), nominal=c)
    for name, c in (unknowns or {"U1": 7.0}).items():
        inj(name, "Unknown", c)
    df = pd.DataFrame(
        rows, columns=["Replicate Name", "Sample Type", "Analyte Concentration", "Area", "IS Area"]
    )
    df.attrs["path"] = "run.csv"
    return df


def test_exact_data_recover_truth_and_pass():
    r = lcms_quantify(run_table(unknowns={"U1": 7.0, "U2": 0.8}))
    assert r.accepted
    conc = dict(zip(r.unknowns["replicate"], r.unknowns["concentration_uM"], strict=True))
    assert conc["U1"] == pytest.approx(7.0, rel=1e-8)
    assert conc["U2"] == pytest.approx(0.8, rel=1e-8)
    assert r.calibration is not None
    assert r.calibration.weights == "1/x2"
    assert r.verdicts["blanks"]["carry_over_assessed"]


def test_m10_standard_rejection_and_refit():
    # A mid-level standard 18 % off is rejected (limit 15 %); the LLOQ standard 18 % off
    # is kept (limit 20 %). The refit without the rejected one recovers the truth.
    r = lcms_quantify(run_table(std_bias={(10.0, 1): 0.18, (0.5, 1): 0.18}))
    rejected = r.standards[~r.standards["accepted"]]["replicate"].tolist()
    assert rejected == ["S10_1"]
    assert r.verdicts["standards"]["pass"]
    assert r.unknowns["concentration_uM"].iloc[0] == pytest.approx(7.0, rel=0.03)
    assert any("S10_1" in f and "rejected" in f for f in r.findings)


def test_m10_fewer_than_75_percent_of_standards_fails():
    # 16 standards; 5 off by 40 % leaves 11/16 = 69 % < 75 %.
    bias = {(c, 1): 0.4 for c in (1.0, 2.5, 5.0, 10.0, 25.0)}
    r = lcms_quantify(run_table(std_bias=bias))
    v = r.verdicts["standards"]
    assert v["accepted"] == 11
    assert not v["pass"]
    assert not r.accepted
    assert any("75 %" in f for f in r.findings)


def test_m10_fewer_than_six_levels_fails():
    r = lcms_quantify(run_table(levels=(1.0, 2.5, 5.0, 10.0, 50.0)))
    assert r.verdicts["standards"]["levels_accepted"] == 5
    assert not r.verdicts["standards"]["pass"]


def test_m10_two_thirds_of_qcs_is_enough():
    # 6 QCs (3 levels × 2), 2 failing: 4/6 = two-thirds exactly, and ≥ 50 % per level.
    qcs = {1.5: 2, 20.0: 2, 80.0: 2}
    ok = lcms_quantify(run_table(qcs=qcs, qc_bias={(20.0, 1): 0.3, (80.0, 1): 0.3}))
    assert ok.verdicts["qcs"]["passed"] == 4
    assert ok.verdicts["qcs"]["pass"]
    # 3 failing of 9: still two-thirds; but both QCs of one level failing breaks the 50 %.
    bad = lcms_quantify(run_table(qc_bias={(20.0, 1): 0.3, (20.0, 2): 0.3}))
    assert bad.verdicts["qcs"]["passed"] == 7
    assert not bad.verdicts["qcs"]["pass"]
    assert any("QC level 20" in f for f in bad.findings)
    worse = lcms_quantify(
        run_table(qc_bias={(1.5, 1): 0.3, (20.0, 1): 0.3, (80.0, 1): 0.3, (80.0, 2): 0.3})
    )
    assert not worse.verdicts["qcs"]["pass"]
    assert not worse.accepted


def test_no_qcs_cannot_accept_the_run():
    r = lcms_quantify(run_table(qcs={}))
    assert not r.accepted
    assert any("no QC samples" in f for f in r.findings)


def test_blank_and_carry_over_limits():
    # LLOQ analyte area = RF·0.5/10·2e6 = 95,000; 20 % of it is 19,000. IS 5 % = 100,000.
    r = lcms_quantify(run_table(double_blank_area=25_000.0))
    assert not r.verdicts["blanks"]["pass"]
    assert any("selectivity check failed for DB1" in f for f in r.findings)
    r = lcms_quantify(run_table(carry_over_is=120_000.0))
    row = r.blanks[r.blanks["replicate"] == "DB2"].iloc[0]
    assert row["check"] == "carry-over"
    assert row["is_pct_of_lloq_is"] == pytest.approx(6.0)
    assert not row["pass"]
    assert not r.accepted


def test_out_of_range_unknowns_are_flagged_not_extrapolated():
    r = lcms_quantify(run_table(unknowns={"low": 0.2, "high": 150.0}))
    status = dict(zip(r.unknowns["replicate"], r.unknowns["status"], strict=True))
    assert status == {"low": "<LLOQ", "high": ">ULOQ"}
    assert r.unknowns["concentration_uM"].isna().all()


def test_inverse_prediction_se_covers_truth_at_nominal_rate():
    # 120 simulated runs with 4 % response noise: the ±1.96·SE interval of an unknown
    # should contain the truth about 95 % of the time.
    hits = 0
    n = 120
    for seed in range(n):
        r = lcms_quantify(run_table(noise=0.04, seed=seed, unknowns={"U": 7.0}))
        c, se = r.unknowns["concentration_uM"].iloc[0], r.unknowns["se_uM"].iloc[0]
        hits += abs(c - 7.0) <= 1.96 * se
    assert 0.88 <= hits / n <= 0.995


def test_normalisation_to_cells_protein_and_intracellular_concentration():
    df = run_table(unknowns={"U1": 6.0})
    df["Cell Count"] = [None] * (len(df) - 1) + [2.0e6]
    df["Protein (ug)"] = [None] * (len(df) - 1) + [150.0]
    r = lcms_quantify(df, extract_volume="200 uL", cell_volume="0.6 pL")
    u = r.unknowns.iloc[0]
    # 6 µM × 0.2 mL = 1.2 nmol; per 1e6 cells 0.6 nmol; per mg protein 1.2/0.15 = 8;
    # intracellular: 1.2 nmol in 2e6 × 0.6 pL = 1.2 µL → 1 mM.
    assert u["nmol"] == pytest.approx(1.2)
    assert u["nmol_per_1e6_cells"] == pytest.approx(0.6)
    assert u["nmol_per_mg_protein"] == pytest.approx(8.0)
    assert u["intracellular_mM"] == pytest.approx(1.0)
    kb_volume = lcms_quantify(df, extract_volume="0.2 mL", cell_volume="cell.all_blast.volume")
    assert kb_volume.unknowns["intracellular_mM"].iloc[0] == pytest.approx(1.0)


def test_long_skyline_report_equals_wide():
    wide = run_table(noise=0.03, seed=3)
    light = wide.rename(columns={"Area": "Total Area"}).drop(columns="IS Area")
    light["Isotope Label Type"] = "light"
    heavy = wide.rename(columns={"IS Area": "Total Area"}).drop(columns="Area")
    heavy["Isotope Label Type"] = "heavy"
    long = pd.concat([light, heavy], ignore_index=True)
    long.attrs["path"] = "long.csv"
    a = lcms_quantify(wide).unknowns["concentration_uM"].iloc[0]
    b = lcms_quantify(long).unknowns["concentration_uM"].iloc[0]
    assert a == pytest.approx(b, rel=1e-12)


def test_standard_addition_matches_textbook_formula():
    # Miller & Miller, Statistics and Chemometrics for Analytical Chemistry (6th ed.),
    # eq. 5.13: s_xE = (s_y/x / b)·sqrt(1/n + ȳ²/(b²·Σ(xi − x̄)²)).
    added = np.array([0, 0, 5, 5, 10, 10, 20.0])
    resp = 0.1 * (12.0 + added) + np.array([0.01, -0.008, 0.004, -0.012, 0.009, 0.002, -0.005])
    sa = standard_addition(added, resp)
    b, a = np.polyfit(added, resp, 1)
    assert sa.concentration == pytest.approx(a / b, rel=1e-9)
    resid = resp - (a + b * added)
    s_yx = math.sqrt(np.sum(resid**2) / (len(added) - 2))
    expected = (s_yx / b) * math.sqrt(
        1 / len(added) + resp.mean() ** 2 / (b**2 * np.sum((added - added.mean()) ** 2))
    )
    assert sa.se == pytest.approx(expected, rel=1e-6)


def test_standard_addition_strategy_from_report():
    rows = []
    for sample, endo in (("A", 12.0), ("B", 30.0)):
        for add in (0.0, 10.0, 20.0, 40.0):
            rows.append([f"{sample}+{add:g}", "Unknown", sample, add, RF * (endo + add) / 10 * 2e6])
    df = pd.DataFrame(
        rows,
        columns=["Replicate Name", "Sample Type", "Sample Name", "Added Concentration", "Area"],
    )
    df["IS Area"] = 2e6
    r = lcms_quantify(df, strategy="standard-addition")
    conc = dict(zip(r.unknowns["sample"], r.unknowns["concentration_uM"], strict=True))
    assert conc["A"] == pytest.approx(12.0, rel=1e-9)
    assert conc["B"] == pytest.approx(30.0, rel=1e-9)
    assert r.verdicts["run_accepted"] is None
    with pytest.raises(DataError, match="needs at least 3 aliquots"):
        standard_addition([0, 10], [1, 2])
    with pytest.raises(FitError, match="does not rise"):
        standard_addition([0, 10, 20], [3, 2, 1])


def test_example_file_verdicts_and_values():
    r = lcms_quantify(
        read_table(EXAMPLE), extract_volume="0.2 mL", cell_volume="cell.all_blast.volume"
    )
    assert r.accepted
    assert r.standards[~r.standards["accepted"]]["replicate"].tolist() == ["Cal_25uM_2"]
    u = r.unknowns.set_index("replicate")
    # The example was generated with intracellular Asn 0.42 mM (ALL_ctrl_1) and 4 % noise.
    assert u.loc["ALL_ctrl_1", "intracellular_mM"] == pytest.approx(0.42, rel=0.1)
    assert u.loc["ALL_ASNase_6", "status"] == "<LLOQ"
    json.dumps(r.to_dict())


def test_several_reports_are_combined(tmp_path):
    a = run_table(unknowns={"U1": 7.0})
    b = run_table(unknowns={"U9": 3.0}).iloc[-1:]
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    a.to_csv(pa, index=False)
    b.to_csv(pb, index=False)
    r = lcms_quantify([read_table(pa), read_table(pb)])
    assert set(r.unknowns["replicate"]) == {"U1", "U9"}
    with pytest.raises(DataError, match="appears in more than one report"):
        lcms_quantify([read_table(pa), read_table(pa)])


def _set(row: int, col: str, value: object):
    def mutate(d: pd.DataFrame) -> pd.DataFrame:
        d = d.astype({col: object})
        d.loc[row, col] = value
        return d

    return mutate


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (lambda d: d.drop(columns="Sample Type"), DataError, "'Sample Type'"),
        (lambda d: d.drop(columns="IS Area"), DataError, "internal-standard area"),
        (_set(3, "Sample Type", "Calibrator"), DataError, "row 5"),
        (_set(4, "Area", "n/a"), DataError, r"row 6, column 'Area'"),
        (_set(4, "Area", -5.0), DataError, "row 6.*negative"),
        (_set(4, "IS Area", 0.0), DataError, "row 6.*positive"),
        (_set(5, "Replicate Name", "S0.5_1"), DataError, "twice"),
        (_set(4, "Analyte Concentration", None), DataError, "no nominal concentration"),
        (
            lambda d: d.rename(columns={"Analyte Concentration": "Analyte Concentration (mg)"}),
            UnitError,
            "cannot be read as µM",
        ),
        (lambda d: d.iloc[:-1], DataError, "no rows of sample type"),
    ],
)
def test_bad_reports(mutate, error, match):
    df = mutate(run_table())
    df.attrs["path"] = "run.csv"
    with pytest.raises(error, match=match):
        lcms_quantify(df)


def test_molecule_selection_and_bad_options():
    df = run_table()
    two = pd.concat([df.assign(Molecule="Asn"), df.assign(Molecule="Gln")], ignore_index=True)
    two["Replicate Name"] = two["Replicate Name"] + two["Molecule"]
    with pytest.raises(DataError, match="several molecules"):
        lcms_quantify(two)
    assert lcms_quantify(two, analyte="gln").molecule == "gln"
    with pytest.raises(DataError, match="no rows for molecule 'Leu'"):
        lcms_quantify(two, analyte="Leu")
    with pytest.raises(DataError, match="strategy 'magic'"):
        lcms_quantify(df, strategy="magic")
    with pytest.raises(DataError, match="names no molecule"):
        lcms_quantify(df, label="13C4,15N2")
    with pytest.raises(DataError, match="cell_volume must be positive"):
        lcms_quantify(df, extract_volume="0.1 mL", cell_volume="0 pL")
    with pytest.raises(UnitError):
        lcms_quantify(df, extract_volume="0.1 mg")


def test_isotope_crosstalk_check_in_run():
    df = run_table().assign(Molecule="Asn")
    r = lcms_quantify(df, label="15N2,d8", label_purity=0.98)
    assert r.verdicts["isotope_crosstalk"]["pass"]
    assert r.isotopes is not None
    assert r.isotopes.standard.shift_observed == 5
