"""HTML page of the therapy simulator's clinical validation: one figure of every check's
predicted/observed ratio against its accepted range, the visual predictive checks, the
table, and the misses' reasons."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from .. import __version__
from ._html import _CSS, _svg

__all__ = ["validation_report_html"]


def _figure(rows: list[Any]) -> str:
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(rows) + 1.3))
    for i, r in enumerate(reversed(rows)):
        lo, hi = (x / r.observed for x in r.accepted)
        ax.plot([max(lo, 1e-3), hi], [i, i], color="#9ecae1", lw=6, solid_capstyle="butt")
        if r.predicted is None:
            ax.annotate("never", (hi, i), xytext=(4, -3), textcoords="offset points", fontsize=7)
            continue
        ratio = max(r.predicted / r.observed, 1e-3)
        ax.plot(ratio, i, "o", color="#126b12" if r.passed else "#b00020", ms=5)
    ax.axvline(1, color="0.4", lw=0.7)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_yticks(range(len(rows)), [r.key for r in reversed(rows)], fontsize=7)
    ax.set_xlabel("predicted / observed (band: the accepted range; green pass, red miss)")
    fig.tight_layout()
    return _svg(fig)


def _vpc_section(rows: list[Any]) -> str:
    """The visual predictive checks of the panels that show any of ``rows``' checks."""
    from ..therapy._vpc import panels_for, vpc
    from ._therapy_plots import vpc_figure

    keys = panels_for([r.key for r in rows])
    if not keys:
        return ""
    by_key = {r.key: r for r in rows}
    fig = vpc_figure([vpc(k, by_key) for k in keys])
    return (
        "<h2>Visual predictive checks</h2><p>Each panel is the suite's virtual cohort for one "
        "published regimen: serum activity percentiles over time, with the published median "
        "or mean at its sampling days and the range it must hit (green pass, red miss, grey "
        f"a fit's data).</p><figure>{_svg(fig)}</figure>"
    )


def validation_report_html(rows: list[Any]) -> str:
    """A single self-contained page for :func:`asnflux.therapy._validation.validate`'s rows."""
    from ..therapy._validation import KNOWN_MISSES, summary

    head = "".join(
        f"<th class='l'>{h}</th>"
        for h in ("check", "observed", "predicted", "verdict", "criterion", "source")
    )
    body = "".join(
        "<tr>"
        f"<td class='l'><code>{html.escape(r.key)}</code><br>{html.escape(r.what)}</td>"
        f"<td>{html.escape(r.shown('observed'))}</td>"
        f"<td>{html.escape(r.shown('predicted'))}</td>"
        f"<td class='{'pass' if r.passed else 'fail'}'>"
        f"{'fit data' if r.fitted_by else ('pass' if r.passed else 'miss')}</td>"
        f"<td class='l'>{html.escape(r.criterion)}</td>"
        f"<td class='l'>{html.escape(r.source)}</td></tr>"
        for r in rows
    )
    misses = "".join(
        f"<li><code>{html.escape(r.key)}</code>: "
        f"{html.escape(KNOWN_MISSES.get(r.key, 'not yet explained'))}</li>"
        for r in rows
        if not r.passed
    )
    how = "".join(f"<li><code>{html.escape(r.key)}</code>: {html.escape(r.how)}</li>" for r in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>AsnFlux therapy validation</title><style>{_CSS}</style></head><body>"
        "<h1>Therapy simulator: clinical validation</h1>"
        f"<p class='note'>AsnFlux {__version__}, {stamp}. For research use; not a medical "
        "device.</p>"
        f"<p><b>{html.escape(summary(rows))}.</b> Each published observation is simulated the way "
        "its source measured it and compared with a tolerance fixed in advance.</p>"
        f"<h2>Predicted against observed</h2><figure>{_figure(rows)}</figure>"
        f"{_vpc_section(rows)}"
        f"<h2>Checks</h2><table><tr>{head}</tr>{body}</table>"
        f"<h2>Misses and their reasons</h2><ul>{misses or '<li>none</li>'}</ul>"
        f"<h2>How each prediction is computed</h2><ul>{how}</ul>"
        "</body></html>"
    )
