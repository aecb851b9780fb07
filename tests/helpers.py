"""Test helpers: a minimal mzML writer (chromatograms only) for synthetic injections."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np


def _array(values: np.ndarray, accession: str, name: str, unit: str) -> str:
    data = base64.b64encode(np.asarray(values, "<f8").tobytes()).decode()
    return (
        f'<binaryDataArray encodedLength="{len(data)}">'
        '<cvParam cvRef="MS" accession="MS:1000523" name="64-bit float"/>'
        '<cvParam cvRef="MS" accession="MS:1000576" name="no compression"/>'
        f'<cvParam cvRef="MS" accession="{accession}" name="{name}" {unit}/>'
        f"<binary>{data}</binary></binaryDataArray>"
    )


_TIME_UNITS = {"minute": "UO:0000031", "second": "UO:0000010", "hour": "UO:0000032"}


def write_mzml(
    path: Path, traces: dict[str, tuple[np.ndarray, np.ndarray]], time_unit: str = "minute"
) -> Path:
    """Write SRM chromatograms (time in ``time_unit``, intensity) as a valid mzML 1.1 file.

    ``time_unit`` is minute, second, hour, or ``"none"`` (no unit stated; invalid mzML).
    """
    minute = (
        ""
        if time_unit == "none"
        else f'unitCvRef="UO" unitAccession="{_TIME_UNITS[time_unit]}" unitName="{time_unit}"'
    )
    counts = 'unitCvRef="MS" unitAccession="MS:1000131" unitName="number of detector counts"'
    chroms = []
    for k, (cid, (t, y)) in enumerate(traces.items()):
        chroms.append(
            f'<chromatogram index="{k}" id="{cid}" defaultArrayLength="{len(t)}">'
            '<binaryDataArrayList count="2">'
            f"{_array(t, 'MS:1000595', 'time array', minute)}"
            f"{_array(y, 'MS:1000515', 'intensity array', counts)}"
            "</binaryDataArrayList></chromatogram>"
        )
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<mzML xmlns="http://psi.hupo.org/ms/mzml" version="1.1.0"><cvList count="2">'
        '<cv id="MS" fullName="PSI-MS" URI="https://raw.githubusercontent.com/HUPO-PSI/'
        'psi-ms-CV/master/psi-ms.obo"/><cv id="UO" fullName="Unit Ontology" '
        'URI="http://ontologies.berkeleybop.org/uo.obo"/></cvList><run id="run">'
        f'<chromatogramList count="{len(chroms)}">{"".join(chroms)}</chromatogramList>'
        "</run></mzML>"
    )
    path.write_text(doc, encoding="utf-8")
    return path
