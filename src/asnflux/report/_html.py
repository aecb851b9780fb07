"""Self-contained HTML assay reports: inline CSS and inline SVG figures, no external files.

One page per run: the standard curve(s) with back-calculated standards, the QC verdicts and
the results, then the findings. Built from the protocol result objects, so a report can
never disagree with the ``--json`` output of the same run.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import __version__
from ..assays import AsnsResult, AsparaginaseResult, Calibration, LcmsResult
from ..assays._asparaginase import AspartateActivityResult

__all__ = ["assay_report_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1b1b;line-height:1.4}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ccc}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.pass{color:#126b12;font-weight:600}.fail{color:#b00020;
font-weight:600}.note{color:#555;font-size:.85rem}figure{margin:0}svg{max-width:100%;height:auto}
"""


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE


def _mtime(path: str) -> str:
    try:
        t = os.stat(path).st_mtime
    except OSError:
        return "unknown"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool | np.bool_):
        return '<span class="pass">yes</span>' if value else '<span class="fail">no</span>'
    if isinstance(value, int | np.integer):
        return str(value)
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(df: pd.DataFrame, columns: dict[str, str]) -> str:
    if df is None or df.empty:
        return '<p class="note">none</p>'
    cols = [c for c in columns if c in df.columns]
    head = "".join(
        f'<th class="{"l" if df[c].dtype == object else ""}">{html.escape(columns[c])}</th>'
        for c in cols
    )
    body = []
    for rec in df[cols].to_dict(orient="records"):
        cells = "".join(
            f'<td class="{"l" if isinstance(rec[c], str) else ""}">{_fmt(rec[c])}</td>'
            for c in cols
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _curve_figure(cal: Calibration, xlabel: str, ylabel: str, rejected: Any = None) -> str:
    """The curve on linear axes, or on log–log axes when the standards span more than 50×
    (a symmetric-log axis bends a straight calibration line; log–log keeps it straight)."""
    fit = cal.fit
    fig, ax = plt.subplots(figsize=(6, 3.8))
    x, y = fit.x, fit.y
    positive = x[x > 0]
    wide = len(positive) > 0 and x.max() / positive.min() > 50 and bool(np.all(y[x > 0] > 0))
    if wide:
        grid = np.geomspace(positive.min() / 1.5, float(x.max()) * 1.05, 300)
    else:
        grid = np.linspace(0.0, float(x.max()) * 1.05, 300)
    curve = fit.predict(grid)
    keep = curve > 0 if wide else np.ones_like(curve, bool)
    ax.plot(grid[keep], curve[keep], "-", color="#1f4e99", label=f"{fit.model.name} fit")
    shown = x > 0 if wide else np.ones_like(x, bool)
    ax.plot(x[shown], y[shown], "o", color="#1f4e99", ms=4, label="standards")
    if rejected is not None and len(rejected[0]):
        ax.plot(rejected[0], rejected[1], "x", color="#b00020", ms=7, label="rejected")
    ax.axvspan(cal.lloq, cal.uloq, color="#1f4e99", alpha=0.06, label="calibrated range")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if wide:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    scale = "log–log axes" if wide else "linear axes"
    return f"<figure>{_svg(fig)}<figcaption class='note'>{scale}</figcaption></figure>"


def _bias_figure(r: LcmsResult) -> str:
    """%bias of every standard and QC against nominal, with the acceptance limits."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    std, qc = r.standards, r.qcs
    xs = std["nominal_uM"].to_numpy(float)
    acc = std["accepted"].to_numpy(bool)
    ax.plot(xs[acc], std["bias_pct"].to_numpy(float)[acc], "o", color="#1f4e99", ms=4,
            label="standards")  # fmt: skip
    ax.plot(xs[~acc], std["bias_pct"].to_numpy(float)[~acc], "x", color="#b00020", ms=7,
            label="rejected standards")  # fmt: skip
    if not qc.empty and "bias_pct" in qc:
        qx = qc["nominal_uM"].to_numpy(float) / qc.get("dilution", 1.0)
        ax.plot(qx, qc["bias_pct"].to_numpy(float), "s", mfc="none", color="#6b3fa0", ms=5,
                label="QCs (diluted at their vial level)")  # fmt: skip
    limit = 100 * r.rules.get("std_bias", 0.15)
    ax.axhspan(-limit, limit, color="#126b12", alpha=0.07, label=f"±{limit:.0f} %")
    ax.axhline(0, color="#888", lw=0.8)
    positive = xs[xs > 0]
    if len(positive) and xs.max() / positive.min() > 50:
        ax.set_xscale("log")
    ax.set_xlabel(f"nominal {r.molecule} (µM)")
    ax.set_ylabel("bias (%)")
    ax.legend(fontsize=7)
    return f"<figure>{_svg(fig)}</figure>"


def _lj_figure(lj: dict[str, Any]) -> str:
    """One Levey–Jennings panel per QC level: run means, history mean and ±1/2/3 SD."""
    charted = {k: v for k, v in lj["levels"].items() if "series_uM" in v}
    if not charted:
        notes = "; ".join(f"{k} µM: {v.get('note')}" for k, v in lj["levels"].items())
        return f'<p class="note">not charted ({html.escape(notes)})</p>'
    fig, axes = plt.subplots(len(charted), 1, figsize=(6, 1.9 * len(charted)), squeeze=False)
    for ax, (level, d) in zip(axes[:, 0], charted.items(), strict=True):
        series = np.asarray(d["series_uM"], float)
        runs = np.arange(1, len(series) + 1)
        ax.plot(runs[:-1], series[:-1], "o-", color="#1f4e99", ms=3, lw=0.8)
        ax.plot(runs[-1:], series[-1:], "D", color="#b00020", ms=5, label="this run")
        for k, style in ((0, "-"), (1, ":"), (2, "--"), (3, "-.")):
            for sign in (1, -1) if k else (1,):
                ax.axhline(d["mean_uM"] + sign * k * d["sd_uM"], color="#888", ls=style, lw=0.7)
        ax.set_ylabel(f"QC {level} µM")
    axes[-1, 0].set_xlabel("run")
    axes[0, 0].legend(fontsize=7)
    items = [
        f"<li>{html.escape(v['rule'])}: {html.escape(v['text'])}</li>" for v in lj["violations"]
    ]
    rules = "".join(items) or "<li>no rule violated</li>"
    return f"<figure>{_svg(fig)}</figure><ul>{rules}</ul>"


def _is_figure(r: LcmsResult) -> str:
    """Internal-standard response in injection order, by sample type."""
    inj = r.injections
    if inj.empty or "is_pct_of_calibrators" not in inj:
        return '<p class="note">no injections</p>'
    fig, ax = plt.subplots(figsize=(6, 3.0))
    for kind, marker in (("standard", "o"), ("qc", "s"), ("unknown", "^"), ("blank", "v")):
        sel = inj["sample_type"] == kind
        if sel.any():
            ax.plot(inj.loc[sel, "injection"], inj.loc[sel, "is_pct_of_calibrators"], marker,
                    ms=4, label=kind)  # fmt: skip
    lo, hi = 100 * r.rules.get("is_low", 0.5), 100 * r.rules.get("is_high", 1.5)
    ax.axhspan(lo, hi, color="#126b12", alpha=0.07, label=f"review window {lo:.0f}–{hi:.0f} %")
    ax.set_xlabel("injection")
    ax.set_ylabel("IS response (% of calibrators' mean)")
    ax.legend(fontsize=7)
    return f"<figure>{_svg(fig)}</figure>"


def _params(cal: Calibration) -> str:
    rows = "".join(
        f"<tr><td class='l'>{html.escape(k)}</td><td>{v.value:.6g}</td>"
        f"<td>{_fmt(v.stderr)}</td></tr>"
        for k, v in cal.fit.parameters.items()
    )
    return (
        f"<p>{html.escape(cal.fit.model.name)}, weights {html.escape(str(cal.weights))}, "
        f"R² {cal.fit.r2:.5f}, calibrated range {cal.lloq:g}–{cal.uloq:g}</p>"
        f"<table><tr><th class='l'>parameter</th><th>value</th><th>SE</th></tr>{rows}</table>"
    )


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return '<span class="note">not assessed</span>'
    return '<span class="pass">PASS</span>' if ok else '<span class="fail">FAIL</span>'


def _lcms_sections(r: LcmsResult) -> list[tuple[str, str]]:
    out = []
    v = r.verdicts
    summary = "".join(
        f"<tr><td class='l'>{html.escape(k)}</td><td>{_verdict(d.get('pass'))}</td></tr>"
        for k, d in v.items()
        if isinstance(d, dict)
    )
    when = (
        ""
        if r.acquired is None
        else f"<p class='note'>Acquired {html.escape(r.acquired[0])} – "
        f"{html.escape(r.acquired[1])}.</p>"
    )
    out.append(
        (
            "Run acceptance (ICH M10)",
            f"{when}<p>Run: {_verdict(v.get('run_accepted'))}</p><table>{summary}</table>",
        )
    )
    if r.calibration is not None:
        rej = r.standards[~r.standards["accepted"]]
        fig = _curve_figure(
            r.calibration,
            f"{r.molecule} (µM)",
            "area ratio analyte/IS",
            (rej["nominal_uM"].to_numpy(), rej["ratio"].to_numpy()),
        )
        out.append(("Standard curve", fig + _params(r.calibration)))
        out.append(
            (
                "Back-calculated standards",
                _table(
                    r.standards,
                    {
                        "replicate": "replicate",
                        "nominal_uM": "nominal (µM)",
                        "ratio": "ratio",
                        "back_calculated_uM": "back-calc. (µM)",
                        "bias_pct": "bias %",
                        "limit_pct": "limit ±%",
                        "accepted": "accepted",
                    },
                ),
            )
        )
        out.append(("Accuracy of standards and QCs", _bias_figure(r)))
        out.append(
            (
                "QC levels",
                _table(
                    r.qc_levels(),
                    {
                        "nominal_uM": "nominal (µM)",
                        "dilution": "dilution",
                        "n": "n",
                        "mean_found_uM": "mean found (µM)",
                        "cv_pct": "CV %",
                        "mean_bias_pct": "mean bias %",
                        "passed": "within limits",
                    },
                ),
            )
        )
        out.append(("Internal-standard response", _is_figure(r)))
        out.append(
            (
                "Quality controls",
                _table(
                    r.qcs,
                    {
                        "replicate": "replicate",
                        "nominal_uM": "nominal (µM)",
                        "found_uM": "found (µM)",
                        "bias_pct": "bias %",
                        "limit_pct": "limit ±%",
                        "pass": "pass",
                    },
                ),
            )
        )
        out.append(
            (
                "Blanks and carry-over",
                _table(
                    r.blanks,
                    {
                        "replicate": "replicate",
                        "sample_type": "type",
                        "check": "check",
                        "analyte_pct_of_lloq": "analyte % of LLOQ",
                        "is_pct_of_lloq_is": "IS % of LLOQ IS",
                        "pass": "pass",
                    },
                ),
            )
        )
    out.append(
        (
            "Results",
            _table(
                r.unknowns,
                {
                    "replicate": "replicate",
                    "sample": "sample",
                    "status": "status",
                    "concentration_uM": "conc. (µM)",
                    "se_uM": "SE",
                    "nmol_per_1e6_cells": "nmol/10⁶ cells",
                    "nmol_per_mg_protein": "nmol/mg",
                    "intracellular_mM": "intracellular (mM)",
                    "intracellular_mM_se": "SE",
                },
            ),
        )
    )
    if r.levey_jennings is not None:
        out.append(("Levey–Jennings (QC levels across runs)", _lj_figure(r.levey_jennings)))
    if r.isotopes is not None:
        d = r.isotopes.to_dict()
        s = d["standard"]
        out.append(
            (
                "Isotope facts (computed)",
                f"<p>{html.escape(d['analyte'])} {html.escape(d['formula'])} ({d['chebi']}): "
                f"[M+H]⁺ {d['mz_M+H']:.4f}; {d['exchangeable_H']} exchangeable H. Standard "
                f"{html.escape(s['label'])} sold as {html.escape(s['formula_as_sold'])} "
                f"([M+H]⁺ {s['mz_M+H_as_sold']:.4f}), observed as "
                f"{html.escape(s['formula_observed'])} ([M+H]⁺ {s['mz_M+H_observed']:.4f}, "
                f"M+{s['mass_shift_observed']}). Crosstalk analyte→IS "
                f"{d['crosstalk']['analyte_into_IS_channel']:.3g}, IS→analyte "
                f"{d['crosstalk']['IS_into_analyte_channel']:.3g}.</p>",
            )
        )
    return out


def _asns_sections(r: AsnsResult) -> list[tuple[str, str]]:
    out = []
    if r.amp_calibration is not None:
        out.append(
            (
                "AMP standard curve",
                _curve_figure(r.amp_calibration, "AMP (µM)", "luminescence (RLU)")
                + _params(r.amp_calibration),
            )
        )
    if r.protein_calibration is not None:
        out.append(
            (
                "Bradford protein standard curve",
                _curve_figure(r.protein_calibration, "protein (mg/mL)", "A595")
                + _params(r.protein_calibration),
            )
        )
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for sample, grp in r.progress.groupby("sample", sort=False):
        ax.plot(grp["time_min"], grp["product_nmol"], "o-", ms=4, label=str(sample))
    ax.set_xlabel("time (min)")
    ax.set_ylabel("product (nmol)")
    ax.legend(fontsize=7)
    out.append(("Progress curves", f"<figure>{_svg(fig)}</figure>"))
    out.append(
        (
            "Specific activity",
            _table(
                r.samples,
                {
                    "sample": "lysate",
                    "status": "status",
                    "rate_nmol_per_min": "rate (nmol/min)",
                    "rate_se": "SE",
                    "time_points_used": "points",
                    "linear": "linear",
                    "protein_mg_per_mL": "protein (mg/mL)",
                    "specific_activity_nmol_per_min_per_mg": "nmol/min/mg",
                    "specific_activity_se": "SE",
                },
            ),
        )
    )
    return out


def _asparaginase_sections(r: AsparaginaseResult) -> list[tuple[str, str]]:
    cal = r.calibration
    return [
        (
            "NH4⁺ standard curve",
            _curve_figure(cal, "NH4⁺ (mM)", "absorbance")
            + _params(cal)
            + _table(
                cal.back_calculated(),
                {"nominal": "nominal (mM)", "back_calculated": "back-calc.", "bias_pct": "bias %"},
            ),
        ),
        (
            f"Activity (threshold {r.threshold_iu_per_ml:g} IU/mL)",
            _table(
                r.samples,
                {
                    "sample": "sample",
                    "dilution": "dilution",
                    "status": "status",
                    "activity_IU_per_mL": "IU/mL",
                    "activity_se": "SE",
                    "specific_activity_IU_per_mg": "IU/mg",
                    "at_or_above_threshold": "≥ threshold",
                    "recommended_dilution": "re-assay at dilution",
                },
            )
            + f'<p class="note">Threshold: {html.escape(r.threshold_source)}</p>',
        ),
    ]


def _aspartate_sections(r: AspartateActivityResult) -> list[tuple[str, str]]:
    return [
        *_lcms_sections(r.lcms),
        (
            f"Asparaginase activity (threshold {r.threshold_iu_per_ml:g} IU/mL)",
            _table(
                r.samples,
                {
                    "sample": "sample",
                    "status": "status",
                    "aspartate_uM": "Asp (µM)",
                    "activity_IU_per_mL": "IU/mL",
                    "activity_se": "SE",
                    "specific_activity_IU_per_mg": "IU/mg",
                    "at_or_above_threshold": "≥ threshold",
                },
            ),
        ),
    ]


def assay_report_html(
    result: Any, *, title: str, inputs: list[str], metadata: dict[str, str] | None = None
) -> str:
    """A single self-contained HTML page for any protocol result.

    ``metadata`` (analyst, instrument, …) is printed under the title as given; each input
    file is listed with its modification time.
    """
    if isinstance(result, LcmsResult):
        sections = _lcms_sections(result)
    elif isinstance(result, AsnsResult):
        sections = _asns_sections(result)
    elif isinstance(result, AspartateActivityResult):
        sections = _aspartate_sections(result)
    elif isinstance(result, AsparaginaseResult):
        sections = _asparaginase_sections(result)
    else:
        raise TypeError(f"no HTML report for {type(result).__name__}")
    findings = getattr(result, "findings", None) or getattr(
        getattr(result, "lcms", None), "findings", []
    )
    items = "".join(f"<li>{html.escape(f)}</li>" for f in findings) or "<li>none</li>"
    sections.append(("Findings", f"<ul>{items}</ul>"))
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in sections)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    files = ", ".join(
        html.escape(f) + (f" (modified {_mtime(f)})" if os.path.exists(f) else "") for f in inputs
    )
    meta = "".join(
        f"<tr><td class='l'>{html.escape(k)}</td><td class='l'>{html.escape(v)}</td></tr>"
        for k, v in (metadata or {}).items()
        if v
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>Inputs: {files}. AsnFlux "
        f"{__version__}, {stamp}.</p>{f'<table>{meta}</table>' if meta else ''}{body}"
        "</body></html>"
    )
    # Guard the promise of a single file: no external resource may sneak in.
    if re.search(r"""(src|href)=["']?(https?:|//|file:)""", page):
        raise RuntimeError("report would reference an external resource")
    return page
