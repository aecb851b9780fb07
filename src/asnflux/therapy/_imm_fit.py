"""The per-dose reaction probabilities of :mod:`._immunogenicity`, solved from cited trials.

Each rate is solved exactly (no optimiser) from one observed share of patients and the
number of doses the trial gave in that phase, in the order the model needs them: the PEG
silent share (DCOG ALL-11, Kloos 2020), the first-dose rate (DFCI 05-001's induction dose,
Silverman 2010), the 2nd-3rd-dose rate (ALL-11 induction, three doses), the later-dose rate
(ALL-11's continuous arm, 14 doses), the rate after an asparaginase-free interval (ALL-11's
non-continuous arm), the IM factor (COG, Burke 2018, doses 2-3 IM vs IV) and the rate at
the first PEG dose after native E. coli (CCG-1961, Ko 2015); native E. coli from DFCI 00-01
(Vrooman 2010) and Erwinia from DCOG ALL-10 (Tong 2014). These observations are the fit's
data, not validation; the results are the knowledge base's ``imm.*.fit`` records
(reference ``asnflux_fit_immunogenicity``), and the tests re-solve them.
"""

from __future__ import annotations

from ..knowledge import KnowledgeBase, load_knowledge_base

__all__ = ["fit_immunogenicity"]


def fit_immunogenicity(kb: KnowledgeBase | None = None) -> dict[str, float]:
    """The fitted ``imm.*.fit`` values, keyed by record id, from their data records."""
    kb = kb or load_knowledge_base()

    def v(key: str) -> float:
        return kb.value(key, "dimensionless")

    s = v("obs.peg.silent_share_of_reactions.kloos2020")
    first = v("obs.peg.induction_allergy.silverman2010") / (1 - s)  # allergy only
    n_ind = round(v("imm.fit.doses.all11_induction"))
    induction = v("obs.peg.induction_hypersensitivity.vandersluis2023")
    early = 1 - ((1 - induction) / (1 - first)) ** (1 / (n_ind - 1))
    n_rand = round(v("imm.fit.doses.all11_randomised"))
    late = 1 - (1 - v("obs.peg.continuous_hypersensitivity.vandersluis2023")) ** (1 / n_rand)
    noncontinuous = v("obs.peg.noncontinuous_hypersensitivity.vandersluis2023")
    gap = 1 - (1 - noncontinuous) / (1 - late) ** (n_rand - 1)
    im = v("obs.peg.hsr_doses_2_3_im.burke2018") / v("obs.peg.hsr_doses_2_3_iv.burke2018")
    # CCG-1961 consolidation: the first IM PEG dose after native induction (cross), then
    # doses after 4-week intervals (gap); the share is of allergies.
    n_ccg = round(v("imm.fit.doses.ccg1961_consolidation"))
    any_ccg = v("obs.peg.allergy_after_native.ko2015") / (1 - s)
    cross = (1 - (1 - any_ccg) / (1 - im * gap) ** (n_ccg - 1)) / im
    s_native = v("imm.native_ecoli.silent_share")
    n_native = round(v("imm.fit.doses.dfci0001_native"))
    native = 1 - (1 - v("obs.native_ecoli.allergy.vrooman2010") / (1 - s_native)) ** (1 / n_native)
    erw_allergy = v("obs.erwinia.allergy_after_peg.tong2014")
    erw_silent = v("obs.erwinia.silent_after_peg.tong2014")
    n_erw = round(v("imm.fit.doses.tong2014_erwinia"))
    erwinia = 1 - (1 - erw_allergy - erw_silent) ** (1 / n_erw)
    return {
        "imm.peg.silent_share.fit": s,
        "imm.peg.first.fit": first,
        "imm.peg.early.fit": early,
        "imm.peg.late.fit": late,
        "imm.peg.gap.fit": gap,
        "imm.peg.im_factor.fit": im,
        "imm.peg.cross.fit": cross,
        "imm.native_ecoli.per_dose.fit": native,
        "imm.erwinia.per_dose.fit": erwinia,
        "imm.erwinia.silent_share.fit": erw_silent / (erw_allergy + erw_silent),
    }
