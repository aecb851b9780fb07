"""Derive the plate-reader format examples from asns_bradford.csv (run from this folder).

* ``asns_bradford_de.csv``: the same plate as a German-locale export writes it
  (semicolons, decimal commas, German title lines).
* ``asns_bradford_two_reads.csv``: an export holding two reads of the plate (the second
  read 1 % higher, as after a longer incubation), to show that a file with several grids
  needs ``--grid``.
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


if __name__ == "__main__":
    main()
