"""Figures for the therapy simulator: a patient's course, cohort bands, TDM forecast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from ._plots import save_figure

__all__ = ["plot_cohort", "plot_patient", "plot_tdm", "plot_vpc", "vpc_figure"]


def plot_patient(table: Any, regimen: Any, threshold: float, path: str | Path) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(table["day"], table["saa_IU_per_mL"])
    axes[0].axhline(threshold, ls="--", color="0.5", lw=0.8)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("SAA (IU/mL)")
    axes[1].plot(table["day"], table["asn_plasma_uM"], label="plasma Asn")
    axes[1].plot(table["day"], table["asn_csf_uM"], label="CSF Asn")
    axes[1].plot(table["day"], table["asn_marrow_uM"], label="marrow Asn")
    axes[1].plot(table["day"], table["gln_plasma_uM"] / 10, label="plasma Gln / 10")
    axes[1].set_yscale("symlog", linthresh=0.1)
    axes[1].set_ylabel("µM")
    axes[1].legend(fontsize=7)
    axes[2].plot(table["day"], table["blasts_sensitive"], label="sensitive")
    axes[2].plot(table["day"], table["blasts_resistant"], label="resistant")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("blasts")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("day")
    names = ", ".join(dict.fromkeys(d.formulation for d in regimen.doses))
    fig.suptitle(f"Typical patient: {names}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_cohort(summaries: Any, path: str | Path) -> Path:
    """One or several cohort summaries (label -> summary) as SAA bands."""
    if "days" in summaries:
        summaries = {"cohort": summaries}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, s in summaries.items():
        d = s["days"]
        q = s["saa_IU_per_mL"]
        line = axes[0].plot(d, q["p50"], label=label)
        axes[0].fill_between(d, q["p5"], q["p95"], color=line[0].get_color(), alpha=0.15)
        axes[1].plot(d, s["fraction_saa_at_or_above_threshold"], label=label)
        thr = s["threshold_IU_per_mL"]
    axes[0].axhline(thr, ls="--", color="0.5", lw=0.8)
    axes[0].set_yscale("symlog", linthresh=0.01)
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel("daily (trough) SAA, IU/mL: median, 5-95 %")
    axes[1].set_ylabel(f"fraction ≥ {thr:g} IU/mL")
    axes[1].set_ylim(0, 1.02)
    for ax in axes:
        ax.set_xlabel("day")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_tdm(result: Any, levels: Any, path: str | Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    f = result.forecast
    ax.plot(f["day"], f["p50"], label="posterior median")
    ax.fill_between(f["day"], f["p5"], f["p95"], alpha=0.2, label="90 % band")
    cols = {c.lower(): c for c in levels.columns}
    day = levels[cols.get("day", levels.columns[0])]
    vals = levels[cols.get("saa_iu_per_ml", levels.columns[1])].astype(str).str.lstrip("<")
    ax.plot(day, vals.astype(float), "ko", label="levels")
    ax.axhline(result.target_trough, ls="--", color="0.5", lw=0.8)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(bottom=0)  # activity is never negative; symlog would show ticks below 0
    ax.set_xlabel("day")
    ax.set_ylabel("SAA (IU/mL)")
    ax.legend(fontsize=7)
    ax.set_title(result.recommendation[:90], fontsize=7)
    return save_figure(fig, path)


def vpc_figure(panels: list[Any]) -> Any:
    """Visual predictive checks (``therapy._vpc.vpc`` data): per panel the cohort's SAA
    percentiles over time (5-95 % and 25-75 % bands, median; the mean where an observation
    is a mean) and each observation at its sampling days with its accepted range (green: the
    check passes, red: it misses, grey: a fit's data)."""
    cols = 2 if len(panels) > 1 else 1
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.2 * rows), squeeze=False)
    for ax, d in zip(axes.flat, panels, strict=False):
        q, t = d["percentiles"], d["days"]
        ax.fill_between(t, q[5], q[95], color="#9ecae1", alpha=0.5, lw=0, label="5-95 %")
        ax.fill_between(t, q[25], q[75], color="#4292c6", alpha=0.5, lw=0, label="25-75 %")
        ax.plot(t, q[50], color="#08306b", lw=1, label="median")
        if any(o["statistic"] == "mean" for o in d["observations"]):
            ax.plot(t, d["mean"], color="#08306b", lw=1, ls="--", label="mean")
        for o in d["observations"]:
            colour = "0.45" if o["fit_data"] else ("#126b12" if o["passed"] else "#b00020")
            lo, hi = o["accepted"]
            for day in o["days"]:
                ax.errorbar(day, o["observed"], yerr=[[o["observed"] - lo], [hi - o["observed"]]],
                            fmt="D", color=colour, ms=4, capsize=2, lw=0.8)  # fmt: skip
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylim(bottom=max(1e-3, float(q[5][q[5] > 0].min()) if (q[5] > 0).any() else 1e-3))
        ax.set_title(d["title"], fontsize=8)
        ax.set_xlabel("day")
        ax.set_ylabel("SAA (IU/mL)")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="lower left")
    fig.suptitle(
        f"Visual predictive checks: {panels[0]['patients']} simulated children per panel; "
        "diamonds: published median or mean with its accepted range",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_vpc(panels: list[Any], path: str | Path) -> Path:
    return save_figure(vpc_figure(panels), path)
