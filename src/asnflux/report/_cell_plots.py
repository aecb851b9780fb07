"""Figures of cell-model runs and scenarios (matplotlib, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ._plots import save_figure

__all__ = ["plot_cell_run", "plot_scenario"]

_PANELS = (
    ("viable cells (×10⁵ per mL)", "cells", 1e-5),
    ("intracellular Asn (mM)", "Asn_cyt", 1.0),
    ("ASNS protein (× basal)", "ASNS", 1.0),
    ("mTORC1 activity", "mTORC1", 1.0),
)


def _axes(title: str) -> tuple[Any, Any]:
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    fig.suptitle(title, fontsize=10)
    return fig, axes.ravel()


def _draw(axes: Any, run: Any, label: str) -> None:
    t = run.table["time_h"]
    axes[0].plot(t, 1e3 * run.table["Asn_med"], label=f"{label} Asn")
    axes[0].plot(t, 1e3 * run.table["Gln_med"], "--", label=f"{label} Gln")
    axes[0].set_ylabel("medium (µM)")
    axes[0].set_yscale("symlog", linthresh=1.0)
    for ax, (ylabel, prefix, scale) in zip(axes[1:5], _PANELS, strict=False):
        for ct, k in zip(run.config.cell_types, run.cell_keys, strict=True):
            col = f"{prefix}_{k}"
            ax.plot(t, scale * run.table[col], label=f"{label} {ct}")
        ax.set_ylabel(ylabel)
    for ct, k in zip(run.config.cell_types, run.cell_keys, strict=True):
        axes[5].plot(t, run.table[f"viability_{k}"], label=f"{label} {ct}")
    axes[5].set_ylabel("viability")
    axes[5].set_ylim(0, 1.05)
    for ax in axes:
        ax.set_xlabel("time (h)")


def plot_cell_run(run: Any, path: str | Path) -> Path:
    fig, axes = _axes(run.model.name)
    _draw(axes, run, "")
    for ax in axes:
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_scenario(result: Any, path: str | Path) -> Path:
    fig, axes = _axes(f"{result.scenario.title} — {'passes' if result.passed else 'FAILS'}")
    for label, run in result.runs.items():
        _draw(axes, run, label)
    for ax in axes:
        ax.legend(fontsize=5)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_asparaginase_comparison(runs: dict[str, Any], path: str | Path) -> Path:
    """Viable cells, viability, intracellular Asn and ASNS for several single-type runs."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
    for label, run in runs.items():
        k = run.cell_keys[0]
        t = run.table["time_h"]
        axes[0].plot(t, run.table[f"cells_{k}"] / run.table[f"cells_{k}"].iloc[0], label=label)
        axes[1].plot(t, run.table[f"viability_{k}"], label=label)
        axes[2].plot(t, 1e3 * run.table[f"Asn_cyt_{k}"], label=label)
        axes[3].plot(t, run.table[f"ASNS_{k}"], label=label)
    for ax, ylabel in zip(
        axes,
        ("viable cells (fold)", "viability", "intracellular Asn (µM)", "ASNS protein (× basal)"),
        strict=True,
    ):
        ax.set_xlabel("time (h)")
        ax.set_ylabel(ylabel)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle("0.1 IU/mL E. coli asparaginase in RPMI-1640", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
