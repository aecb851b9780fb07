"""Growth in complete medium against each cell type's cited doubling time (issue #12).

Each cell type is given a maximal growth rate of ln 2 / its cited doubling time, and grows
at mu = mu_max × charging × translation × nucleotide supply, so in complete medium (no
drug) it grows more slowly than the doubling time it was given. The model misses today,
each type by the factor in its marker (measured 2026-12-08): strict xfails, which turn red
when the growth is calibrated. What stands in the way (measured the same day): dividing
mu_max by the product at the pre-culture steady state (a fixed point, since the product
falls as the growth demand rises) meets the doubling times of five types, but needs
HeLa's mu_max at 0.054 /h, which draws its Asp from 0.75 mM below 0.4 mM and its
nucleotide supply below 0.77; and the high-ASNS
solid type cannot double in 20 h at any mu_max: its ASNS drains the Asp that nucleotide
synthesis needs, and its growth peaks at 0.022 /h (31.5 h) at mu_max 0.07 /h. The 143B
calibration of Asp synthesis (measured 0.43 mM, model 0.19 mM) comes first.
"""

from __future__ import annotations

import math

import pytest

from asnflux.knowledge import load_knowledge_base
from asnflux.models.cell import CELL_TYPES, CellConfig, simulate_cell

#: The complete medium each type's doubling time is usually measured in: RPMI-1640 for
#: leukaemic blasts, DMEM for the adherent lines (143B's record names DMEM).
GROWTH_MEDIUM = {
    "all-blast": "rpmi-1640",
    "all-blast-resistant": "rpmi-1640",
    "msc": "dmem",
    "hela": "dmem",
    "143b": "dmem",
    "solid-asns-high": "dmem",
}
#: Model doubling time over cited, in the medium above (first 24 h), measured 2026-12-08.
SLOWER = {
    "all-blast": 1.14,
    "all-blast-resistant": 1.14,
    "msc": 1.16,
    "hela": 1.30,
    "143b": 1.29,
    "solid-asns-high": 2.06,
}
#: How close the first day's growth must be to the cited doubling time: the growth rate the
#: model was given is the one it should show in complete medium; 10 % leaves room for the
#: first day's adaptation to fresh medium.
TOLERANCE = 0.10


def _doubling_h(cell_type: str, overrides: dict[str, float] | None = None) -> float:
    cfg = CellConfig(
        cell_types=(cell_type,), medium=GROWTH_MEDIUM[cell_type], overrides=overrides or {}
    )
    run = simulate_cell(cfg, hours=24.0)
    k = CELL_TYPES[cell_type].key
    fold = run.final(f"cells_{k}") / run.at(f"cells_{k}", 0.0)
    return 24.0 * math.log(2) / math.log(fold)


def _cited_h(cell_type: str) -> float:
    return load_knowledge_base().value(CELL_TYPES[cell_type].doubling, "h")


@pytest.mark.parametrize(
    "cell_type",
    [
        pytest.param(
            t,
            marks=pytest.mark.xfail(
                strict=True,
                raises=AssertionError,
                reason=f"issue #12: {SLOWER[t]:.2f}x the cited doubling time in "
                f"{GROWTH_MEDIUM[t]} (mu_max x saturation factors < 1)",
            ),
        )
        for t in sorted(CELL_TYPES)
    ],
)
def test_complete_medium_growth_matches_the_cited_doubling_time(cell_type):
    ratio = _doubling_h(cell_type) / _cited_h(cell_type)
    assert abs(ratio - 1.0) <= TOLERANCE, ratio


def test_the_measured_ratios_are_todays_and_the_measurement_reads_growth():
    """The ratios in the markers are what the model gives (so a change shows), and the
    measurement follows the growth rate (ablation: twice mu_max, about half the doubling
    time; not exactly, as the faster growth draws its supplies lower)."""
    for t in sorted(CELL_TYPES):
        assert _doubling_h(t) / _cited_h(t) == pytest.approx(SLOWER[t], abs=0.01), t
    k = CELL_TYPES["hela"].key
    mu_max = math.log(2) / _cited_h("hela")
    faster = _doubling_h("hela", {f"mu_max_{k}": 2 * mu_max})
    assert 0.5 < faster / _doubling_h("hela") < 0.7
