"""Figure of a global sensitivity analysis: one bar per factor, most influential on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ._plots import save_figure

__all__ = ["plot_sensitivity"]


def plot_sensitivity(result: Any, path: str | Path, top: int = 20) -> Path:
    """Sobol': first-order (S1) and total (ST) indices with their 95 % intervals; Morris:
    mu* with its interval and sigma. The ``top`` most influential factors are drawn."""
    t = result.table
    key = "ST" if result.method == "sobol" else "mu_star"
    t = t.sort_values(key, ascending=True).tail(top)
    y = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(t) + 1.6))
    if result.method == "sobol":
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", color="#2c7fb8")
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)",
                color="#7fcdbb")  # fmt: skip
        ax.set_xlabel("Sobol' index (share of the output's variance), 95 % bootstrap interval")
    else:
        ax.barh(y + 0.2, t["mu_star"], 0.4, xerr=t["mu_star_conf"], label="mu*", color="#2c7fb8")
        ax.barh(y - 0.2, t["sigma"], 0.4, label="sigma", color="#fdae6b")
        ax.set_xlabel("elementary effect over each factor's whole range (output units)")
    ax.set_yticks(y, list(t["factor"]), fontsize=8)
    ax.axvline(0, color="0.5", lw=0.5)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(
        f"{result.output}: {result.method} ({result.evaluations:,} runs, seed {result.seed})",
        fontsize=9,
    )
    fig.tight_layout()
    return save_figure(fig, path)
