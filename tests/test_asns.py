"""ASNS activity: AMP-Glo and 14C readouts, progress-curve linearity, protein, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asnflux import DataError, UnitError
from asnflux.assays import apply_layout, asns_activity, read_layout, read_plate
from asnflux.assays._asns import TYPES

EXAMPLES = Path(__file__).parents[1] / "examples" / "assays"
VOLS = {"reaction_volume": "50 uL", "lysate_volume": "10 uL"}
RLU0, RLU_PER_UM = 2000.0, 45000.0


def example_table() -> pd.DataFrame:
    plates = [read_plate(EXAMPLES / f"asns_{k}.csv") for k in ("luminescence", "bradford")]
    return apply_layout(plates, read_layout(EXAMPLES / "asns_layout.csv"), "signal", TYPES)


def amp_glo_table(rates: dict[str, float], protein: dict[str, float], *, curved: bool = False):
    """Exact AMP-Glo data: rate in nmol/min, 50 µL reaction, protein in mg/mL."""
    rows = []
    for c in (0, 0.5, 1, 2.5, 5, 10, 25, 50):
        rows.append(["AMP", "amp_standard", None, RLU0 + RLU_PER_UM * c, c, "µM"])
    for name, v in rates.items():
        for t in (0, 10, 20, 30, 40, 50, 60):
            p = 3.0 * (1 - np.exp(-v / 3.0 * t)) if curved else v * t
            amp = p / 0.05 + 0.4  # µM in 50 µL, plus 0.4 µM background AMP
            rows.append([name, "reaction", t, RLU0 + RLU_PER_UM * amp, None, None])
        rows.append([name, "no_substrate", 60, RLU0 + RLU_PER_UM * 0.4, None, None])
        rows.append([name, "protein_mg_per_mL", None, None, None, None])
    df = pd.DataFrame(
        rows, columns=["sample", "type", "time_min", "signal", "concentration", "unit"]
    )
    df = df[df["type"] != "protein_mg_per_mL"].copy()
    df["protein_mg_per_mL"] = df["sample"].map(protein)
    df.attrs["path"] = "asns.csv"
    return df


def test_amp_glo_exact_data_give_specific_activity():
    r = asns_activity(amp_glo_table({"L1": 0.004}, {"L1": 2.0}), **VOLS)
    s = r.samples.iloc[0]
    # 0.004 nmol/min / (2 mg/mL × 0.01 mL) = 0.2 nmol/min/mg.
    assert s["rate_nmol_per_min"] == pytest.approx(0.004, rel=1e-8)
    assert s["specific_activity_nmol_per_min_per_mg"] == pytest.approx(0.2, rel=1e-8)
    assert bool(s["linear"])


def test_curved_progress_curve_is_flagged_and_truncated():
    r = asns_activity(amp_glo_table({"L1": 0.04}, {"L1": 2.0}, curved=True), **VOLS)
    s = r.samples.iloc[0]
    assert not s["linear"]
    assert s["time_points_used"] < 7
    assert any("not linear" in f for f in r.findings)
    # The truncated initial segment is closer to the true initial rate than the full run.
    full = np.polyfit(
        [0, 10, 20, 30, 40, 50, 60],
        [3.0 * (1 - np.exp(-0.04 / 3.0 * t)) for t in (0, 10, 20, 30, 40, 50, 60)],
        1,
    )[0]
    assert abs(s["rate_nmol_per_min"] - 0.04) < abs(full - 0.04)


def test_c14_counts_with_efficiency_and_specific_radioactivity():
    # 50 mCi/mmol = 111,000 dpm/nmol; counts in CPM at 90 % efficiency; background 40 CPM.
    sa, eff, bg = 111_000.0, 0.9, 40.0
    rows = []
    for t in (0, 15, 30, 45, 60):
        rows.append(["L1", "reaction", t, 0.002 * t * sa * eff + bg])
    rows += [["", "no_enzyme", 0, bg], ["", "no_enzyme", 60, bg]]
    df = pd.DataFrame(rows, columns=["sample", "type", "time_min", "signal"])
    df["protein_mg_per_mL"] = 1.0
    r = asns_activity(
        df, readout="c14", specific_radioactivity="50 mCi/mmol", counting_efficiency=eff, **VOLS
    )
    assert r.samples.iloc[0]["rate_nmol_per_min"] == pytest.approx(0.002, rel=1e-9)
    assert r.samples.iloc[0]["specific_activity_nmol_per_min_per_mg"] == pytest.approx(0.2)
    dpm = asns_activity(
        df.assign(signal=df["signal"] / eff),
        readout="c14",
        specific_radioactivity="111000 dpm/nmol",
        **VOLS,
    )
    assert dpm.samples.iloc[0]["rate_nmol_per_min"] == pytest.approx(0.002, rel=1e-9)


def test_example_plates_recover_generating_values():
    r = asns_activity(example_table(), **VOLS)
    s = r.samples.set_index("sample")
    # Generated with 0.0032 nmol/min at 1.6 mg/mL (ALL blast) and 0.021 at 1.9 mg/mL
    # (resistant), 2 % luminescence noise: 0.2 and 1.105 nmol/min/mg.
    assert s.loc["ALL_blast", "specific_activity_nmol_per_min_per_mg"] == pytest.approx(
        0.2, rel=0.05
    )
    assert s.loc["ALL_resistant", "specific_activity_nmol_per_min_per_mg"] == pytest.approx(
        1.105, rel=0.05
    )
    assert not s.loc["MSC", "linear"]
    assert r.protein_calibration is not None


def test_bradford_curve_and_dilution():
    df = example_table()
    r = asns_activity(df, **VOLS)
    s = r.samples.set_index("sample")
    assert s.loc["MSC", "protein_mg_per_mL"] == pytest.approx(2.1, rel=0.05)
    df.loc[(df["type"] == "protein") & (df["sample"] == "MSC"), "dilution"] = 0.5
    with pytest.raises(
        DataError, match=r"well G2, column .dilution.: dilution 0\.5 must be a factor from 1 to 1e"
    ):
        asns_activity(df, **VOLS)


def test_unit_mismatch_names_plate_file_and_well(tmp_path):
    layout = read_layout(EXAMPLES / "asns_layout.csv")
    layout.loc[0, "unit"] = "mg/mL"  # an AMP standard given as a mass concentration
    plates = [read_plate(EXAMPLES / f"asns_{k}.csv") for k in ("luminescence", "bradford")]
    df = apply_layout(plates, layout, "signal", TYPES)
    with pytest.raises(UnitError, match=r"asns_luminescence\.csv, well A1: unit 'mg/mL'"):
        asns_activity(df, **VOLS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"readout": "colour"}, "readout 'colour'"),
        ({"readout": "c14"}, "needs specific_radioactivity"),
        ({"readout": "c14", "specific_radioactivity": "1 mM"}, "specific_radioactivity"),
        (
            {"readout": "c14", "specific_radioactivity": "50 mCi/mmol", "counting_efficiency": 1.2},
            "counting_efficiency",
        ),
        ({"lysate_volume": "60 uL"}, "exceeds reaction_volume"),
        ({"reaction_volume": "0 uL"}, "reaction_volume must be positive"),
    ],
)
def test_bad_parameters(kwargs, match):
    args = {**VOLS, **kwargs}
    with pytest.raises((DataError, UnitError), match=match):
        asns_activity(amp_glo_table({"L1": 0.004}, {"L1": 2.0}), **args)


def test_bad_tables():
    df = amp_glo_table({"L1": 0.004}, {"L1": 2.0})
    bad = df.copy()
    bad.iloc[3, bad.columns.get_loc("type")] = "standard"
    with pytest.raises(DataError, match=r"asns\.csv: row 5: type 'standard'"):
        asns_activity(bad, **VOLS)
    bad = df.astype({"time_min": object})
    bad.loc[bad["type"] == "reaction", "time_min"] = -1
    with pytest.raises(DataError, match="time_min -1 must be ≥ 0"):
        asns_activity(bad, **VOLS)
    with pytest.raises(DataError, match="no rows of type 'reaction'"):
        asns_activity(df[df["type"] != "reaction"], **VOLS)
    with pytest.raises(DataError, match="needs rows of type 'amp_standard'"):
        asns_activity(df[df["type"] != "amp_standard"], **VOLS)
    with pytest.raises(DataError, match="missing column 'time_min'"):
        asns_activity(df.drop(columns="time_min"), **VOLS)


def test_missing_protein_is_reported_not_guessed():
    df = amp_glo_table({"L1": 0.004}, {"L1": 2.0}).drop(columns="protein_mg_per_mL")
    r = asns_activity(df, **VOLS)
    assert r.samples.iloc[0]["specific_activity_nmol_per_min_per_mg"] is None
    assert any("no protein measurement" in f for f in r.findings)
