"""Isotope facts for isotope-dilution LC-MS/MS, computed from structures and formulas.

Masses and natural isotope abundances come from molmass's element table (IUPAC/AME
data); the number of exchangeable hydrogens of a deuterated standard is counted from the
molecule's SMILES (hydrogens on N, O and S exchange with protic solvent, those on carbon do
not), so a standard sold as ``15N2,d8`` is *observed* as ``15N2,d3`` in an aqueous mobile
phase. Nothing here is a typed-in mass.

Abundances are returned on the nominal (unit-resolution) mass scale that a triple
quadrupole resolves: entry ``k`` is the fraction of molecules ``k`` mass units above the
all-light monoisotopic ion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from molmass import ELECTRON, ELEMENTS, Formula
from numpy.typing import NDArray

from .._errors import DataError

__all__ = [
    "ANALYTES",
    "IsotopeReport",
    "LabelledStandard",
    "exchangeable_hydrogens",
    "isotope_report",
    "smiles_composition",
]

# Neutral structures from ChEBI (stereo kept; it does not affect counts).
ANALYTES: dict[str, tuple[str, str]] = {
    # name: (SMILES, ChEBI id)
    "asparagine": ("N[C@@H](CC(N)=O)C(O)=O", "CHEBI:17196"),
    "aspartate": ("N[C@@H](CC(O)=O)C(O)=O", "CHEBI:17053"),
    "glutamine": ("N[C@@H](CCC(N)=O)C(O)=O", "CHEBI:18050"),
    "glutamate": ("N[C@@H](CCC(O)=O)C(O)=O", "CHEBI:16015"),
}
_ALIASES = {"asn": "asparagine", "asp": "aspartate", "gln": "glutamine", "glu": "glutamate"}

# Lowest standard valences of the SMILES organic subset (OpenSMILES specification §3.1.5).
_VALENCES = {"B": (3,), "C": (4,), "N": (3, 5), "O": (2,), "P": (3, 5), "S": (2, 4, 6)}
_VALENCES.update(dict.fromkeys(("F", "Cl", "Br", "I"), (1,)))
_HETERO_EXCHANGEABLE = ("N", "O", "S")
_SMILES_TOKEN = re.compile(r"\[[^\]]+\]|Br|Cl|[BCNOPSFI]|[=#\-]|[()]|%\d\d|\d|[@/\\.]|.")
_BRACKET = re.compile(r"^\[(\d*)([A-Z][a-z]?)(@*)(H\d*)?([+-]\d*)?\]$")


@dataclass
class _Atom:
    element: str
    explicit_h: int | None  # bracket atoms state their H count
    bond_order: int = 0


def _parse_smiles(smiles: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    stack: list[int] = []
    rings: dict[str, tuple[int, int]] = {}
    prev: int | None = None
    order = 1
    for tok in _SMILES_TOKEN.findall(smiles):
        if tok in "-=#":
            order = {"-": 1, "=": 2, "#": 3}[tok]
        elif tok == "(":
            if prev is None:
                raise DataError(f"SMILES {smiles!r}: branch opens before any atom")
            stack.append(prev)
        elif tok == ")":
            if not stack:
                raise DataError(f"SMILES {smiles!r}: unbalanced ')'")
            prev = stack.pop()
        elif tok.isdigit() or tok.startswith("%"):
            if prev is None:
                raise DataError(f"SMILES {smiles!r}: ring bond before any atom")
            if tok in rings:
                other, o = rings.pop(tok)
                bond = max(order, o)
                atoms[other].bond_order += bond
                atoms[prev].bond_order += bond
            else:
                rings[tok] = (prev, order)
            order = 1
        elif tok in "@/\\":
            continue
        else:
            if tok.startswith("["):
                m = _BRACKET.match(tok)
                if m is None or m.group(5):
                    raise DataError(
                        f"SMILES {smiles!r}: bracket atom {tok} is not supported (neutral "
                        "atoms only, e.g. [C@@H])"
                    )
                h = m.group(4)
                atom = _Atom(m.group(2), 0 if h is None else int(h[1:] or 1))
            elif tok in _VALENCES:
                atom = _Atom(tok, None)
            else:
                raise DataError(
                    f"SMILES {smiles!r}: cannot read {tok!r} (aromatic and charged atoms are "
                    "not supported; write a Kekulé, neutral structure)"
                )
            atoms.append(atom)
            if prev is not None:
                atom.bond_order += order
                atoms[prev].bond_order += order
            prev = len(atoms) - 1
            order = 1
    if stack or rings:
        raise DataError(f"SMILES {smiles!r}: unclosed branch or ring")
    if not atoms:
        raise DataError(f"SMILES {smiles!r}: no atoms")
    return atoms


def _hydrogens(atom: _Atom) -> int:
    if atom.explicit_h is not None:
        return atom.explicit_h
    for valence in _VALENCES[atom.element]:
        if valence >= atom.bond_order:
            return valence - atom.bond_order
    return 0


def smiles_composition(smiles: str) -> dict[str, int]:
    """Element counts (hydrogens included) of a neutral SMILES structure."""
    counts: dict[str, int] = {}
    for atom in _parse_smiles(smiles):
        counts[atom.element] = counts.get(atom.element, 0) + 1
        counts["H"] = counts.get("H", 0) + _hydrogens(atom)
    return counts


def exchangeable_hydrogens(smiles: str) -> tuple[int, int]:
    """(exchangeable, non-exchangeable) hydrogen counts: H on N/O/S vs H on carbon."""
    exch = non = 0
    for atom in _parse_smiles(smiles):
        h = _hydrogens(atom)
        if atom.element in _HETERO_EXCHANGEABLE:
            exch += h
        else:
            non += h
    return exch, non


def _formula_string(counts: dict[str, int]) -> str:
    order = ["C", "H", "N", "O", "P", "S"]
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    return "".join(f"{k}{counts[k] if counts[k] != 1 else ''}" for k in keys if counts[k])


_LABEL_TOKEN = re.compile(r"^(?:(13)C|(15)N|(18)O|(d|2H|D))(\d+)$")


@dataclass(frozen=True)
class LabelledStandard:
    """A stable-isotope-labelled internal standard as sold and as observed."""

    label: str
    heavy: dict[str, int]  # element -> number of heavy atoms as sold: C, N, O, H (=D)
    deuterium_observed: int
    formula_sold: str  # molmass notation, e.g. "C4H5[2H]3[15N]2O3"
    formula_observed: str
    mz_sold: float
    mz_observed: float
    shift_observed: int  # nominal mass units above the unlabelled [M+H]+


def _parse_label(label: str) -> dict[str, int]:
    heavy: dict[str, int] = {}
    for part in re.split(r"[,;\s]+", label.strip()):
        if not part:
            continue
        m = _LABEL_TOKEN.match(part)
        if m is None:
            raise DataError(
                f"label {label!r}: cannot read {part!r}; expected tokens like 13C4, 15N2, "
                "18O1, d8 (or 2H8) separated by commas"
            )
        element = "C" if m.group(1) else "N" if m.group(2) else "O" if m.group(3) else "H"
        heavy[element] = heavy.get(element, 0) + int(m.group(5))
    if not heavy:
        raise DataError(f"label {label!r}: no labelled atoms")
    return heavy


def _labelled_formula(counts: dict[str, int], heavy: dict[str, int]) -> str:
    heavy_sym = {"C": "[13C]", "N": "[15N]", "O": "[18O]", "H": "[2H]"}
    parts = []
    for el in ["C", "H", "N", "O", "P", "S"]:
        n = counts.get(el, 0)
        k = heavy.get(el, 0)
        if n - k:
            parts.append(f"{el}{n - k if n - k != 1 else ''}")
        if k:
            parts.append(f"{heavy_sym[el]}{k if k != 1 else ''}")
    return "".join(parts)


def _protonated_mz(formula: str) -> float:
    """Monoisotopic m/z of [M+H]+ (proton = H atom minus an electron)."""
    return float(
        Formula(formula).monoisotopic_mass + ELEMENTS["H"].isotopes[1].mass - ELECTRON.mass
    )


@cache
def _analyte(name: str) -> tuple[str, str, dict[str, int]]:
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ANALYTES:
        raise DataError(f"unknown analyte {name!r}; known: {', '.join(sorted(ANALYTES))}")
    smiles, chebi = ANALYTES[key]
    return key, chebi, smiles_composition(smiles)


def labelled_standard(analyte: str, label: str) -> LabelledStandard:
    """Masses of a labelled standard as sold and as observed in protic solvent."""
    key, _, counts = _analyte(analyte)
    heavy = _parse_label(label)
    for el, k in heavy.items():
        if k > counts.get(el, 0):
            raise DataError(
                f"label {label!r}: {key} has {counts.get(el, 0)} {el} atoms, cannot carry {k}"
            )
    _exch, non_exch = exchangeable_hydrogens(ANALYTES[key][0])
    d_sold = heavy.get("H", 0)
    # Deuterium on N/O/S is washed out by the mobile phase; on carbon it stays. A standard
    # with more D than carbon-bound H therefore carries the excess on exchangeable sites.
    d_obs = min(d_sold, non_exch)
    observed = dict(heavy)
    observed["H"] = d_obs
    f_sold = _labelled_formula(counts, heavy)
    f_obs = _labelled_formula(counts, observed)
    base = _protonated_mz(_formula_string(counts))
    mz_obs = _protonated_mz(f_obs)
    return LabelledStandard(
        label=label,
        heavy=heavy,
        deuterium_observed=d_obs,
        formula_sold=f_sold,
        formula_observed=f_obs,
        mz_sold=_protonated_mz(f_sold),
        mz_observed=mz_obs,
        shift_observed=round(mz_obs - base),
    )


def _element_distribution(element: str) -> NDArray[np.float64]:
    """Natural abundance of an element on a nominal-mass offset scale from its lightest."""
    isotopes = sorted(ELEMENTS[element].isotopes.values(), key=lambda i: i.massnumber)
    isotopes = [i for i in isotopes if i.abundance > 0]
    lightest = isotopes[0].massnumber
    dist = np.zeros(isotopes[-1].massnumber - lightest + 1)
    for iso in isotopes:
        dist[iso.massnumber - lightest] = iso.abundance
    return dist / dist.sum()


_HEAVY_SHIFT = {"C": 1, "N": 1, "O": 2, "H": 1}


def nominal_distribution(
    counts: dict[str, int], heavy: dict[str, int] | None = None, purity: float = 1.0
) -> NDArray[np.float64]:
    """Fraction of molecules at each nominal mass offset above the all-light molecule.

    Labelled positions carry the heavy isotope with probability ``purity`` (atom %
    enrichment / 100) and otherwise the light one; other positions follow nature.
    """
    if not 0 < purity <= 1:
        raise DataError(f"label purity must be in (0, 1], got {purity:g}")
    heavy = heavy or {}
    dist = np.array([1.0])
    for el, n in counts.items():
        k = heavy.get(el, 0)
        natural = _element_distribution(el)
        for _ in range(n - k):
            dist = np.convolve(dist, natural)
        site = np.zeros(_HEAVY_SHIFT[el] + 1)
        site[0], site[-1] = 1 - purity, purity
        for _ in range(k):
            dist = np.convolve(dist, site)
    return dist


@dataclass(frozen=True)
class IsotopeReport:
    """Masses and channel crosstalk for an analyte and its labelled internal standard."""

    analyte: str
    chebi: str
    formula: str
    mz_analyte: float
    exchangeable_h: int
    nonexchangeable_h: int
    standard: LabelledStandard
    purity: float
    natural_abundance: list[float]  # analyte M+0, M+1, ... (fractions)
    analyte_into_is: float  # analyte signal in the IS channel per unit analyte M+0 signal
    is_into_analyte: float  # IS signal in the analyte channel per unit IS main-peak signal

    def to_dict(self) -> dict[str, Any]:
        s = self.standard
        return {
            "analyte": self.analyte,
            "chebi": self.chebi,
            "formula": self.formula,
            "mz_M+H": self.mz_analyte,
            "exchangeable_H": self.exchangeable_h,
            "nonexchangeable_H": self.nonexchangeable_h,
            "standard": {
                "label": s.label,
                "formula_as_sold": s.formula_sold,
                "formula_observed": s.formula_observed,
                "mz_M+H_as_sold": s.mz_sold,
                "mz_M+H_observed": s.mz_observed,
                "mass_shift_observed": s.shift_observed,
                "deuterium_observed": s.deuterium_observed,
                "purity": self.purity,
            },
            "natural_abundance": self.natural_abundance,
            "crosstalk": {
                "analyte_into_IS_channel": self.analyte_into_is,
                "IS_into_analyte_channel": self.is_into_analyte,
            },
        }


def isotope_report(analyte: str, label: str, purity: float = 0.99) -> IsotopeReport:
    """Isotope facts for quantifying ``analyte`` against a standard labelled ``label``.

    ``purity`` is the isotopic enrichment per labelled position (0.99 = 99 atom %, the
    common vendor specification for 13C/15N-labelled amino acids; use the lot's value). The
    crosstalk terms are precursor-level, unit-resolution fractions; the fragment chosen for
    an MRM transition can only lower them.
    """
    key, chebi, counts = _analyte(analyte)
    std = labelled_standard(key, label)
    natural = nominal_distribution(counts)
    observed_heavy = dict(std.heavy)
    observed_heavy["H"] = std.deuterium_observed
    is_dist = nominal_distribution(counts, observed_heavy, purity)
    shift = std.shift_observed
    a_into_is = float(natural[shift] / natural[0]) if shift < len(natural) else 0.0
    is_into_a = float(is_dist[0] / is_dist[shift])
    exch, non = exchangeable_hydrogens(ANALYTES[key][0])
    return IsotopeReport(
        analyte=key,
        chebi=chebi,
        formula=_formula_string(counts),
        mz_analyte=_protonated_mz(_formula_string(counts)),
        exchangeable_h=exch,
        nonexchangeable_h=non,
        standard=std,
        purity=purity,
        natural_abundance=[float(v) for v in natural[:6]],
        analyte_into_is=a_into_is,
        is_into_analyte=is_into_a,
    )
