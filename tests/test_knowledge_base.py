"""Query, comparison, citation and export of the shipped knowledge base."""

from __future__ import annotations

import csv
import io
import json

import pytest

from asnflux import DataError, NotFoundError, UnitError
from asnflux.knowledge import FLAGS, KINDS, TOPIC_FILES, Record


def test_every_topic_file_loaded(kb):
    assert set(kb.topics()) == {name.removesuffix(".yaml") for name in TOPIC_FILES}


def test_every_record_is_cited_or_an_assumption(kb):
    for r in kb.records:
        assert r.is_assumption or r.source in kb.references, r.id
        if r.is_assumption:
            assert len(r.reason) > 40, f"{r.id}: an assumption's reason must explain itself"


def test_every_numeric_record_has_canonical_unit(kb):
    for r in kb.records:
        kind = KINDS[r.quantity]
        if kind.numeric:
            assert r.unit in kind.canonical_units, r.id
            assert r.value is not None or r.low is not None


def test_query_filters(kb):
    kms = kb.query(quantity="Km", entity="ASNS")
    assert {r.substrate for r in kms} == {"L-aspartate", "L-glutamine", "ammonium"}
    assert all(r.organism == "Homo sapiens" for r in kms)
    assert kb.query(organism="fusarium", quantity="vmax")[0].id == "seed.t1.asnase_fusarium.vmax"
    assumed = kb.query(source="assumption")
    assert "cell.all_blast.volume" in {r.id for r in assumed}
    assert all(r.source == "assumption" and r.reason for r in assumed)
    assert all("approximate" in r.flags for r in kb.query(flag="approximate"))
    assert kb.query(topic="thresholds", quantity="Km") == []


def test_query_unknown_flag(kb):
    with pytest.raises(NotFoundError, match="unknown flag 'approxx'"):
        kb.query(flag="approxx")


def test_get_suggests_close_ids(kb):
    with pytest.raises(NotFoundError, match=r"did you mean seed\.t1\.asnase_fusarium\.km"):
        kb.get("seed.t1.asnase_fusarium.kn")
    with pytest.raises(KeyError):  # NotFoundError is also a KeyError
        kb.get("nothing-like-it-at-all-xyz")


def test_convert_to(kb):
    r = kb.get("pk.peg.t_half.asselin")
    assert r.convert_to("day").magnitude == pytest.approx(5.73)
    assert kb.value("lit.saa.dcog_target_trough", "IU/mL") == pytest.approx(0.1)
    assert kb.value("pk.peg.cl.kloos", "L/day/m**2") == pytest.approx(0.084)
    with pytest.raises(UnitError, match="cannot convert to mM"):
        r.convert_to("mM")
    with pytest.raises(DataError, match="qualitative and has no value"):
        kb.get("seed.t2.hela_asns_kd.asn").convert_to("mM")


def test_range_record_midpoint(kb):
    r = kb.get("lit.asnase_clinical.glutaminase_fraction")
    assert (r.low, r.high) == pytest.approx((0.02, 0.10))
    assert r.as_quantity().magnitude == pytest.approx(0.06)


def test_conflicts_compare_like_with_like(kb):
    groups = kb.conflicts()
    assert groups
    for df in groups:
        assert df["unit"].nunique() == 1
        assert df["quantity"].nunique() == 1
        assert list(df["value"]) == sorted(df["value"])
    km = next(df for df in groups if "seed.t1.asnase_fusarium.km" in set(df["id"]))
    # Fusarium's 31 mM against Wolinella's ~0.05 mM: a 620-fold spread the reader must see.
    assert km.attrs["fold_range"] == pytest.approx(31.0 / 0.05)
    vmax = next(df for df in groups if "seed.t1.asnase_bacillus.vmax" in set(df["id"]))
    assert "seed.t1.asnase_fusarium.vmax" not in set(vmax["id"])  # U/mL never beside U/mg
    for df in groups:  # a CSF value is never set beside a plasma one
        assert not {"lit.csf.asn_physiological", "seed.t2.plasma.asn"} <= set(df["id"])


def test_cite_order_and_assumptions(kb):
    refs = kb.cite(["pk.peg.t_half.asselin", "cell.all_blast.volume", "pk.erwinia.t_half.asselin"])
    assert [r.key for r in refs] == ["asselin1993"]
    assert "doi:10.1200/JCO.1993.11.9.1780" in refs[0].format()
    assert "PMID:8355045" in refs[0].format()


def test_export_csv_round_trip(kb):
    rows = list(csv.DictReader(io.StringIO(kb.export("csv"))))
    assert len(rows) == len(kb)
    fus = next(r for r in rows if r["id"] == "seed.t1.asnase_fusarium.km")
    assert fus["printed"] == "0.031 M"
    assert float(fus["value"]) == pytest.approx(31.0)


def test_export_json(kb):
    payload = json.loads(kb.export("json", kb.query(topic="thresholds")))
    assert {r["id"] for r in payload["records"]} >= {"lit.saa.csf_depletion_min"}
    assert payload["references"]["riccardi1981"]["pmid"] == "6895481"


def test_export_bibtex(kb):
    text = kb.export("bibtex")
    assert text.count("@") == len(kb.cite(kb.records))
    assert "@article{asselin1993," in text
    assert "pages = {1780--1786}" in text


def test_export_unknown_format(kb):
    with pytest.raises(NotFoundError, match="unknown export format 'xml'"):
        kb.export("xml")


def test_with_records_adds_a_lab_value(kb):
    lab = Record(
        id="lab.km",
        topic="enzyme_kinetics",
        quantity="Km",
        entity="L-asparaginase",
        source="assumption",
        reason="fitted in our lab from a Michaelis-Menten series, file km.csv (example)",
        value=0.012,
        unit="mM",
    )
    kb2 = kb.with_records([lab])
    assert len(kb2) == len(kb) + 1
    assert "lab.km" not in kb
    with pytest.raises(DataError, match=r"duplicate record ids: lab\.km"):
        kb2.with_records([lab])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"quantity": "Kmm"}, "unknown quantity kind"),
        ({"flags": ("bogus",)}, "unknown flag 'bogus'"),
        ({"source": "assumption"}, "an assumption needs a reason"),
        ({"value": None}, "needs a value or a range"),
        ({"value": float("inf")}, "value inf is not finite"),
    ],
)
def test_record_invariants(kwargs, match):
    base = {
        "id": "x",
        "topic": "t",
        "quantity": "Km",
        "entity": "E",
        "source": "s",
        "value": 1.0,
        "unit": "mM",
    }
    base.update(kwargs)
    with pytest.raises(DataError, match=match):
        Record(**base)


def test_flag_vocabulary_documented():
    assert all(len(text) > 20 for text in FLAGS.values())
