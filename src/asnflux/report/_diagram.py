"""A pathway diagram generated from the model object itself, laid out by Graphviz.

:func:`to_dot` writes the model as a Graphviz DOT graph: the medium and each cell type's
cytosol are boxes (clusters) holding their species (ellipses) and the reactions inside
them (small squares); transport and exchange reactions sit between the boxes; each cell
type's signalling states (GCN2, PERK, eIF2alpha-P, ATF4, ASNS mRNA and protein, mTORC1 and
its arms, S6K1-P, 4E-BP1-P, growth and death rates) form a box of their own. Solid arrows
carry mass; dashed red arrows go from what a rate law reads without consuming it (a
modifier: ASNS protein for its reaction, growth for protein synthesis); dashed purple
arrows from what a signalling rule reads. :func:`draw_network` lays the graph out with
Graphviz's ``dot`` (the layered layout for directed graphs) and writes SVG, PNG or PDF;
``.gv``/``.dot`` writes the DOT text itself, which needs no Graphviz on this machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .._errors import AsnfluxError, DataError
from .._io import atomic_write_bytes, atomic_write_text, check_writable
from ..network import Model
from ..network._math import symbols

__all__ = ["draw_network", "to_dot"]

_RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_TEXT = (".gv", ".dot")
# States that are bookkeeping rather than signalling: drawn nowhere.
_HIDDEN_STATES = ("cells_", "dead_", "viability_")
_SPECIES_FILL = "#dbe8f7"
_STATE_FILL = "#f7ecd4"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _short(identifier: str, suffixes: list[str]) -> str:
    for suffix in suffixes:
        if identifier.endswith(suffix):
            return identifier[: -len(suffix)]
    return identifier


def to_dot(model: Model) -> str:
    """The model as a DOT digraph (see the module doc for what is drawn)."""
    species = {s.id: s for s in model.species}
    shown_species = {s.id for s in model.species if not s.boundary}
    states = {
        p.id: p
        for p in model.parameters
        if (p.rate_rule or p.assignment) and not p.id.startswith(_HIDDEN_STATES)
    }
    cytosols = [c.id for c in model.compartments if c.id != "medium"]
    suffixes = [f"_{c.removeprefix('cyt_')}" for c in cytosols]
    lines = [
        "digraph asnflux {",
        f"  graph [rankdir=LR, fontname=Helvetica, fontsize=11, nodesep=0.18, ranksep=0.45, "
        f"splines=true, concentrate=true, label={_q(_title(model))}, labelloc=t];",
        "  node [fontname=Helvetica, fontsize=9];",
        "  edge [arrowsize=0.5, penwidth=0.7];",
    ]
    reactions = [r for r in model.reactions if not r.id.startswith("loss_")]
    by_compartment: dict[str, list[str]] = {}
    for r in reactions:
        places = {species[m].compartment for m in (*r.reactants, *r.products) if m in species}
        home = places.pop() if len(places) == 1 else ""
        by_compartment.setdefault(home, []).append(r.id)
    labels = {c.id: c.name for c in model.compartments}
    for comp in ["medium", *cytosols]:
        lines.append(f"  subgraph {_q('cluster_' + comp)} {{")
        lines.append(f"    label={_q(labels.get(comp, comp))}; style=rounded; color=gray50;")
        for s in model.species:
            if s.compartment == comp and s.id in shown_species:
                label = s.id.split("_")[0]
                lines.append(
                    f"    {_q(s.id)} [label={_q(label)}, tooltip={_q(s.name)}, shape=ellipse, "
                    f"style=filled, fillcolor={_q(_SPECIES_FILL)}];"
                )
        for rid in by_compartment.get(comp, []):
            lines.append(f"    {_reaction_node(model, rid, suffixes)}")
        lines.append("  }")
    for rid in by_compartment.get("", []):  # transport and exchange: between the boxes
        lines.append(f"  {_reaction_node(model, rid, suffixes)}")
    for cyt, suffix in zip(cytosols, suffixes, strict=True):
        mine = [pid for pid in states if pid.endswith(suffix)]
        if not mine:
            continue
        lines.append(f"  subgraph {_q('cluster_signalling' + suffix)} {{")
        lines.append(
            f"    label={_q('signalling, ' + labels.get(cyt, cyt))}; style=rounded; color=gray70;"
        )
        for pid in mine:
            lines.append(
                f"    {_q(pid)} [label={_q(_short(pid, suffixes))}, tooltip={_q(states[pid].name)},"
                f" shape=box, style={_q('rounded,filled')}, fillcolor={_q(_STATE_FILL)}];"
            )
        lines.append("  }")
    for pid in states:
        if pid.startswith(_HIDDEN_STATES) or any(pid.endswith(s) for s in suffixes):
            continue
        lines.append(  # a model-wide state (the enzyme activity in the medium)
            f"  {_q(pid)} [label={_q(pid)}, tooltip={_q(states[pid].name)}, shape=box, "
            f"style={_q('rounded,filled')}, fillcolor={_q(_STATE_FILL)}];"
        )
    for r in reactions:
        for m in r.reactants:
            if m in shown_species:
                lines.append(f"  {_q(m)} -> {_q(r.id)} [color=gray35];")
        for m in r.products:
            if m in shown_species:
                lines.append(f"  {_q(r.id)} -> {_q(m)} [color=gray35];")
        for name in sorted(symbols(r.rate) - set(r.reactants)):
            if name in shown_species or name in states:
                lines.append(f"  {_q(name)} -> {_q(r.id)} [style=dashed, color={_q('#c0392b')}, ];")
    for pid, p in states.items():
        for name in sorted(symbols(p.rate_rule or p.assignment or "") - {pid}):
            if name in shown_species or name in states:
                lines.append(f"  {_q(name)} -> {_q(pid)} [style=dashed, color={_q('#8e44ad')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _reaction_node(model: Model, rid: str, suffixes: list[str]) -> str:
    r = next(x for x in model.reactions if x.id == rid)
    return (
        f"{_q(rid)} [label={_q(_short(rid, suffixes))}, tooltip={_q(r.name)}, shape=box, "
        "width=0.1, height=0.1, fontsize=7, style=filled, fillcolor=gray90];"
    )


def _title(model: Model) -> str:
    return (
        f"{model.name}: {len(model.species)} species, {len(model.reactions)} reactions. "
        "Solid: mass flow; dashed red: a rate law reads it; dashed purple: a signalling rule "
        "reads it. Contents lost with dying cells are not drawn."
    )


def draw_network(model: Model, path: str | Path) -> Path:
    """Write the pathway diagram to ``path``: ``.svg``, ``.png`` or ``.pdf`` laid out by
    Graphviz ``dot``, or ``.gv``/``.dot`` for the DOT text.

    Raises
    ------
    DataError
        For another suffix.
    AsnfluxError
        When Graphviz's ``dot`` program is not installed (for the rendered formats), or
        fails.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in _RENDERED and suffix not in _TEXT:
        raise DataError(f"{p}: a diagram file must end in .svg, .png, .pdf, .gv or .dot")
    check_writable(p)
    dot = to_dot(model)
    if suffix in _TEXT:
        return atomic_write_text(p, dot)
    return atomic_write_bytes(p, render_dot(dot, _RENDERED[suffix]))


def render_dot(dot: str, fmt: str) -> bytes:
    """Lay out DOT text with Graphviz ``dot`` and return the ``fmt`` output."""
    exe = shutil.which("dot")
    if exe is None:
        raise AsnfluxError(
            "Graphviz is not installed: the diagram is laid out by its 'dot' program "
            "(Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz); "
            "write a .gv file to get the DOT text without it"
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        raise AsnfluxError("Graphviz dot took longer than 120 s to lay out the diagram") from None
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise AsnfluxError(f"Graphviz dot failed (exit {done.returncode}): {first}")
    return done.stdout
