"""Regenerate the ASNS example plates and layout: AMP-Glo luminescence and Bradford
A595 grids with known rates and protein (2 % luminescence noise).

Run from anywhere: python examples/assays/make_asns_example.py
"""

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
rng = np.random.default_rng(7)
rows = "ABCDEFGH"
lum = {}
brad = {}
layout = []


def well(i):  # column-major fill
    return f"{rows[i % 8]}{i // 8 + 1}"


k = 0


def rlu(amp):
    return (2000 + 45000 * amp) * (1 + 0.02 * rng.standard_normal())


for c in [0, 0.5, 1, 2.5, 5, 10, 25, 50]:
    for _rep in (1, 2):
        w = well(k)
        k += 1
        lum[w] = f"{rlu(c):.0f}"
        layout.append(["asns_luminescence", w, "amp_standard", f"AMP {c:g}", c, "uM", "", ""])
lysates = {
    "MSC": (0.048, 4.0, 2.1),
    "ALL_blast": (0.0032, None, 1.6),
    "ALL_resistant": (0.021, None, 1.9),
}
V = 0.05  # mL reaction
for name, (v0, pmax, _prot) in lysates.items():
    for t in (0, 15, 30, 45, 60):
        p_nmol = v0 * t if pmax is None else pmax * (1 - np.exp(-v0 / pmax * t))
        amp = p_nmol / V + 0.3 + 0.5  # + non-enzymatic AMP + lysate ATPase
        for _rep in (1, 2):
            w = well(k)
            k += 1
            lum[w] = f"{rlu(amp):.0f}"
            layout.append(["asns_luminescence", w, "reaction", name, "", "", t, ""])
    for _rep in (1, 2):
        w = well(k)
        k += 1
        lum[w] = f"{rlu(0.5):.0f}"
        layout.append(["asns_luminescence", w, "no_substrate", name, "", "", 60, ""])
for t in (0, 60):
    for _rep in (1, 2):
        w = well(k)
        k += 1
        lum[w] = f"{rlu(0.3):.0f}"
        layout.append(["asns_luminescence", w, "no_enzyme", "", "", "", t, ""])
w = well(k)
k += 1
lum[w] = "OVRFLW"
layout.append(["asns_luminescence", w, "exclude", "bubble", "", "", "", ""])
k = 0
for c in [0, 125, 250, 500, 750, 1000, 1500]:
    for _rep in (1, 2):
        w = well(k)
        k += 1
        brad[w] = f"{0.45 + 0.00075 * c + 0.01 * rng.standard_normal():.3f}"
        layout.append(["asns_bradford", w, "protein_standard", f"BSA {c:g}", c, "ug/mL", "", ""])
for name, (_, _, prot) in lysates.items():
    for _rep in (1, 2):
        w = well(k)
        k += 1
        brad[w] = f"{0.45 + 0.00075 * prot * 1000 / 2 + 0.01 * rng.standard_normal():.3f}"
        layout.append(["asns_bradford", w, "protein", name, "", "", "", 2])


def grid(path, data, title):
    with open(path, "w", newline="") as f:
        f.write(f"{title}\nPlate 1\n\n")
        w = csv.writer(f)
        w.writerow([""] + [str(c) for c in range(1, 13)])
        for r in rows:
            w.writerow([r] + [data.get(f"{r}{c}", "") for c in range(1, 13)])


grid(HERE / "asns_luminescence.csv", lum, "Luminescence (RLU), AMP-Glo, integration 0.5 s")
grid(HERE / "asns_bradford.csv", brad, "Absorbance 595 nm, Bradford")
with open(HERE / "asns_layout.csv", "w", newline="") as f:
    f.write(
        "# ASNS activity: AMP-Glo plate and Bradford plate; 50 uL reactions with 10 uL lysate\n"
    )
    w = csv.writer(f)
    w.writerow(["plate", "well", "type", "sample", "concentration", "unit", "time_min", "dilution"])
    w.writerows(layout)
