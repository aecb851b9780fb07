"""Derive the plate-reader format examples from asns_bradford.csv (run from this folder).

* ``asns_bradford_de.csv``: the same plate as a German-locale export writes it
  (semicolons, decimal commas, German title lines).
* ``asns_bradford_two_reads.csv``: an export holding two reads of the plate (the second
  read 1 % higher, as after a longer incubation), to show that a file with several grids
  needs ``--grid``.
* ``asns_bradford_softmax.txt``: the plate as SoftMax Pro's "Export Plates as Text" writes
  it (UTF-16 with BOM, tab-separated, CRLF; a ``##BLOCKS`` line, a PlateFormat endpoint
  absorbance block at 595 nm with the temperature in the first row, ``~End``), laid out
  like the real exports in ``tests/data/plates``.
* ``asns_bradford_bmg.csv``: the plate as BMG MARS writes a CSV export (user, path, test,
  date lines; ``Absorbance``; ``Raw Data (595)``; the grid with a trailing delimiter;
  CRLF), as in the real MARS exports in ``tests/data/plates``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    lines = (HERE / "asns_bradford.csv").read_text(encoding="utf-8").splitlines()
    grid = lines[lines.index(",1,2,3,4,5,6,7,8,9,10,11,12") :][:9]
    german = ["Extinktion 595 nm;Bradford", "Platte 1", ""]
    german += [line.replace(",", ";").replace(".", ",") for line in grid]
    (HERE / "asns_bradford_de.csv").write_text("\n".join(german) + "\n", encoding="utf-8")
    second = [grid[0]]
    for line in grid[1:]:
        label, *cells = line.split(",")
        second.append(",".join([label, *(f"{float(c) * 1.01:.3f}" if c else "" for c in cells)]))
    two = ["Absorbance 595 nm, Bradford", "Read 1", "", *grid, "", "Read 2", "", *second]
    (HERE / "asns_bradford_two_reads.csv").write_text("\n".join(two) + "\n", encoding="utf-8")
    fields = ["Plate:", "Plate1", "1.3", "PlateFormat", "Endpoint", "Absorbance", "Raw"]
    fields += ["FALSE", "1", "", "", "", "", "", "1", "595 ", "1", "12", "96", "1", "8", "", ""]
    smp = ["##BLOCKS= 1", "\t".join(fields)]
    smp.append("\t".join(["", "Temperature(\u00a1C)", *map(str, range(1, 13)), "", ""]))
    for k, line in enumerate(grid[1:]):
        cells = line.split(",")[1:]
        smp.append("\t".join(["", "22.6" if k == 0 else "", *cells, ""]))
    smp += ["", "~End", "Original Filename: asns_bradford; Date Last Saved: 3/14/2024 10:21:07 AM"]
    bmg = [
        r"User: USER,Path: C:\Program Files (x86)\BMG\CLARIOstar\User\Data,Test ID: 1187",
        "Test Name: Bradford 595,Date: 14/03/2024,Time: 10:21:07",
        "",
        "ID1: ASNS lysates,ID2: Plate 1,",
        "Absorbance",
        "",
        "Raw Data (595)",
        "",
        grid[0] + ",",
        *grid[1:],
    ]
    (HERE / "asns_bradford_bmg.csv").write_bytes(("\r\n".join(bmg) + "\r\n").encode())
    text = "\r\n".join(smp) + "\r\n"
    (HERE / "asns_bradford_softmax.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


if __name__ == "__main__":
    main()
