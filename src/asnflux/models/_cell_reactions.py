"""The reactions of one cell type in the cell model (per cytosol volume, mM/h)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..network import Reaction
from ._cell_data import AMINO_ACIDS, CYTOSOLIC, EXCHANGE_PARTNERS

__all__ = ["add_cell_reactions"]


def _reversible(
    vmax: str,
    keq: str,
    substrates: tuple[tuple[str, str], ...],
    products: tuple[tuple[str, str], ...],
) -> str:
    """The common modular rate law (Liebermeister, Uhlendorf & Klipp 2010) in infix:
    ``V (Πs/Km_s - Πp/(Km_s-product · Keq)) / (Π(1 + s/Km) + Π(1 + p/Km) - 1)``, written
    with the forward Vmax and the equilibrium constant so that it is zero exactly when the
    mass-action ratio equals ``keq`` (Haldane's relation holds by construction)."""
    s_prod = " * ".join(x for x, _ in substrates)
    p_prod = " * ".join(x for x, _ in products)
    kms = " * ".join(km for _, km in substrates)
    sat_s = " * ".join(f"(1 + {x} / {km})" for x, km in substrates)
    sat_p = " * ".join(f"(1 + {x} / {km})" for x, km in products)
    return f"{vmax} * ({s_prod} - {p_prod} / {keq}) / ({kms}) / ({sat_s} + {sat_p} - 1)"


def add_cell_reactions(b: Any, ct: Any, s: Callable[[str], str], cyt: str) -> None:
    """Append cell type ``ct``'s reactions to builder ``b``; ``s`` names its species."""
    k = ct.key
    add = b.reactions.append
    add(
        Reaction(
            f"R_ASNS_{k}",
            f"ASNS ({ct.name}): Asp + Gln + ATP -> Asn + Glu + AMP + PPi",
            {s("Asp"): 1, s("Gln"): 1},
            {s("Asn"): 1, s("Glu"): 1},
            f"V_ASNS_{k} * ASNS_{k} * {s('Asp')} / (Km_ASNS_Asp + {s('Asp')}) * "
            f"{s('Gln')} / (Km_ASNS_Gln + {s('Gln')})",
            cyt,
            ec="6.3.5.4",
        )
    )
    add(
        Reaction(
            f"R_ASNS_NH3_{k}",
            f"ASNS, ammonia route ({ct.name}): Asp + NH4+ + ATP -> Asn + AMP + PPi",
            {s("Asp"): 1, s("NH4"): 1},
            {s("Asn"): 1},
            f"V_ASNS_{k} * r_ASNS_NH3 * ASNS_{k} * {s('Asp')} / (Km_ASNS_Asp + {s('Asp')}) * "
            f"{s('NH4')} / (Km_ASNS_NH4 + {s('NH4')})",
            cyt,
            note="the synthetase site of ASNS using free ammonia instead of Gln's amide",
            ec="6.3.1.1",
        )
    )
    add(
        Reaction(
            f"ASNase_int_{k}",
            f"intracellular asparaginase ({ct.name})",
            {s("Asn"): 1},
            {s("Asp"): 1, s("NH4"): 1},
            f"V_ASNase_int * {s('Asn')} / (Km_ASNase_int + {s('Asn')})",
            cyt,
            ec="3.5.1.1",
        )
    )
    add(
        Reaction(
            f"GTK_{k}",
            f"Asn transamination, asparaginase II pathway ({ct.name})",
            {s("Asn"): 1, s("AKG"): 1},
            {s("AKSA"): 1, s("Glu"): 1},
            f"V_GTK * {s('Asn')} / (Km_GTK + {s('Asn')})",
            cyt,
            ec="2.6.1.64",
        )
    )
    add(
        Reaction(
            f"NIT2_{k}",
            f"omega-amidase: alpha-ketosuccinamate -> OAA + NH4+ ({ct.name})",
            {s("AKSA"): 1},
            {s("OAA"): 1, s("NH4"): 1},
            f"k_NIT2 * {s('AKSA')}",
            cyt,
            ec="3.5.1.3",
        )
    )
    add(
        Reaction(
            f"GOT_{k}",
            f"aspartate aminotransferase: OAA + Glu <-> Asp + 2-oxoglutarate ({ct.name})",
            {s("OAA"): 1, s("Glu"): 1},
            {s("Asp"): 1, s("AKG"): 1},
            _reversible(
                "V_GOT",
                "Keq_GOT",
                ((s("Glu"), "Km_GOT_Glu"), ("OAA_buffered", "Km_GOT_OAA")),
                ((s("Asp"), "Km_GOT_Asp"), ("AKG_buffered", "Km_GOT_AKG")),
            ),
            cyt,
            reversible=True,
            note="common modular rate law (Liebermeister 2010): Haldane-consistent, so the "
            "net direction follows the mass-action ratio against the equilibrium constant",
            ec="2.6.1.1",
        )
    )
    add(
        Reaction(
            f"GLS_{k}",
            f"glutaminase: Gln -> Glu + NH4+ ({ct.name})",
            {s("Gln"): 1},
            {s("Glu"): 1, s("NH4"): 1},
            f"V_GLS * {s('Gln')} / (Km_GLS + {s('Gln')}) / (1 + {s('Glu')} / Ki_GLS_Glu)",
            cyt,
            ec="3.5.1.2",
        )
    )
    add(
        Reaction(
            f"GDH_{k}",
            f"glutamate dehydrogenase: Glu <-> 2-oxoglutarate + NH4+ ({ct.name})",
            {s("Glu"): 1},
            {s("AKG"): 1, s("NH4"): 1},
            _reversible(
                "V_GDH",
                "Keq_GDH",
                ((s("Glu"), "Km_GDH"),),
                (("AKG_buffered", "Km_GDH_AKG"), (s("NH4"), "Km_GDH_NH4")),
            ),
            cyt,
            reversible=True,
            note="NAD(P)H and NAD(P)+ enter through the matrix redox ratio in Keq_GDH; runs as "
            "reductive amination when [2-OG][NH4+]/[Glu] falls below it",
            ec="1.4.1.3",
        )
    )
    add(
        Reaction(
            f"GS_{k}",
            f"glutamine synthetase ({ct.name})",
            {s("Glu"): 1, s("NH4"): 1},
            {s("Gln"): 1},
            f"V_GS_{k} * {s('Glu')} / (Km_GS_Glu + {s('Glu')}) * {s('NH4')} / "
            f"(Km_GS_NH4 + {s('NH4')})",
            cyt,
            ec="6.3.1.2",
        )
    )
    for aa in AMINO_ACIDS:
        kc = "Kc_Asn" if aa == "Asn" else "Kc"
        add(
            Reaction(
                f"uptake_{aa}_{k}",
                f"{aa} transport into {ct.name}",
                {f"{aa}_med": 1},
                {s(aa): 1},
                f"Vtr_{aa} * ({aa}_med - {s(aa)} / {kc}) / (Km_tr + {aa}_med + {s(aa)} / {kc})",
                cyt,
                reversible=True,
                sbo="SBO:0000185",
            )
        )
    add(
        Reaction(
            f"NH3_diffusion_{k}",
            f"NH3 equilibration ({ct.name})",
            {s("NH4"): 1},
            {"NH4_med": 1},
            f"P_NH3 * ({s('NH4')} - NH4_med)",
            cyt,
            reversible=True,
            sbo="SBO:0000185",
        )
    )
    for aa in EXCHANGE_PARTNERS:
        add(
            Reaction(
                f"exchange_Asn_{aa}_{k}",
                f"Asn (in) / {aa} (out) exchange ({ct.name})",
                {s("Asn"): 1, f"{aa}_med": 1},
                {"Asn_med": 1, s(aa): 1},
                f"Vex_{aa} * {s('Asn')} / (Kex_Asn + {s('Asn')}) * {aa}_med / "
                f"(Kex_partner + {aa}_med)",
                cyt,
                sbo="SBO:0000185",
            )
        )
    for aa in AMINO_ACIDS:
        add(
            Reaction(
                f"protein_{aa}_{k}",
                f"{aa} into protein ({ct.name})",
                {s(aa): 1},
                {},
                f"f_{aa} * residues * mu_{k}",
                cyt,
                boundary=True,
                sbo="SBO:0000628",
            )
        )
    add(
        Reaction(
            f"nucleotides_{k}",
            f"nucleotide synthesis ({ct.name})",
            {s("Gln"): b.nt_gln_per_unit, s("Asp"): 1, s("Ser"): b.nt_ser_per_unit},
            {s("Glu"): b.nt_gln_per_unit},
            f"nt_Asp * mu_{k}",
            cyt,
            boundary=True,
            sbo="SBO:0000628",
            note="amide N of Gln and N of Asp go into purines and pyrimidines; Ser "
            "gives one-carbon units",
        )
    )
    for key in CYTOSOLIC:
        add(
            Reaction(
                f"loss_{key}_{k}",
                f"{key} leaves with dying cells ({ct.name})",
                {s(key): 1},
                {},
                f"kd_{k} * {s(key)}",
                cyt,
                boundary=True,
                sbo="SBO:0000628",
            )
        )
