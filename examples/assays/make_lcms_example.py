"""Regenerate lcms_skyline_report.csv: a synthetic Skyline-style run with known truth
(intracellular Asn of ALL extracts; one mis-pipetted standard; 4 % response noise).

Run from anywhere: python examples/assays/make_lcms_example.py
"""

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
rng = np.random.default_rng(20261126)
rf, is_uM, is_area0 = 0.95, 10.0, 2.0e6
rows = []


def inj(name, stype, conc, nominal="", cells="", area=None, is_area=None):
    isa = is_area0 * (1 + 0.05 * rng.standard_normal()) if is_area is None else is_area
    if area is None:
        ratio = rf * conc / is_uM * (1 + 0.035 * rng.standard_normal()) + 0.0005
        area = ratio * isa
    rows.append([name, "Asn", stype, nominal, round(area), round(isa) if isa != "" else "", cells])


inj("DoubleBlank_01", "Double Blank", 0, area=150, is_area=900)
inj("Blank_01", "Blank", 0)
levels = [0.5, 1, 2.5, 5, 10, 25, 50, 100]
for rep in (1, 2):
    for c in levels:
        inj(f"Cal_{c:g}uM_{rep}", "Standard", c, nominal=c)
        if rep == 2 and c == 25:
            rows[-1][4] = round(rows[-1][4] * 1.35)  # a mis-pipetted standard
inj("DoubleBlank_02", "Double Blank", 0, area=420, is_area=1500)  # carry-over check
for c, tag in ((1.5, "LQC"), (20, "MQC"), (80, "HQC")):
    for rep in (1, 2, 3):
        inj(f"{tag}_{rep}", "Quality Control", c, nominal=c)
cells = 2.0e6
for i, intracell_mM in enumerate([0.42, 0.55, 0.38, 0.61, 0.12, 0.011], start=1):
    # 2e6 cells x 0.6 pL = 1.2 µL; extract volume 0.2 mL
    c = intracell_mM * 1.2e-3 / 0.2 * 1e3  # µM in extract
    inj(f"ALL_{'ctrl' if i <= 4 else 'ASNase'}_{i}", "Unknown", c, cells=f"{cells:.3g}")
with open(HERE / "lcms_skyline_report.csv", "w", newline="") as f:
    f.write("# Skyline-style molecule report: Asn in ALL cell extracts, IS 13C4,15N2-Asn\n")
    f.write("# Extracts: 2e6 cells in 0.2 mL 80 % methanol; standards in surrogate matrix (PBS)\n")
    w = csv.writer(f)
    w.writerow(
        [
            "Replicate Name",
            "Molecule Name",
            "Sample Type",
            "Analyte Concentration (uM)",
            "Area",
            "IS Area",
            "Cell Count",
        ]
    )
    w.writerows(rows)
