"""Figures, written atomically as PNG or SVG (matplotlib, non-interactive backend)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .._errors import DataError
from .._io import atomic_write_bytes
from ..fitting import FitResult

__all__ = ["plot_fit", "save_figure"]

_FORMATS = {".png": "png", ".svg": "svg"}


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Save ``fig`` to ``path`` (format from the suffix: .png or .svg) atomically."""
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise DataError(f"{p}: a figure file must end in .png or .svg")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(p, buf.getvalue())


def plot_fit(result: FitResult, path: str | Path, *, xlabel: str = "x", ylabel: str = "y") -> Path:
    """Data, fitted curve (per level of x2 where the model has one) and residuals."""
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(6, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    x, y = result.x, result.y
    levels = [None] if result.x2 is None else sorted(set(result.x2.tolist()))
    grid = np.linspace(min(0.0, float(x.min())), float(x.max()) * 1.05, 300)
    for level in levels:
        sel = np.ones_like(x, bool) if level is None else result.x2 == level
        label = None if level is None else f"x2 = {level:g}"
        pts = ax.plot(x[sel], y[sel], "o", label=label)
        x2g = None if level is None else np.full_like(grid, level)
        ax.plot(grid, result.predict(grid, x2g), "-", color=pts[0].get_color())
    ax.set_ylabel(ylabel)
    est = ", ".join(f"{k} = {v.value:.4g} ± {v.stderr:.2g}" for k, v in result.parameters.items())
    ax.set_title(f"{result.model.name}: {est}", fontsize=8)
    if levels != [None]:
        ax.legend(fontsize=7)
    axr.axhline(0, color="0.5", lw=0.8)
    axr.plot(x, result.residuals, "o", ms=4)
    axr.set_xlabel(xlabel)
    axr.set_ylabel("residual")
    return save_figure(fig, path)
