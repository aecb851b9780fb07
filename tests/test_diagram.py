"""The pathway diagram: generated from the model, laid out by Graphviz dot so that no two
nodes overlap, and refused clearly where Graphviz is missing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from asnflux import AsnfluxError, DataError
from asnflux.models.cell import CellConfig, build_cell_model
from asnflux.report import _diagram
from asnflux.report._diagram import draw_network, to_dot
from web_support import need


def _boxes(plain: str) -> dict[str, tuple[float, float, float, float]]:
    """Node boxes (x, y, width, height, in inches) from Graphviz's ``-Tplain`` output."""
    out = {}
    for line in plain.splitlines():
        f = line.split()
        if f and f[0] == "node":
            out[f[1].strip('"')] = (float(f[2]), float(f[3]), float(f[4]), float(f[5]))
    return out


def overlapping(boxes: dict[str, tuple[float, float, float, float]]) -> list[tuple[str, str]]:
    names = sorted(boxes)
    pairs = []
    for i, a in enumerate(names):
        ax, ay, aw, ah = boxes[a]
        for b in names[i + 1 :]:
            bx, by, bw, bh = boxes[b]
            if abs(ax - bx) < (aw + bw) / 2 - 1e-6 and abs(ay - by) < (ah + bh) / 2 - 1e-6:
                pairs.append((a, b))
    return pairs


@pytest.mark.parametrize("types", [("all-blast",), ("all-blast", "msc")])
def test_every_species_and_reaction_is_a_node_and_none_overlap(types):
    need(shutil.which("dot") is not None, "Graphviz dot")
    model = build_cell_model(CellConfig(cell_types=types))
    dot = to_dot(model)
    plain = subprocess.run(
        ["dot", "-Tplain"], input=dot.encode(), capture_output=True, check=True
    ).stdout.decode()
    boxes = _boxes(plain)
    wanted = {s.id for s in model.species if not s.boundary}
    wanted |= {r.id for r in model.reactions if not r.id.startswith("loss_")}
    wanted |= {f"ASNS_mRNA_{k}" for k in ("all_blast",)}
    assert wanted <= set(boxes)
    assert overlapping(boxes) == []


def test_the_overlap_check_sees_overlaps():
    # its ablation: every node at one place (what a layout with no engine gives)
    boxes = dict.fromkeys(("Asn_med", "R_ASNS_hela", "GCN2_hela"), (1.0, 1.0, 0.5, 0.3))
    assert len(overlapping(boxes)) == 3


def test_modifiers_and_signalling_rules_are_edges():
    dot = to_dot(build_cell_model(CellConfig(cell_types=("hela",))))
    assert '"ASNS_hela" -> "R_ASNS_hela" [style=dashed' in dot  # ASNS catalyses its reaction
    assert '"eIF2P_hela" -> "ATF4_hela" [style=dashed' in dot  # eIF2alpha-P drives ATF4
    assert '"Asn_cyt_hela" -> "R_ASNS_hela"' not in dot  # a product, not an input
    assert "loss_" not in dot


def test_svg_and_png_are_rendered(tmp_path):
    need(shutil.which("dot") is not None, "Graphviz dot")
    model = build_cell_model(CellConfig(cell_types=("hela",)))
    svg = draw_network(model, tmp_path / "d.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "R_ASNS" in svg
    assert draw_network(model, tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_without_graphviz_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(_diagram.shutil, "which", lambda name: None)
    model = build_cell_model(CellConfig(cell_types=("hela",)))
    with pytest.raises(AsnfluxError, match=r"Graphviz is not installed.*apt install graphviz"):
        draw_network(model, tmp_path / "d.svg")
    assert not (tmp_path / "d.svg").exists()
    assert draw_network(model, tmp_path / "d.gv").read_text().startswith("digraph")
    with pytest.raises(DataError, match=r"must end in \.svg, \.png, \.pdf, \.gv or \.dot"):
        draw_network(model, tmp_path / "d.txt")
