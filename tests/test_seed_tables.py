"""The seed's Tables 1 and 2 are in the knowledge base row for row, printed cells verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def seed_rows(table: str) -> list[list[str]]:
    rows = []
    for line in (DATA / "seed_tables.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        if cells[0] == table:
            rows.append(cells)
    return rows


# The seed's common names, curated to binomials; every other organism is kept as printed.
CURATED_ORGANISM = {
    "Human": "Homo sapiens",
    "Guinea Pig (gpASNase3)": "Cavia porcellus (gpASNase3)",
}

T1 = seed_rows("T1")
T2 = seed_rows("T2")


def test_seed_tables_complete(kb):
    assert len(T1) == 8
    assert len(T2) == 4
    seed = kb.query(source="benchchem2025")
    # One Km per Table 1 row, one Vmax per non-dash Vmax cell, one record per Table 2 row.
    assert len(seed) == 8 + 3 + 4
    assert {r.locator for r in seed} == {f"Table 1, row {i}" for i in range(1, 9)} | {
        f"Table 2, row {i}" for i in range(1, 5)
    }


@pytest.mark.parametrize("row", T1, ids=lambda r: f"T1-row{r[1]}")
def test_table1_row(kb, row):
    _, n, _entity, organism, substrate, km, vmax = row
    recs = [r for r in kb.query(source="benchchem2025") if r.locator == f"Table 1, row {n}"]
    km_rec = next(r for r in recs if r.quantity == "Km")
    assert km_rec.printed == km
    assert km_rec.printed_unit == "mM"  # the column header
    assert km_rec.substrate.lower() == substrate.lower()
    assert km_rec.organism == CURATED_ORGANISM.get(organism, organism)
    vmax_recs = [r for r in recs if r.quantity == "Vmax"]
    if vmax == "-":
        assert vmax_recs == []
    else:
        assert [r.printed for r in vmax_recs] == [vmax]
        assert "incomparable_unit" in vmax_recs[0].flags


@pytest.mark.parametrize("row", T2, ids=lambda r: f"T2-row{r[1]}")
def test_table2_row(kb, row):
    _, n, _condition, value, remark = row
    (rec,) = [r for r in kb.query(source="benchchem2025") if r.locator == f"Table 2, row {n}"]
    assert rec.printed == value
    assert remark.lower() in rec.notes.lower() or rec.conditions_dict.get("note") == remark.lower()


def test_normalised_values(kb):
    # Normalised beside printed: mM for Km, IU/mg for a per-mass Vmax.
    assert kb.get("seed.t1.asns_human.km_asp").value == pytest.approx(0.53)
    assert kb.get("seed.t1.asns_human.km_asp").uncertainty.value == pytest.approx(0.01)
    assert kb.get("seed.t1.asnase_fusarium.km").value == pytest.approx(31.0)
    assert kb.get("seed.t1.asnase_bacillus.vmax").value == pytest.approx(1537.0)
    assert kb.get("seed.t1.asnase_bacillus.vmax").unit == "IU/mg"
    assert kb.get("seed.t1.asnase_fusarium.vmax").unit == "IU/mL"
    assert kb.get("seed.t2.plasma.asn").convert_to("µM").magnitude == pytest.approx(50.0)


def test_oddities_flagged(kb):
    fus = kb.get("seed.t1.asnase_fusarium.km")
    assert {"implausible_magnitude", "unit_differs_from_header"} <= set(fus.flags)
    assert kb.get("seed.t1.asnase_wolinella.km").approximate
    assert kb.get("seed.t2.plasma.asn").approximate
    assert "mislabelled_quantity" in kb.get("seed.t2.msc_vs_all.asn").flags
    for rid in ("seed.t2.hela_asns_kd.asn", "seed.t2.143b.asn"):
        assert kb.get(rid).quantity == "qualitative"
        assert kb.get(rid).value is None
    assert all("no_primary_reference" in r.flags for r in kb.query(source="benchchem2025"))
