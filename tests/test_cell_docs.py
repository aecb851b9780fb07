"""docs/cell-model*.md are generated from the model object and must be current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asnflux.models._cell_docs import cell_model_markdown, sensitivity_markdown

DOCS = Path(__file__).parents[1] / "docs"


def test_cell_model_page_is_current():
    assert (DOCS / "cell-model.md").read_text(encoding="utf-8") == cell_model_markdown(), (
        "docs/cell-model.md is stale: run `asnflux cell docs docs/`"
    )


def _table(text: str) -> dict[str, tuple[float, float]]:
    rows = re.findall(r"^\| `(\w+)` \| ([+-][\d.]+|nan) \| ([+-][\d.]+|nan) \|", text, re.M)
    return {pid: (float(a), float(b)) for pid, a, b in rows}


def test_sensitivity_page_is_current():
    stored = _table((DOCS / "cell-model-sensitivity.md").read_text(encoding="utf-8"))
    fresh = _table(sensitivity_markdown())
    assert stored.keys() == fresh.keys()
    for pid, values in fresh.items():
        assert stored[pid] == pytest.approx(values, abs=0.02), pid


def test_every_species_reaction_and_parameter_is_documented():
    from asnflux.models.cell import CellConfig, build_cell_model

    page = (DOCS / "cell-model.md").read_text(encoding="utf-8")
    model = build_cell_model(CellConfig(asparaginase="0.1 IU/mL"))
    for item in [*model.species, *model.reactions, *model.parameters]:
        assert f"`{item.id}`" in page, item.id


def test_sobol_ranking_is_for_the_current_model_and_rendered_as_stored():
    import json

    from asnflux.analysis import CELL_OUTPUTS, cell_factors
    from asnflux.analysis._cell import sobol_markdown

    data = json.loads((DOCS / "data" / "cell-sobol.json").read_text(encoding="utf-8"))
    assert set(data["outputs"]) == set(CELL_OUTPUTS)
    for output, result in data["outputs"].items():
        now = {f.name: (f.low, f.high, f.scale) for f in cell_factors(output)}
        stored = {f["name"]: (f["low"], f["high"], f["scale"]) for f in result["factors"]}
        assert stored.keys() == now.keys(), (
            f"{output}: the assumed constants changed: `asnflux cell docs docs/ --sobol 512`"
        )
        for name, (low, high, scale) in now.items():
            assert stored[name] == (pytest.approx(low), pytest.approx(high), scale), name
    page = (DOCS / "cell-model-sensitivity.md").read_text(encoding="utf-8")
    assert page.endswith(sobol_markdown(data))
