"""The example data files are reproducible from their generating scripts (STYLE §13)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

EX = Path(__file__).parents[1] / "examples" / "assays"


@pytest.mark.parametrize(
    ("script", "outputs"),
    [
        ("make_lcms_example.py", ["lcms_skyline_report.csv"]),
        ("make_asns_example.py", ["asns_luminescence.csv", "asns_bradford.csv", "asns_layout.csv"]),
        (
            "make_plate_formats.py",
            [
                "asns_bradford_de.csv",
                "asns_bradford_two_reads.csv",
                "asns_bradford_softmax.txt",
                "asns_bradford_bmg.csv",
            ],
        ),
        ("make_skyline_transitions.py", ["lcms_skyline_transitions.csv"]),
        (
            "make_mzml_example.py",
            ["mzml/sample_sheet.csv", "mzml/Cal_100uM_1.mzML", "mzml/ALL_ASNase_6.mzML"],
        ),
    ],
)
def test_example_files_regenerate_identically(tmp_path, script, outputs):
    shutil.copy(EX / script, tmp_path / script)
    for source in ("asns_bradford.csv", "lcms_skyline_report.csv"):
        shutil.copy(EX / source, tmp_path / source)
    runpy.run_path(str(tmp_path / script), run_name="__main__")
    for name in outputs:
        assert (tmp_path / name).read_bytes() == (EX / name).read_bytes(), name
