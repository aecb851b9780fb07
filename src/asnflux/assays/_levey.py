"""Levey–Jennings charts and Westgard rules for QC levels across runs of one assay.

Each QC level's run mean (found concentration, nominal-level QCs only) is placed on the
history of the same level in earlier runs: the history's mean and SD set the chart's
lines, and the multi-rule procedure of Westgard et al. (Clin Chem 1981) reads the series
ending with this run — 1_2s (warning), 1_3s, 2_2s (within a level across runs, or across
levels within this run), R_4s (within this run), 4_1s and 10_x. Earlier runs are given as
the ``--json`` output AsnFlux wrote for them. The rules' limits are knowledge-base records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from ..knowledge import load_knowledge_base

__all__ = ["levey_jennings", "read_history"]

_MIN_RUNS = 3  # an SD needs a few runs; Westgard's limits assume about 20


def read_history(paths: list[Path], molecule: str) -> list[tuple[str, dict[str, Any]]]:
    """Earlier runs' JSON outputs, checked to be LC-MS runs of ``molecule``."""
    runs = []
    for p in paths:
        try:
            data = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{p}: cannot read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{p}: not JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(data, dict) or data.get("protocol") != "lcms-isotope-dilution":
            raise DataError(
                f"{p}: not the --json output of an 'asnflux assay lcms' run (no "
                "protocol 'lcms-isotope-dilution')"
            )
        if data.get("molecule") != molecule:
            raise DataError(
                f"{p}: a run of {data.get('molecule')!r}, not {molecule!r}; a Levey–Jennings "
                "chart compares runs of one assay"
            )
        runs.append((str(p), data))
    return runs


def _level_means(qcs: list[dict[str, Any]]) -> dict[float, float]:
    found: dict[float, list[float]] = {}
    for q in qcs:
        if (q.get("dilution") or 1.0) != 1.0 or q.get("found_uM") is None:
            continue
        found.setdefault(float(q["nominal_uM"]), []).append(float(q["found_uM"]))
    return {level: float(np.mean(v)) for level, v in found.items()}


def levey_jennings(
    current_qcs: list[dict[str, Any]], history: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Chart data and Westgard verdicts for this run's QC levels against ``history``.

    Returns ``levels`` (per level: history mean, SD, runs, the series of run means with
    this run last, z of this run) and ``violations`` (rule, level, text); ``reject`` is true
    when a rejection rule (not 1_2s) fires.
    """
    kb = load_knowledge_base()
    r3, r2, r1 = (
        kb.value(f"westgard.{k}_sd", "dimensionless") for k in ("reject", "warning", "trend")
    )
    shift = int(kb.value("westgard.shift_runs", "dimensionless"))
    now = _level_means(current_qcs)
    past = [(name, _level_means(run.get("qcs") or [])) for name, run in history]
    levels: dict[str, Any] = {}
    violations: list[dict[str, Any]] = []
    z_now: dict[float, float] = {}
    for level, value in sorted(now.items()):
        series = [m[level] for _, m in past if level in m]
        if len(series) < _MIN_RUNS:
            levels[f"{level:g}"] = {"runs": len(series), "note": f"fewer than {_MIN_RUNS} runs"}
            continue
        mean, sd = float(np.mean(series)), float(np.std(series, ddof=1))
        if not sd > 0:
            levels[f"{level:g}"] = {"runs": len(series), "note": "no spread in the history"}
            continue
        z = [(v - mean) / sd for v in [*series, value]]
        z_now[level] = z[-1]
        levels[f"{level:g}"] = {
            "runs": len(series),
            "mean_uM": mean,
            "sd_uM": sd,
            "series_uM": [*series, value],
            "z": z[-1],
        }

        def hit(rule: str, text: str, level: float = level) -> None:
            violations.append({"rule": rule, "level_uM": level, "text": text})

        if abs(z[-1]) > r3:
            hit("1_3s", f"QC {level:g} µM: run mean {z[-1]:+.1f} SD from its history")
        elif abs(z[-1]) > r2:
            hit("1_2s", f"QC {level:g} µM: run mean {z[-1]:+.1f} SD (warning)")
        if len(z) >= 2 and (all(v > r2 for v in z[-2:]) or all(v < -r2 for v in z[-2:])):
            hit("2_2s", f"QC {level:g} µM: this and the previous run beyond 2 SD on one side")
        if len(z) >= 4 and (all(v > r1 for v in z[-4:]) or all(v < -r1 for v in z[-4:])):
            hit("4_1s", f"QC {level:g} µM: four runs in a row beyond 1 SD on one side")
        if len(z) >= shift and (all(v > 0 for v in z[-shift:]) or all(v < 0 for v in z[-shift:])):
            hit("10_x", f"QC {level:g} µM: {shift} runs in a row on one side of the mean")
    high = [lvl for lvl, v in z_now.items() if v > r2]
    low = [lvl for lvl, v in z_now.items() if v < -r2]
    if high and low:
        text = f"this run: QC {high[0]:g} µM above +2 SD and QC {low[0]:g} µM below -2 SD"
        violations.append({"rule": "R_4s", "level_uM": None, "text": text})
    for side in (high, low):
        if len(side) >= 2:
            shown = ", ".join(f"{v:g}" for v in side)
            text = f"this run: QCs at {shown} µM beyond 2 SD on one side"
            violations.append({"rule": "2_2s", "level_uM": None, "text": text})
    reject = any(v["rule"] != "1_2s" for v in violations)
    few = min((d["runs"] for d in levels.values()), default=0)
    return {
        "history_runs": len(history),
        "levels": levels,
        "violations": violations,
        "reject": reject,
        "note": None if few >= 20 else f"limits from {few} run(s); Westgard's assume about 20",
    }
