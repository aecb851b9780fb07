"""Every branch of the knowledge-base loader's validation, each naming file, id and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asnflux import RecordError
from asnflux.knowledge import KnowledgeBase

REFS = """\
paper1:
  authors: Doe J
  title: A paper
  year: 2020
  doi: 10.1000/x
"""

GOOD = """\
- id: ok.km
  quantity: Km
  entity: ASNS
  value: 0.5 mM
  source: paper1
"""


def make_kb(tmp_path: Path, records: str, refs: str = REFS, topic: str = "t") -> KnowledgeBase:
    (tmp_path / "references.yaml").write_text(refs, encoding="utf-8")
    body = f"topic: {topic}\nrecords:\n" + textwrap.indent(textwrap.dedent(records), "  ")
    (tmp_path / "topic.yaml").write_text(body, encoding="utf-8")
    return KnowledgeBase.from_directory(tmp_path)


def test_good_file_loads(tmp_path):
    kb = make_kb(tmp_path, GOOD)
    assert kb.get("ok.km").value == 0.5
    assert kb.get("ok.km").unit == "mM"


def record(**fields: str) -> str:
    base = {"id": "r1", "quantity": "Km", "entity": "ASNS", "value": "0.5 mM", "source": "paper1"}
    base.update(fields)
    lines = [f"{k}: {v}" for k, v in base.items() if v != "<omit>"]
    return "- " + "\n  ".join(lines) + "\n"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"value": "0.5 mMol"}, r"record 'r1', field 'value': .*unknown unit 'mMol'"),
        ({"value": "0.5 U/mg"}, r"field 'value': unit .* does not fit quantity kind Km"),
        ({"value": "-0.5 mM"}, r"field 'value': value -0.5 is negative; a Km cannot be"),
        ({"value": "0.5"}, r"field 'value': 0.5 has no unit"),
        ({"source": "<omit>"}, r"field 'source': missing"),
        ({"source": "nobody2000"}, r"field 'source': unknown reference key 'nobody2000'"),
        ({"source": "assumption"}, r"field 'reason': an assumption must say why"),
        ({"quantity": "Kmm"}, r"field 'quantity': unknown kind 'Kmm'"),
        ({"quantity": "<omit>"}, r"field 'quantity': missing"),
        ({"entity": "<omit>"}, r"field 'entity': missing"),
        ({"flags": "[approxx]"}, r"field 'flags': unknown flag 'approxx'"),
        ({"colour": "red"}, r"field 'colour': unknown field"),
        ({"quantity": "fraction", "value": "1.5"}, r"above 1; a fraction is a fraction"),
        ({"quantity": "qualitative", "value": "3 mM"}, r"holds text in 'printed'"),
        ({"value": "<omit>"}, r"field 'value': missing"),
        ({"conditions": "hot"}, r"field 'conditions': expected a mapping"),
        ({"value": "0.5 ± 0.1 mM", "uncertainty": "{sd: 0.1}"}, r"'uncertainty': given twice"),
        ({"uncertainty": "{sem: 0.1}"}, r"'uncertainty': kind 'sem' is not one of"),
        ({"uncertainty": "{sd: 2 h}"}, r"'uncertainty': .*another dimension"),
        ({"range": "[1, 2, 3]", "value": "<omit>"}, r"field 'range': a range is \[low, high\]"),
    ],
)
def test_record_errors(tmp_path, fields, match):
    with pytest.raises(RecordError, match=r"topic\.yaml: .*" + match) as info:
        make_kb(tmp_path, record(**fields))
    assert info.value.file.endswith("topic.yaml")


def test_duplicate_id_in_one_file(tmp_path):
    with pytest.raises(RecordError, match=r"record 'ok.km', field 'id': duplicate id"):
        make_kb(tmp_path, GOOD + GOOD)


def test_duplicate_id_across_files(tmp_path):
    make_kb(tmp_path, GOOD)
    (tmp_path / "other.yaml").write_text("topic: u\nrecords:\n" + textwrap.indent(GOOD, "  "))
    with pytest.raises(RecordError, match=r"duplicate id \(already defined in .*other.yaml\)"):
        KnowledgeBase.from_directory(tmp_path)


def test_missing_id(tmp_path):
    with pytest.raises(RecordError, match=r"record '#1', field 'id': missing"):
        make_kb(tmp_path, "- quantity: Km\n  entity: X\n  value: 1 mM\n  source: paper1\n")


def test_record_not_mapping(tmp_path):
    with pytest.raises(RecordError, match=r"record '#1': expected a mapping"):
        make_kb(tmp_path, "- just text\n")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("records: []\n", r"field 'topic': missing"),
        ("topic: t\nrecords: 3\n", r"field 'records': expected a list"),
        ("- a\n- b\n", r"expected a mapping with 'topic' and 'records'"),
        ("topic: [unclosed\n", r"not valid YAML at line \d+, column \d+"),
    ],
)
def test_file_level_errors(tmp_path, body, match):
    (tmp_path / "references.yaml").write_text(REFS)
    (tmp_path / "bad.yaml").write_text(body)
    with pytest.raises(RecordError, match=r"bad\.yaml.*" + match):
        KnowledgeBase.from_directory(tmp_path)


@pytest.mark.parametrize(
    ("refs", "match"),
    [
        ("p:\n  title: T\n  colour: red\n  doi: x\n", r"record 'p', field 'colour': unknown field"),
        ("p:\n  title: T\n", r"record 'p': reference 'p': give a DOI, a PMID or a URL"),
        ("- p\n", r"expected a mapping of citation keys"),
        ("p: 3\n", r"record 'p': expected a mapping of fields"),
    ],
)
def test_reference_errors(tmp_path, refs, match):
    with pytest.raises(RecordError, match=r"references\.yaml.*" + match):
        make_kb(tmp_path, GOOD, refs=refs)


def test_missing_file(tmp_path):
    with pytest.raises(RecordError, match=r"references\.yaml: cannot read file"):
        KnowledgeBase.from_directory(tmp_path)


def test_printed_value_uses_header_unit_and_flags_mismatch(tmp_path):
    kb = make_kb(
        tmp_path,
        record(value="<omit>", printed='"0.031 M"', printed_unit="mM").replace("id: r1", "id: r1"),
    )
    r = kb.get("r1")
    assert r.value == pytest.approx(31.0)
    assert "unit_differs_from_header" in r.flags


def test_computed_flags(tmp_path):
    kb = make_kb(tmp_path, record(value='"~0.05 mM"') + record(id="r2", value='"0.5 ± 0.1 mM"'))
    assert "approximate" in kb.get("r1").flags
    assert kb.get("r1").approximate
    assert "uncertainty_kind_unstated" in kb.get("r2").flags


def test_uncertainty_converted_with_value(tmp_path):
    kb = make_kb(tmp_path, record(value='"500 µM"', uncertainty='{sd: "20 µM"}'))
    r = kb.get("r1")
    assert r.value == pytest.approx(0.5)
    assert r.uncertainty is not None
    assert r.uncertainty.value == pytest.approx(0.02)


def test_an_uncertainty_given_as_a_range_is_a_clear_error(tmp_path):
    # a CI written as "low-high" used to crash the loader with an AttributeError
    with pytest.raises(RecordError, match="is a range; give one amount"):
        make_kb(tmp_path, record(value='"500 µM"', uncertainty='{ci95: "400-600 µM"}'))
