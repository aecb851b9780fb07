"""The cell model: the seed's asparagine network as an executable, exportable model.

One medium (RPMI-1640, DMEM, derived or custom) shared by one or more cell types; per cell
type a cytosol whose volume is the viable cell count times the cell volume, so that growth
dilutes intracellular species and dying cells take their contents with them. Reactions and
signalling are described in ``docs/cell-model.md`` (generated from this module). Units:
mM, hours, litres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from .._errors import DataError
from ..knowledge import KnowledgeBase, load_knowledge_base
from ..network import Compartment, Event, Model, Parameter, Reaction, Species
from ..units import Q_, magnitude, to_amount_concentration
from ._cell_data import (
    AMINO_ACIDS,
    CELL_TYPES,
    CYTOSOLIC,
    ENZYMES,
    EXCHANGE_PARTNERS,
    INITIAL_CYTOSOL,
    MEDIA,
    MEDIA_DERIVED,
    MEDIUM,
    MEDIUM_SALT,
    METABOLITES,
    RESISTANT_FACTOR,
)

__all__ = ["Addition", "CellConfig", "build_cell_model", "media_names", "medium_composition"]

KNOCKOUTS = ("raga-b", "arf1")
_ASNS_UNIPROT = "P08243"  # human asparagine synthetase


@dataclass(frozen=True)
class Addition:
    """An intervention at ``at`` hours: add to a medium species, set a parameter, or wash."""

    at: float
    target: str  # medium species id (e.g. "Asn_med"), or a parameter id
    value: float
    mode: str = "add"  # "add" or "set"


@dataclass(frozen=True)
class CellConfig:
    """Everything that selects a model: cell types, medium, drugs, perturbations."""

    cell_types: tuple[str, ...] = ("all-blast",)
    medium: str = "rpmi-1640"
    asparaginase: Any = None  # e.g. "1 IU/mL"
    enzyme: str = "ecoli"
    knockdown: dict[str, float] = field(default_factory=dict)  # {"asns": 0.9}
    knockout: tuple[str, ...] = ()
    er_stress: float = 0.0
    rapamycin: float = 0.0
    overrides: dict[str, float] = field(default_factory=dict)  # parameter or species id
    additions: tuple[Addition, ...] = ()


def media_names() -> list[str]:
    return sorted([*MEDIA, *MEDIA_DERIVED, "custom"])


def medium_composition(name: str, kb: KnowledgeBase | None = None) -> dict[str, float]:
    """Amino-acid concentrations (mM) of a medium preset, computed from mg/L and formulas."""
    kb = kb or load_knowledge_base()
    removed: tuple[str, ...] = ()
    base = name
    if name in MEDIA_DERIVED:
        base, removed = MEDIA_DERIVED[name]
    if name == "custom":
        return dict.fromkeys(MEDIUM, 0.0)
    if base not in MEDIA:
        raise DataError(f"unknown medium {name!r}; choose one of {', '.join(media_names())}")
    out = dict.fromkeys(MEDIUM, 0.0)
    for aa, rid in MEDIA[base].items():
        if aa in removed:
            continue
        species = MEDIUM_SALT.get((base, aa), METABOLITES[aa].name)
        q = kb.get(rid).as_quantity()
        out[aa] = float(to_amount_concentration(q, species, "mM").magnitude)
    return out


class _Builder:
    def __init__(self, config: CellConfig, kb: KnowledgeBase) -> None:
        self.c = config
        self.kb = kb
        self.params: list[Parameter] = []
        self.species: list[Species] = []
        self.reactions: list[Reaction] = []
        self.compartments: list[Compartment] = []
        self.events: list[Event] = []
        self._ids: set[str] = set()

    # -- parameters -----------------------------------------------------------------
    def rec(self, pid: str, record: str, unit: str, name: str = "", **kw: Any) -> str:
        value = self.kb.value(record, unit)
        self._param(
            Parameter(pid, value, unit, name or self.kb.get(record).entity, record=record, **kw)
        )
        return pid

    def assume(self, pid: str, value: float, unit: str, name: str, reason: str) -> str:
        self._param(Parameter(pid, value, unit, name, assumption=reason))
        return pid

    def derive(self, pid: str, value: float, unit: str, name: str, how: str, **kw: Any) -> str:
        self._param(Parameter(pid, value, unit, name, derived=how, **kw))
        return pid

    def _param(self, p: Parameter) -> None:
        if p.id in self._ids:
            return
        self._ids.add(p.id)
        self.params.append(p)

    def half_life_rate(self, pid: str, record: str, name: str) -> str:
        t_half = self.kb.value(record, "h")
        return self.derive(pid, math.log(2) / t_half, "1/h", name, f"ln 2 / half-life ({record})")

    # -- build ----------------------------------------------------------------------
    def build(self) -> Model:
        c = self.c
        if not c.cell_types:
            raise DataError("at least one cell type is needed")
        unknown = [t for t in c.cell_types if t not in CELL_TYPES]
        if unknown:
            raise DataError(
                f"unknown cell type {unknown[0]!r}; choose from {', '.join(CELL_TYPES)}"
            )
        if len(set(c.cell_types)) != len(c.cell_types):
            raise DataError("each cell type may appear once (co-culture of different types)")
        if c.enzyme not in ENZYMES:
            raise DataError(f"unknown enzyme {c.enzyme!r}; choose from {', '.join(ENZYMES)}")
        bad_ko = [k for k in c.knockout if k not in KNOCKOUTS]
        if bad_ko:
            raise DataError(f"unknown knockout {bad_ko[0]!r}; choose from {', '.join(KNOCKOUTS)}")
        for gene, frac in c.knockdown.items():
            if gene.lower() != "asns":
                raise DataError(f"knockdown of {gene!r} is not modelled (only asns)")
            if not 0 <= frac < 1:
                raise DataError(f"knockdown fraction must be in [0, 1), got {frac:g}")
        for name, v in (("er_stress", c.er_stress), ("rapamycin", c.rapamycin)):
            if not 0 <= v <= 1:
                raise DataError(f"{name} must be between 0 and 1, got {v:g}")
        self._globals()
        self._medium()
        for t in c.cell_types:
            self._cell(CELL_TYPES[t])
        self._events()
        model = Model(
            id="asnflux_cell",
            name="AsnFlux cell model: "
            + " + ".join(CELL_TYPES[t].name for t in c.cell_types)
            + f" in {c.medium}",
            compartments=self.compartments,
            species=self.species,
            parameters=self.params,
            reactions=self.reactions,
            events=self.events,
            notes="Generated by asnflux.models.cell; units mM, h, L. Parameter provenance "
            "(knowledge-base record or assumption) is in each parameter's annotation.",
        )
        return _apply_overrides(model, c.overrides)

    def _globals(self) -> None:
        r, d = self.rec, self.derive
        r("Km_ASNS_Asp", "seed.t1.asns_human.km_asp", "mM", "ASNS Km for Asp")
        r("Km_ASNS_Gln", "seed.t1.asns_human.km_gln", "mM", "ASNS Km for Gln")
        r("Km_ASNS_NH4", "asns.nh3.km", "mM", "ASNS Km for NH4+ (ammonia route)")
        r("K_charge", "trna.charging.k_half", "mM")
        r("K_nt_Gln", "nucleotide.k_gln", "mM")
        r("K_nt_Asp", "nucleotide.k_asp", "mM")
        r("nt_Asp", "cell.nucleotide_demand.asp", "mM")
        gln = self.kb.value("cell.nucleotide_demand.gln_amide", "mM")
        asp = self.kb.value("cell.nucleotide_demand.asp", "mM")
        ser = self.kb.value("cell.nucleotide_demand.ser", "mM")
        self.nt_gln_per_unit = gln / asp
        self.nt_ser_per_unit = ser / asp
        prot = self.kb.value("cell.protein.mass_concentration", "g/L")
        res = self.kb.value("protein.residue_mass", "g/mol")
        d(
            "residues",
            prot / res * 1e3,
            "mM",
            "amino-acid residues in protein per cell volume",
            "cell.protein.mass_concentration / protein.residue_mass",
        )
        for aa in AMINO_ACIDS:
            r(f"f_{aa}", f"proteome.fraction.{aa.lower()}", "dimensionless")
        r("Km_tr", "transport.km", "mM", "uptake half-saturation")
        r("Kc", "transport.concentration_ratio", "dimensionless")
        r("Kc_Asn", "transport.concentration_ratio.asn", "dimensionless")
        for aa in AMINO_ACIDS:
            r(f"Vtr_{aa}", f"transport.vmax.{aa.lower()}", "mM/h")
        r("Kex_partner", "exchange.km.partner", "mM")
        r("Kex_Asn", "exchange.km.asn", "mM")
        for aa in EXCHANGE_PARTNERS:
            r(f"Vex_{aa}", f"exchange.vmax.{aa.lower()}", "mM/h")
        r("P_NH3", "transport.nh3.permeability", "1/h")
        r("V_ASNase_int", "asnase.intracellular.vmax", "mM/h")
        r(
            "Km_ASNase_int",
            "seed.t1.asnase_guinea_pig_gpasnase3.km",
            "mM",
            "intracellular asparaginase Km (gpASNase3 as the mM-Km representative)",
        )
        r("V_GTK", "asnase2.transaminase.vmax", "mM/h")
        r("Km_GTK", "asnase2.transaminase.km", "mM")
        r("k_NIT2", "asnase2.omega_amidase.k", "1/h")
        r("V_GOT", "asp.synthesis.vmax", "mM/h")
        r("Ki_GOT_Asp", "asp.synthesis.ki", "mM")
        r("Km_GOT_Glu", "asp.synthesis.km_glu", "mM")
        r("V_GLS", "gls.vmax", "mM/h")
        r("Km_GLS", "gls.km", "mM")
        r("Ki_GLS_Glu", "gls.ki.glu", "mM")
        r("V_GDH", "gdh.vmax", "mM/h")
        r("Km_GDH", "gdh.km", "mM")
        r("Km_GS_Glu", "gs.km.glu", "mM")
        r("Km_GS_NH4", "gs.km.nh4", "mM")
        r("tau_GCN2", "isr.gcn2.time_constant", "h")
        r("tau_PERK", "isr.perk.time_constant", "h")
        r("tau_eIF2", "isr.eif2ap.time_constant", "h")
        r("eIF2P_basal", "isr.eif2ap.basal", "dimensionless")
        r("K_GCN2", "isr.gcn2.k_half", "dimensionless")
        r("K_ATF4", "isr.atf4.k_half", "dimensionless")
        r("n_ISR", "isr.hill", "dimensionless")
        self.half_life_rate("k_ATF4", "atf4.protein.half_life", "ATF4 turnover rate")
        self.half_life_rate("k_mRNA", "asns.mrna.half_life", "ASNS mRNA decay rate")
        self.half_life_rate("k_ASNS", "asns.protein.half_life", "ASNS protein decay rate")
        r("K_Leu", "mtor.leu.k_half", "mM")
        r("K_Arf1", "mtor.arf1.k_half", "mM")
        r("tau_Rag", "mtor.rag.time_constant", "h")
        r("tau_Arf1", "mtor.arf1.time_constant", "h")
        r("w_Arf1", "mtor.arf1.weight", "dimensionless")
        r("tau_S6K", "mtor.s6k.time_constant", "h")
        r("rapa_4EBP1_resistant", "mtor.rapamycin.4ebp1_resistance", "dimensionless")
        r("tl_ISR", "translation.isr_inhibition", "dimensionless")
        r("tl_min", "translation.mtor_independent", "dimensionless")
        r("kd_max", "death.rate.max", "1/h")
        r("tau_stress", "death.stress.time_constant", "h")
        r("K_stress", "death.stress.k_half", "dimensionless")
        r("n_death", "death.hill", "dimensionless")
        self.derive(
            "er_stress",
            self.c.er_stress,
            "dimensionless",
            "ER-stress input (0 none, 1 tunicamycin-like)",
            "an input of the experiment",
        )
        self.derive(
            "rapamycin",
            self.c.rapamycin,
            "dimensionless",
            "rapamycin input (0 none, 1 saturating)",
            "an input of the experiment",
        )

    def _medium(self) -> None:
        kb = self.kb
        v_med = kb.value("culture.medium_volume", "L")
        self.compartments.append(Compartment("medium", "culture medium", v_med))
        self.v_med = v_med
        comp = medium_composition(self.c.medium, kb)
        for key in MEDIUM:
            m = METABOLITES[key]
            self.species.append(
                Species(f"{key}_med", f"{m.name} (medium)", "medium", comp[key], m.chebi, m.formula)
            )
        enzyme = ENZYMES[self.c.enzyme]
        dose = 0.0
        if self.c.asparaginase is not None:
            dose = magnitude(self.c.asparaginase, "IU/mL", name="asparaginase")
            if dose < 0:
                raise DataError(f"asparaginase activity must be ≥ 0, got {dose:g} IU/mL")
        self.half_life_rate(
            "k_ASNase_decay", "asnase.culture.half_life", "decay of asparaginase activity in medium"
        )
        self.derive(
            "ASNase",
            dose,
            "IU/mL",
            f"{enzyme.name} activity in the medium",
            "state: the dose, decaying in culture",
            rate_rule="-k_ASNase_decay * ASNase",
        )
        self.derive(
            "IU_per_mL",
            float(Q_(1.0, "IU/mL").to("mM/h").magnitude),
            "mM/h/(IU/mL)",
            "activity-to-rate conversion",
            "1 IU/mL = 1 µmol/min/mL = 60 mM/h (pint)",
        )
        self.rec("Km_ASNase", enzyme.km, "mM", f"{enzyme.name} Km for Asn")
        if enzyme.glutaminase:
            self.rec("f_glutaminase", enzyme.glutaminase, "dimensionless")
        else:
            self.assume(
                "f_glutaminase",
                0.0,
                "dimensionless",
                "glutaminase side activity",
                "not reported for this enzyme (seed Table 1 gives its Asn Km only)",
            )
        self.rec("Km_glutaminase", "asnase.glutaminase.km", "mM")
        self.reactions.append(
            Reaction(
                "ASNase_medium",
                f"{enzyme.name}: Asn -> Asp + NH4+",
                {"Asn_med": 1},
                {"Asp_med": 1, "NH4_med": 1},
                "IU_per_mL * ASNase * Asn_med / (Km_ASNase + Asn_med)",
                "medium",
            )
        )
        self.reactions.append(
            Reaction(
                "glutaminase_medium",
                "asparaginase glutaminase side activity",
                {"Gln_med": 1},
                {"Glu_med": 1, "NH4_med": 1},
                "IU_per_mL * ASNase * f_glutaminase * Gln_med / (Km_glutaminase + Gln_med)",
                "medium",
            )
        )

    def _cell(self, ct: Any) -> None:
        k = ct.key
        kb = self.kb
        cyt = f"cyt_{k}"

        def s(x: str) -> str:
            return f"{x}_cyt_{k}"

        self.rec(f"Vcell_{k}", ct.volume, "L", f"{ct.name} cell volume")
        td = kb.value(ct.doubling, "h")
        self.derive(
            f"mu_max_{k}",
            math.log(2) / td,
            "1/h",
            f"{ct.name} maximal growth rate",
            f"ln 2 / doubling time ({ct.doubling})",
        )
        rec_v, op, rec_f = ct.asns_vmax
        v = kb.value(rec_v, "mM/h")
        how = rec_v
        if rec_f:
            f = kb.value(rec_f, "dimensionless")
            v = v / f if op == "/" else v * f
            how = f"{rec_v} {op} {rec_f}"
        if k in RESISTANT_FACTOR:
            v *= kb.value(RESISTANT_FACTOR[k], "dimensionless")
            how += f" * {RESISTANT_FACTOR[k]}"
        self.derive(
            f"V_ASNS_{k}", v, "mM/h", f"{ct.name} basal ASNS capacity", how, uniprot=_ASNS_UNIPROT
        )
        self.rec(
            f"ASNS_induction_{k}",
            ct.asns_induction,
            "dimensionless",
            f"{ct.name} maximal ASNS induction",
        )
        self.rec(f"V_GS_{k}", ct.gs_vmax, "mM/h", f"{ct.name} GS capacity")
        density = kb.value(ct.density, "1/mL")
        cells0 = density * self.v_med * 1e3  # per mL × mL of medium
        kd = self.c.knockdown.get("asns", 0.0)
        self.derive(
            f"knockdown_{k}",
            kd,
            "dimensionless",
            "ASNS knock-down fraction",
            "an input of the experiment",
        )
        self.derive(
            f"KO_Rag_{k}",
            1.0 if "raga-b" in self.c.knockout else 0.0,
            "dimensionless",
            "RagA/B knockout (1) or wild type (0)",
            "an input",
        )
        self.derive(
            f"KO_Arf1_{k}",
            1.0 if "arf1" in self.c.knockout else 0.0,
            "dimensionless",
            "Arf1 knockout (1) or wild type (0)",
            "an input",
        )
        # State variables (rate rules): cells and signalling.
        self.derive(
            f"cells_{k}",
            cells0,
            "dimensionless",
            f"viable {ct.name} cells",
            f"state; initial {ct.density} × medium volume",
            rate_rule=f"(mu_{k} - kd_{k}) * cells_{k}",
        )
        self.derive(
            f"dead_{k}",
            0.0,
            "dimensionless",
            f"dead {ct.name} cells",
            "state",
            rate_rule=f"kd_{k} * cells_{k}",
        )
        self.compartments.append(
            Compartment(
                cyt,
                f"{ct.name} cytosol (all viable cells)",
                cells0 * self.params_value(f"Vcell_{k}"),
                size_rule=f"cells_{k} * Vcell_{k}",
            )
        )
        for key in CYTOSOLIC:
            m = METABOLITES[key]
            init = kb.value(INITIAL_CYTOSOL[key], "mM") if key in INITIAL_CYTOSOL else 0.0
            self.species.append(
                Species(s(key), f"{m.name} ({ct.name})", cyt, init, m.chebi, m.formula)
            )
        for key in ("AKG", "OAA"):
            m = METABOLITES[key]
            self.species.append(
                Species(
                    s(key), f"{m.name} ({ct.name})", cyt, 1.0, m.chebi, m.formula, boundary=True
                )
            )
        aa_terms = " * ".join(f"{s(a)} / (K_charge + {s(a)})" for a in AMINO_ACIDS)
        self.derive(
            f"charging_{k}",
            1.0,
            "dimensionless",
            "tRNA charging (product over AAs)",
            "Michaelis-Menten charging of each amino acid's tRNA",
            assignment=aa_terms,
        )
        self.derive(
            f"mTORC1_{k}",
            1.0,
            "dimensionless",
            "mTORC1 activity",
            "Rag and Arf1 arms combined as independent routes",
            assignment=f"1 - (1 - Rag_{k}) * (1 - w_Arf1 * Arf1_{k})",
        )
        self.derive(
            f"translation_{k}",
            1.0,
            "dimensionless",
            "relative translation rate",
            "4E-BP1-P (mTORC1) and eIF2alpha-P control of translation",
            assignment=f"(tl_min + (1 - tl_min) * EBP1P_{k}) * (1 - tl_ISR * eIF2P_{k})",
        )
        self.derive(
            f"nucleotide_{k}",
            1.0,
            "dimensionless",
            "nucleotide synthesis saturation",
            "Gln and Asp saturation of nucleotide synthesis",
            assignment=f"{s('Gln')} / (K_nt_Gln + {s('Gln')}) * {s('Asp')} / "
            f"(K_nt_Asp + {s('Asp')})",
        )
        self.derive(
            f"mu_{k}",
            0.0,
            "1/h",
            f"{ct.name} growth rate",
            "maximal rate × charging × translation × nucleotide supply",
            assignment=f"mu_max_{k} * charging_{k} * translation_{k} * nucleotide_{k}",
        )
        self.derive(
            f"kd_{k}",
            0.0,
            "1/h",
            f"{ct.name} death rate",
            "Hill function of the integrated stress",
            assignment=f"kd_max * stress_{k}^n_death / (K_stress^n_death + stress_{k}^n_death)",
        )
        self.derive(
            f"viability_{k}",
            1.0,
            "dimensionless",
            "viable fraction",
            "viable / (viable + dead)",
            assignment=f"cells_{k} / (cells_{k} + dead_{k})",
        )
        uncharged = f"(1 - charging_{k})"
        g = "eIF2P_basal^n_ISR / (K_ATF4^n_ISR + eIF2P_basal^n_ISR)"
        signalling = [
            (
                "GCN2",
                0.0,
                "GCN2 activity",
                f"({uncharged}^n_ISR / (K_GCN2^n_ISR + {uncharged}^n_ISR) - GCN2_{k}) / tau_GCN2",
            ),
            ("PERK", 0.0, "PERK activity", f"(er_stress - PERK_{k}) / tau_PERK"),
            (
                "eIF2P",
                self.params_value("eIF2P_basal"),
                "eIF2alpha-P fraction",
                f"(eIF2P_basal + (1 - eIF2P_basal) * (1 - (1 - GCN2_{k}) * (1 - PERK_{k})) - "
                f"eIF2P_{k}) / tau_eIF2",
            ),
            (
                "ATF4",
                1.0,
                "ATF4 protein (relative to basal)",
                f"k_ATF4 * (1 + (ASNS_induction_{k} - 1) * (eIF2P_{k}^n_ISR / (K_ATF4^n_ISR + "
                f"eIF2P_{k}^n_ISR) - {g}) / (1 - {g}) - ATF4_{k})",
            ),
            (
                "ASNS_mRNA",
                1.0 - kd,
                "ASNS mRNA (relative to basal)",
                f"k_mRNA * ((1 - knockdown_{k}) * ATF4_{k} - ASNS_mRNA_{k})",
            ),
            (
                "ASNS",
                1.0 - kd,
                "ASNS protein (relative to basal)",
                f"(k_ASNS + mu_{k}) * (ASNS_mRNA_{k} - ASNS_{k})",
            ),
            (
                "Rag",
                1.0,
                "Rag-arm mTORC1 activity",
                f"({s('Leu')} / (K_Leu + {s('Leu')}) * (1 - KO_Rag_{k}) - Rag_{k}) / tau_Rag",
            ),
            (
                "Arf1",
                1.0,
                "Arf1-arm mTORC1 activity",
                f"(({s('Asn')} + {s('Gln')}) / (K_Arf1 + {s('Asn')} + {s('Gln')}) * "
                f"(1 - KO_Arf1_{k}) - Arf1_{k}) / tau_Arf1",
            ),
            (
                "S6K1P",
                1.0,
                "S6K1 phosphorylation",
                f"(mTORC1_{k} * (1 - rapamycin) - S6K1P_{k}) / tau_S6K",
            ),
            (
                "EBP1P",
                1.0,
                "4E-BP1 phosphorylation",
                f"(mTORC1_{k} * (1 - rapamycin * (1 - rapa_4EBP1_resistant)) - EBP1P_{k}) / "
                "tau_S6K",
            ),
            (
                "stress",
                0.0,
                "integrated pro-apoptotic stress (CHOP-like)",
                f"((eIF2P_{k} - eIF2P_basal) / (1 - eIF2P_basal) - stress_{k}) / tau_stress",
            ),
        ]
        for name, init, label, rule in signalling:
            self.derive(
                f"{name}_{k}",
                init,
                "dimensionless",
                f"{label}, {ct.name}",
                "state variable relaxing to its driven level",
                rate_rule=rule,
            )
        self._cell_reactions(ct, s, cyt)

    def params_value(self, pid: str) -> float:
        for p in self.params:
            if p.id == pid:
                return p.value
        raise KeyError(pid)

    def _cell_reactions(self, ct: Any, s: Any, cyt: str) -> None:
        k = ct.key
        add = self.reactions.append
        add(
            Reaction(
                f"R_ASNS_{k}",
                f"ASNS ({ct.name}): Asp + Gln + ATP -> Asn + Glu + AMP + PPi",
                {s("Asp"): 1, s("Gln"): 1},
                {s("Asn"): 1, s("Glu"): 1},
                f"V_ASNS_{k} * ASNS_{k} * {s('Asp')} / (Km_ASNS_Asp + {s('Asp')}) * "
                f"{s('Gln')} / (Km_ASNS_Gln + {s('Gln')})",
                cyt,
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
            )
        )
        add(
            Reaction(
                f"GOT_{k}",
                f"aspartate synthesis: OAA + Glu -> Asp + 2-oxoglutarate ({ct.name})",
                {s("OAA"): 1, s("Glu"): 1},
                {s("Asp"): 1, s("AKG"): 1},
                f"V_GOT * {s('Glu')} / (Km_GOT_Glu + {s('Glu')}) / (1 + {s('Asp')} / Ki_GOT_Asp)",
                cyt,
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
            )
        )
        add(
            Reaction(
                f"GDH_{k}",
                f"glutamate dehydrogenase: Glu -> 2-oxoglutarate + NH4+ ({ct.name})",
                {s("Glu"): 1},
                {s("AKG"): 1, s("NH4"): 1},
                f"V_GDH * {s('Glu')} / (Km_GDH + {s('Glu')})",
                cyt,
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
                {s("Gln"): self.nt_gln_per_unit, s("Asp"): 1, s("Ser"): self.nt_ser_per_unit},
                {s("Glu"): self.nt_gln_per_unit},
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

    def _events(self) -> None:
        known = {sp.id for sp in self.species} | {p.id for p in self.params}
        for i, a in enumerate(sorted(self.c.additions, key=lambda a: a.at), start=1):
            if a.target not in known:
                raise DataError(
                    f"addition at {a.at:g} h: unknown species or parameter {a.target!r}"
                )
            if a.at <= 0:
                raise DataError(f"addition at {a.at:g} h: must be after the start")
            if a.mode not in ("add", "set"):
                raise DataError(f"addition mode {a.mode!r} is not 'add' or 'set'")
            value = f"{a.target} + {a.value!r}" if a.mode == "add" else repr(float(a.value))
            for j, p in enumerate(self.params):
                if p.id == a.target:
                    if p.assignment:
                        raise DataError(f"addition: {a.target} is computed by a rule")
                    self.params[j] = replace(p, variable=True)
            self.events.append(
                Event(f"event_{i}", a.at, {a.target: value}, f"{a.mode} {a.value:g} to {a.target}")
            )


def _apply_overrides(model: Model, overrides: dict[str, float]) -> Model:
    if not overrides:
        return model
    params = {p.id: p for p in model.parameters}
    species = {s.id: s for s in model.species}
    for key, value in overrides.items():
        if not math.isfinite(value):
            raise DataError(f"--set {key}: value {value!r} is not finite")
        if key in params:
            p = params[key]
            if p.assignment:
                raise DataError(f"--set {key}: it is computed by a rule ({p.assignment})")
            params[key] = replace(
                p,
                value=float(value),
                record=None,
                assumption=f"set by the user (was {p.value:g} {p.unit}; {p.provenance})",
            )
        elif key in species:
            if value < 0:
                raise DataError(f"--set {key}: a concentration must be ≥ 0")
            species[key] = replace(species[key], initial=float(value))
        else:
            close = sorted(k for k in (*params, *species) if key.lower() in k.lower())[:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise DataError(f"--set {key}: no such parameter or species{hint}")
    model.parameters = list(params.values())
    model.species = list(species.values())
    return model


def build_cell_model(config: CellConfig | None = None, kb: KnowledgeBase | None = None) -> Model:
    """Build (and check) the cell model for a configuration."""
    return _Builder(config or CellConfig(), kb or load_knowledge_base()).build()


@dataclass(frozen=True)
class CellRun:
    """A simulated experiment: the model, its SBML and the trajectory table."""

    config: CellConfig
    model: Model
    sbml: str
    table: Any  # pandas DataFrame: time_h, species (mM), derived outputs

    @property
    def cell_keys(self) -> list[str]:
        return [CELL_TYPES[t].key for t in self.config.cell_types]

    def final(self, column: str) -> float:
        return float(self.table[column].iloc[-1])

    def at(self, column: str, hours: float) -> float:
        import numpy as np

        return float(np.interp(hours, self.table["time_h"], self.table[column]))


DERIVED = (
    "cells",
    "dead",
    "viability",
    "mu",
    "charging",
    "GCN2",
    "PERK",
    "eIF2P",
    "ATF4",
    "ASNS_mRNA",
    "ASNS",
    "mTORC1",
    "Rag",
    "Arf1",
    "S6K1P",
    "EBP1P",
    "stress",
)
#: Culture-level fluxes reported (mmol/h in the simulated volume): reaction id prefixes.
FLUXES = (
    "R_ASNS",
    "exchange_Asn_Ser",
    "exchange_Asn_Arg",
    "exchange_Asn_His",
    "uptake_Ser",
    "uptake_Arg",
    "uptake_His",
    "uptake_Asn",
    "nucleotides",
)


def output_columns(model: Model, config: CellConfig) -> tuple[list[str], dict[str, str]]:
    """Selections for a run and the CSV header of each: species with unit, then derived."""
    cols: list[str] = []
    header: dict[str, str] = {}
    for sp in model.species:
        if sp.boundary:
            continue
        cols.append(sp.id)
        header[sp.id] = f"{sp.id} [mM]"
    cols.append("ASNase")
    header["ASNase"] = "ASNase [IU/mL]"
    for t in config.cell_types:
        k = CELL_TYPES[t].key
        for name in DERIVED:
            pid = f"{name}_{k}"
            unit = "1/h" if name == "mu" else "1"
            cols.append(pid)
            header[pid] = f"{pid} [{unit}]"
        for flux in FLUXES:
            rid = f"{flux}_{k}"
            cols.append(rid)
            header[rid] = f"{rid} [mmol/h]"
    return cols, header


def simulate_cell(
    config: CellConfig | None = None,
    hours: float = 72.0,
    points_per_hour: int = 4,
    engine: Any = None,
) -> CellRun:
    """Build, export and simulate a configuration with libroadrunner (or ``engine``)."""
    import numpy as np

    from ..network import to_sbml

    config = config or CellConfig()
    if not (hours > 0 and math.isfinite(hours)):
        raise DataError(f"hours must be a positive number, got {hours!r}")
    if points_per_hour < 1:
        raise DataError("points_per_hour must be ≥ 1")
    model = build_cell_model(config)
    sbml = to_sbml(model)
    cols, _ = output_columns(model, config)
    n = round(hours * points_per_hour) + 1
    times = np.linspace(0.0, hours, n)
    traj = (engine or _default_engine()).simulate(sbml, times, cols)
    return CellRun(config, model, sbml, traj.table)


_ENGINE: Any = None


def _default_engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        from ..network import RoadRunnerEngine

        _ENGINE = RoadRunnerEngine()
    return _ENGINE
