"""A pathway diagram drawn from the model object itself, so it cannot drift from the equations.

Layout: medium species on the top row, each cell type's cytosolic species below, reactions
as small squares between their reactants and products (solid arrows), and regulation as
dashed arrows from every species or state variable a rate law reads without consuming it.
Signalling state variables (rate rules) form a bottom row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..network import Model
from ..network._math import symbols
from ._plots import save_figure

__all__ = ["draw_network"]


def _layout(model: Model) -> dict[str, tuple[float, float]]:
    pos: dict[str, tuple[float, float]] = {}
    rows: dict[str, list[str]] = {}
    for s in model.species:
        rows.setdefault(s.compartment, []).append(s.id)
    order = ["medium"] + [c.id for c in model.compartments if c.id != "medium"]
    y = 0.0
    for comp in order:
        names = rows.get(comp, [])
        for i, sid in enumerate(names):
            pos[sid] = (i * 1.6, -y)
        y += 3.0
    states = [
        p.id
        for p in model.parameters
        if (p.rate_rule or p.assignment) and not p.id.startswith(("cells_", "dead_", "viability_"))
    ]
    for i, pid in enumerate(states):
        pos[pid] = ((i % 12) * 1.6, -y - (i // 12) * 0.9)
    return pos


def draw_network(model: Model, path: str | Path) -> Path:
    pos = _layout(model)
    width = max(x for x, _ in pos.values()) + 2
    height = -min(y for _, y in pos.values()) + 2
    fig, ax = plt.subplots(figsize=(max(10, width * 0.9), max(6, height * 0.9)))
    species = {s.id for s in model.species}
    params = {p.id: p for p in model.parameters}
    for sid, (x, y) in pos.items():
        is_species = sid in species
        ax.text(
            x,
            y,
            sid.replace("_cyt_", "\n"),
            ha="center",
            va="center",
            fontsize=6,
            bbox={
                "boxstyle": "round",
                "fc": "#dbe8f7" if is_species else "#f7ecd4",
                "ec": "0.4",
                "lw": 0.5,
            },
        )
    shown = [r for r in model.reactions if not r.id.startswith("loss_")]
    for k, r in enumerate(shown):
        members = [*r.reactants, *r.products]
        pts = [pos[m] for m in members if m in pos]
        if not pts:
            continue
        cx = sum(p[0] for p in pts) / len(pts) + 0.25 * ((k % 3) - 1)
        cy = sum(p[1] for p in pts) / len(pts) - 0.6
        ax.plot(cx, cy, "s", ms=3, color="0.2")
        for m in r.reactants:
            if m in pos:
                _arrow(ax, pos[m], (cx, cy), "0.45")
        for m in r.products:
            if m in pos:
                _arrow(ax, (cx, cy), pos[m], "0.45")
        for name in symbols(r.rate) - set(r.reactants):
            if name in pos:
                _arrow(ax, pos[name], (cx, cy), "#c0392b", dashed=True)
    for p in params.values():
        rule = p.rate_rule or p.assignment
        if rule and p.id in pos:
            for name in symbols(rule) - {p.id}:
                if name in pos:
                    _arrow(ax, pos[name], pos[p.id], "#8e44ad", dashed=True)
    ax.set_axis_off()
    fig.suptitle(
        f"{model.name}: {len(model.species)} species, {len(model.reactions)} "
        "reactions (solid: mass flow; dashed red: rate-law regulation; dashed purple: "
        "signalling rules; the loss of contents with dying cells is not drawn)",
        fontsize=9,
    )
    return save_figure(fig, path)


def _arrow(
    ax: Any, a: tuple[float, float], b: tuple[float, float], color: str, dashed: bool = False
) -> None:
    ax.annotate(
        "",
        xy=b,
        xytext=a,
        arrowprops={
            "arrowstyle": "-|>",
            "color": color,
            "lw": 0.4,
            "alpha": 0.6,
            "linestyle": "--" if dashed else "-",
            "shrinkA": 6,
            "shrinkB": 3,
        },
    )
