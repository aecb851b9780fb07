"""PEtab export of the cell model: the problem passes the petab library's linter, reads back
into the same tables, and simulating it from its own files reproduces the cell model."""

from __future__ import annotations

import json

import pandas as pd
import petab.v1 as petab
import pytest
from petab.v1.lint import lint_problem

from asnflux.knowledge import load_knowledge_base
from asnflux.models._cell_docs import _assumed

# petab 0.8 calls pandas in ways pandas 3 deprecates (Pandas4Warning); not ours to fix
pytestmark = [
    pytest.mark.filterwarnings("ignore:The 'float_precision' argument is deprecated"),
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame"),
]

from asnflux.models.cell import (  # noqa: E402
    CellConfig,
    build_cell_model,
    petab_predictions,
    simulate_cell,
    write_cell_petab,
)


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    return write_cell_petab(tmp_path_factory.mktemp("petab"))


def test_the_problem_passes_the_petab_linter(problem):
    assert lint_problem(petab.Problem.from_yaml(str(problem))) is False  # False: no errors


def test_the_linter_catches_a_broken_problem(problem, tmp_path):
    # ablation of the check above: an observable naming a species the model does not have
    for f in problem.parent.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    obs = pd.read_csv(tmp_path / "observables.tsv", sep="\t")
    obs.loc[0, "observableFormula"] = "no_such_species"
    obs.to_csv(tmp_path / "observables.tsv", sep="\t", index=False)
    assert lint_problem(petab.Problem.from_yaml(str(tmp_path / "problem.yaml"))) is True


def test_the_tables_read_back_with_the_knowledge_base_measurements(problem):
    kb = load_knowledge_base()
    p = petab.Problem.from_yaml(str(problem))
    m = p.measurement_df
    by_record = dict(zip(m["datasetId"], m["measurement"], strict=True))
    assert by_record["cell.143b.intracellular.glu"] == pytest.approx(14.7)
    assert by_record["cell.143b.intracellular.asn_with_asn"] == pytest.approx(10.3)
    assert set(p.condition_df.index) == {"dmem", "dmem_asn_1mM"}
    model = build_cell_model(CellConfig(cell_types=("143b",), medium="dmem"))
    estimated = set(p.parameter_df.index[p.parameter_df["estimate"] == 1])
    assert estimated == {q.id for q in _assumed(model, kb)}
    measured = p.parameter_df.loc["Km_ASNS_Gln"]  # a seed Table 1 value: fixed
    assert measured["estimate"] == 0
    bounds = p.parameter_df.loc[sorted(estimated)]
    assert (bounds["lowerBound"] < bounds["nominalValue"]).all()
    assert (bounds["nominalValue"] < bounds["upperBound"]).all()


def test_simulating_the_problem_from_its_files_reproduces_the_cell_model(problem):
    table = petab_predictions(problem).set_index(["observableId", "simulationConditionId"])
    for cond, asn in (("dmem", 0.0), ("dmem_asn_1mM", 1.0)):
        run = simulate_cell(
            CellConfig(cell_types=("143b",), medium="dmem", overrides={"Asn_med": asn}), 24.0
        )
        for met in ("Asn",) if cond != "dmem" else ("Asn", "Asp", "Gln", "Glu", "Ser", "Leu"):
            sim = table.loc[(f"intracellular_{met}", cond), "simulation"]
            assert sim == pytest.approx(run.final(f"{met}_cyt_c143b"), rel=1e-5)


def test_the_cli_writes_the_problem_and_shows_measured_beside_model(cli, tmp_path):
    r = cli("cell", "petab", str(tmp_path / "p"), "--json")
    assert r.code == 0, r.err
    payload = json.loads(r.out)
    rows = {(m["observableId"], m["simulationConditionId"]): m for m in payload["measurements"]}
    glu = rows[("intracellular_Glu", "dmem")]
    assert glu["measurement"] == pytest.approx(14.7)
    assert 0 < glu["simulation"] < glu["measurement"]  # the model holds too little Glu (#12)
    assert (tmp_path / "p" / "problem.yaml").is_file()


def test_a_file_in_place_of_the_folder_is_refused(cli, tmp_path):
    (tmp_path / "x").write_text("")
    r = cli("cell", "petab", str(tmp_path / "x"))
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert r.code == 1
    assert lines == [f"error: {tmp_path / 'x'}: not a folder (the PEtab problem is several files)"]


def test_a_file_that_is_not_a_problem_is_named(tmp_path):
    from asnflux import DataError

    bad = tmp_path / "problem.yaml"
    bad.write_text("format_version: 1\n")
    with pytest.raises(DataError, match=r"problem.yaml: not a PEtab problem written by asnflux"):
        petab_predictions(bad)
