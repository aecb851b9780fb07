"""Derive an mzML run from lcms_skyline_report.csv (run from this folder).

Writes ``mzml/`` with one mzML 1.1 file per injection of the Skyline example and a sample
sheet ``mzml/sample_sheet.csv``. Each file holds two SRM chromatograms as a triple-quad
export (msconvert-style) holds them — Asn 133.1 → 74.0 and its 13C4,15N2 internal standard
139.1 → 78.0 — with zlib-compressed 64-bit arrays, **time in seconds** (UO:0000010; AsnFlux
reads the unit from the file) and a Gaussian peak at 2.30 min whose area above the 50-count
baseline equals the report's area, plus a little seeded noise. Quantified with
``--analyte-trace "Q1=133.1" --is-trace "Q1=139.1" --rt 2.3``, the run agrees with the
report's quantification.
"""

from __future__ import annotations

import base64
import csv
import math
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "mzml"
RT_MIN, SIGMA_MIN, BASELINE = 2.30, 0.05, 50.0
TIME_S = np.arange(0.0, 300.0 + 1e-9, 1.5)  # 0-5 min every 1.5 s
TRACES = {
    "asn": ("SRM SIC Q1=133.1 Q3=74.0", 133.1, 74.0),
    "is": ("SRM SIC Q1=139.1 Q3=78.0", 139.1, 78.0),
}


def _array(values: np.ndarray, accession: str, name: str, unit: str) -> str:
    data = base64.b64encode(zlib.compress(np.asarray(values, "<f8").tobytes(), 9)).decode()
    return (
        f'<binaryDataArray encodedLength="{len(data)}">'
        '<cvParam cvRef="MS" accession="MS:1000523" name="64-bit float" value=""/>'
        '<cvParam cvRef="MS" accession="MS:1000574" name="zlib compression" value=""/>'
        f'<cvParam cvRef="MS" accession="{accession}" name="{name}" value="" {unit}/>'
        f"<binary>{data}</binary></binaryDataArray>"
    )


def _chromatogram(k: int, cid: str, q1: float, q3: float, y: np.ndarray) -> str:
    seconds = 'unitCvRef="UO" unitAccession="UO:0000010" unitName="second"'
    counts = 'unitCvRef="MS" unitAccession="MS:1000131" unitName="number of detector counts"'
    return (
        f'<chromatogram index="{k}" id="{cid}" defaultArrayLength="{len(TIME_S)}">'
        '<cvParam cvRef="MS" accession="MS:1001473" name="selected reaction monitoring '
        'chromatogram" value=""/>'
        f'<precursor><isolationWindow><cvParam cvRef="MS" accession="MS:1000827" '
        f'name="isolation window target m/z" value="{q1}" unitCvRef="MS" '
        'unitAccession="MS:1000040" unitName="m/z"/></isolationWindow>'
        '<activation><cvParam cvRef="MS" accession="MS:1000133" name="collision-induced '
        'dissociation" value=""/></activation></precursor>'
        f'<product><isolationWindow><cvParam cvRef="MS" accession="MS:1000827" '
        f'name="isolation window target m/z" value="{q3}" unitCvRef="MS" '
        'unitAccession="MS:1000040" unitName="m/z"/></isolationWindow></product>'
        '<binaryDataArrayList count="2">'
        f"{_array(TIME_S, 'MS:1000595', 'time array', seconds)}"
        f"{_array(y, 'MS:1000515', 'intensity array', counts)}"
        "</binaryDataArrayList></chromatogram>"
    )


def _trace(area: float, rng: np.random.Generator) -> np.ndarray:
    """Counts over TIME_S: baseline + a Gaussian of ``area`` (counts·min) + noise."""
    t_min = TIME_S / 60.0
    height = area / (SIGMA_MIN * math.sqrt(2 * math.pi))
    peak = height * np.exp(-0.5 * ((t_min - RT_MIN) / SIGMA_MIN) ** 2)
    noise = rng.normal(0.0, 2.0, len(t_min))
    return np.round(BASELINE + peak + noise, 3)


def _document(name: str, chromatograms: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<mzML xmlns="http://psi.hupo.org/ms/mzml" version="1.1.0" '
        f'id="{name}"><cvList count="2">'
        '<cv id="MS" fullName="Proteomics Standards Initiative Mass Spectrometry Ontology" '
        'version="4.1.30" URI="https://raw.githubusercontent.com/HUPO-PSI/psi-ms-CV/master/'
        'psi-ms.obo"/><cv id="UO" fullName="Unit Ontology" version="09:04:2014" '
        'URI="https://raw.githubusercontent.com/bio-ontology-research-group/unit-ontology/'
        'master/unit.obo"/></cvList>'
        '<fileDescription><fileContent><cvParam cvRef="MS" accession="MS:1000627" '
        'name="selected ion current chromatogram" value=""/></fileContent>'
        f'<sourceFileList count="1"><sourceFile id="RAW1" name="{name}.wiff" '
        'location="file:///data/run"/></sourceFileList></fileDescription>'
        '<softwareList count="1"><software id="asnflux_example" version="1">'
        '<cvParam cvRef="MS" accession="MS:1000799" name="custom unreleased software tool" '
        'value="make_mzml_example.py"/></software></softwareList>'
        '<instrumentConfigurationList count="1"><instrumentConfiguration id="IC1">'
        '<cvParam cvRef="MS" accession="MS:1000931" name="QTRAP 5500" value=""/>'
        "</instrumentConfiguration></instrumentConfigurationList>"
        '<dataProcessingList count="1"><dataProcessing id="export">'
        '<processingMethod order="0" softwareRef="asnflux_example"><cvParam cvRef="MS" '
        'accession="MS:1000544" name="Conversion to mzML" value=""/></processingMethod>'
        "</dataProcessing></dataProcessingList>"
        f'<run id="{name}" defaultInstrumentConfigurationRef="IC1">'
        f'<chromatogramList count="{len(chromatograms)}" defaultDataProcessingRef="export">'
        f"{''.join(chromatograms)}</chromatogramList></run></mzML>\n"
    )


def main() -> None:
    with (HERE / "lcms_skyline_report.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20240314)
    sheet = []
    for row in rows:
        name = row["Replicate Name"]
        chroms = [
            _chromatogram(k, cid, q1, q3, _trace(float(row[col]), rng))
            for k, ((cid, q1, q3), col) in enumerate(
                zip(TRACES.values(), ("Area", "IS Area"), strict=True)
            )
        ]
        (OUT / f"{name}.mzML").write_text(_document(name, chroms), encoding="utf-8")
        sheet.append(
            {
                "File": f"{name}.mzML",
                "Sample Type": row["Sample Type"],
                "Analyte Concentration (uM)": row["Analyte Concentration (uM)"],
                "Cell Count": row["Cell Count"],
            }
        )
    with (OUT / "sample_sheet.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(sheet[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(sheet)


if __name__ == "__main__":
    main()
