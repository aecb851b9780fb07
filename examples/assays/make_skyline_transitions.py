"""Derive a Skyline "Molecule Transition Results" export from lcms_skyline_report.csv.

Skyline writes one row per replicate, precursor (isotope label type) and transition. Here
each injection's Asn area is split over two transitions (m/z 133.06 → 74.02, the
quantifier, 70 %; → 87.06, 30 %) and the internal standard's (label type ``heavy``,
13C4,15N2-Asn, m/z 139.07 → 77.03, 60 %; → 92.07, 40 %), in Skyline's column names. One
unknown has no peak (``#N/A``), as Skyline reports a peak it did not find. Summed, the
transitions give back the original areas, so both reports must quantify alike.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).parent
COLUMNS = [
    "Replicate Name", "Sample Type", "Molecule List Name", "Molecule Name", "Precursor Mz",
    "Precursor Charge", "Isotope Label Type", "Product Mz", "Product Charge", "Quantitative",
    "Retention Time", "Area", "Analyte Concentration",
]  # fmt: skip
LIGHT = (("133.0608", "74.0237", 0.7, "True"), ("133.0608", "87.0553", 0.3, "False"))
HEAVY = (("139.0750", "77.0308", 0.6, "True"), ("139.0750", "92.0691", 0.4, "False"))
NO_PEAK = "ALL_ASNase_6"


def main() -> None:
    text = (HERE / "lcms_skyline_report.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        for label, parts, total in (("light", LIGHT, r["Area"]), ("heavy", HEAVY, r["IS Area"])):
            for precursor, product, share, quantitative in parts:
                if r["Replicate Name"] == NO_PEAK and label == "light":
                    area = "#N/A"
                else:
                    area = f"{float(total) * share:.1f}"
                writer.writerow(
                    [
                        r["Replicate Name"], r["Sample Type"], "Amino acids", r["Molecule Name"],
                        precursor, "1", label, product, "1", quantitative, "2.31", area,
                        r["Analyte Concentration (uM)"],
                    ]
                )  # fmt: skip
    (HERE / "lcms_skyline_transitions.csv").write_text(out.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
