"""The demo job behind ``make demo``: run the main analyses on embedded defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._errors import DataError
from ._io import atomic_write_text, check_writable
from .knowledge import load_knowledge_base
from .report import knowledge_summary_markdown
from .report._knowledge import seed_oddities

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    files: tuple[Path, ...]
    summary_text: str


#: The demo's steps, in order (``progress`` is told each one as it starts).
STEPS = ("knowledge base", "cell model", "therapy")
#: Every file the demo writes, checked before the first step so a bad target never leaves
#: a half-written report.
FILES = (
    "knowledge_base.md",
    "knowledge_base.csv",
    "knowledge_base.json",
    "references.bib",
    "cell_model.md",
    "cell_asparaginase.png",
    "therapy.md",
    "therapy_patient_1.png",
    "therapy_patient_2.png",
    "therapy_patient_3.png",
    "therapy_cohort.png",
)


def run_demo(out: str | Path, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Write the knowledge-base report and exports into ``out`` (created if missing).

    ``progress(step)`` is called as each of :data:`STEPS` starts (for a progress bar).
    """
    tell = progress or (lambda step: None)
    tell(STEPS[0])
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"cannot use {folder} as the output folder: it is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not folder.is_dir():
        raise DataError(f"cannot use {folder} as the output folder: it is not a folder")
    for name in FILES:
        check_writable(folder / name)
    kb = load_knowledge_base()
    files = (
        atomic_write_text(folder / "knowledge_base.md", knowledge_summary_markdown(kb)),
        atomic_write_text(folder / "knowledge_base.csv", kb.export("csv")),
        atomic_write_text(folder / "knowledge_base.json", kb.export("json")),
        atomic_write_text(folder / "references.bib", kb.export("bibtex")),
    )
    s = kb.summary()
    lines = [
        f"Knowledge base: {s['records']} records, {s['references']} references, "
        f"{s['assumptions']} assumption(s)",
        "Records by topic: " + ", ".join(f"{t} {n}" for t, n in s["by_topic"].items()),
        "Flagged seed oddities:",
    ]
    lines += [f"  {rid}: {printed!r} -> {', '.join(fl)}" for rid, printed, fl in seed_oddities(kb)]
    tell(STEPS[1])
    cell_files, cell_lines = _cell_section(folder)
    tell(STEPS[2])
    therapy_files, therapy_lines = _therapy_section(folder)
    return DemoResult(
        files=files + cell_files + therapy_files,
        summary_text="\n".join(lines + cell_lines + therapy_lines),
    )


def _therapy_section(folder: Path) -> tuple[tuple[Path, ...], list[str]]:
    """PEG vs Erwinia vs native E. coli for a typical child, and a 1,000-patient cohort."""
    import pandas as pd

    from .report._therapy_plots import plot_cohort, plot_patient
    from .therapy import compare_regimens, regimen_from_options, simulate, typical_patient

    regimens = {
        "PEG 2500 IU/m² IV d0, d14": regimen_from_options("peg", "2500 IU/m**2", "iv", at="0,14"),
        "Erwinia 25000 IU/m² IM every 2 d ×12": regimen_from_options(
            "erwinia", "25000 IU/m**2", "im", every="2d", doses=12
        ),
        "native E. coli 25000 IU/m² IM weekly ×4": regimen_from_options(
            "native-ecoli", "25000 IU/m**2", "im", every="7d", doses=4
        ),
    }
    child = typical_patient(1.0)
    rows, figs = [], []
    for k, (label, reg) in enumerate(regimens.items()):
        res = simulate(child, reg, 28)
        table = pd.DataFrame({"day": res.times_h})
        for key, values in res.traces.items():
            table[key] = values[0]
        figs.append(plot_patient(table, reg, 0.1, folder / f"therapy_patient_{k + 1}.png"))
        e = {name: float(v[0]) for name, v in res.endpoints.items()}
        rows.append(
            f"| {label} | {e['days_saa_at_or_above_threshold']:.1f} | "
            f"{e['days_asn_plasma_below_1uM']:.1f} | {e['days_csf_asn_depleted']:.1f} | "
            f"{e['gln_nadir_uM']:.0f} | {e['blast_log_kill']:.2f} |"
        )
    cohorts = compare_regimens(regimens, 1000, 1, days=28)
    figs.append(plot_cohort(cohorts, folder / "therapy_cohort.png"))
    crow = []
    for label, s in cohorts.items():
        d = s["endpoints"]["days_saa_at_or_above_threshold"]
        inact = s["endpoints"]["inactivation"]
        crow.append(
            f"| {label} | {d['p50']:.1f} [{d['p5']:.1f}, {d['p95']:.1f}] | "
            f"{inact['patients_with_antibodies']} | {inact['detected']} |"
        )
    md = [
        "# Therapy simulator",
        "",
        "## A typical child (BSA 1.0 m², random effects at zero), 28 days",
        "",
        "| regimen | days SAA ≥ 0.1 IU/mL | days plasma Asn < 1 µM | days CSF Asn ≤ 0.2 µM |"
        " Gln nadir (µM) | blast log-kill |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        *[f"![{label}](therapy_patient_{k + 1}.png)" for k, label in enumerate(regimens)],
        "",
        "## 1,000 virtual patients per regimen (seed 1; same patients for each)",
        "",
        "![cohort](therapy_cohort.png)",
        "",
        "| regimen | days SAA ≥ 0.1 IU/mL, median [p5, p95] | patients with antibodies |"
        " inactivation detected by weekly monitoring |",
        "|---|---|---|---|",
        *crow,
        "",
    ]
    report = atomic_write_text(folder / "therapy.md", "\n".join(md))
    lines = [
        "Therapy, typical child, days with SAA ≥ 0.1 IU/mL over 28 d: "
        + "; ".join(
            f"{label.split(' ')[0]} {r.split('|')[2].strip()}"
            for label, r in zip(regimens, rows, strict=True)
        )
    ]
    return (report, *figs), lines


def _cell_section(folder: Path) -> tuple[tuple[Path, ...], list[str]]:
    """Blasts vs ASNS-high cells under asparaginase, and the scenario verdicts."""
    from .models.cell import CellConfig, simulate_cell
    from .models.scenarios import SCENARIOS, run_scenario
    from .report._cell_plots import plot_asparaginase_comparison

    dose = "0.1 IU/mL"
    runs = {
        label: simulate_cell(CellConfig(cell_types=(ct,), asparaginase=dose), hours=96)
        for label, ct in (
            ("ALL blast", "all-blast"),
            ("resistant ALL blast", "all-blast-resistant"),
            ("high-ASNS solid tumour", "solid-asns-high"),
        )
    }
    fig = plot_asparaginase_comparison(runs, folder / "cell_asparaginase.png")
    rows = []
    for label, run in runs.items():
        k = run.cell_keys[0]
        rows.append(
            f"| {label} | {run.final(f'cells_{k}') / run.at(f'cells_{k}', 0):.2f} | "
            f"{run.final(f'viability_{k}'):.2f} | {1e3 * run.final(f'Asn_cyt_{k}'):.3g} | "
            f"{run.final(f'ASNS_{k}'):.2f} |"
        )
    results = [run_scenario(name) for name in SCENARIOS]
    md = [
        "# Cell model",
        "",
        f"## Blasts vs ASNS-high cells under asparaginase ({dose}, 96 h, RPMI-1640)",
        "",
        "![asparaginase](cell_asparaginase.png)",
        "",
        "| cells | viable (fold) | viability | intracellular Asn (µM) | ASNS (× basal) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Scenario library (DESIGN §3 behaviours)",
        "",
        "| scenario | expectation | verdict |",
        "|---|---|---|",
        *[
            f"| `{r.scenario.name}` | {r.scenario.expectation} | "
            f"{'holds' if r.passed else 'FAILS'} |"
            for r in results
        ],
        "",
    ]
    report = atomic_write_text(folder / "cell_model.md", "\n".join(md))
    passed = sum(r.passed for r in results)
    lines = [
        f"Cell model, {dose} asparaginase for 96 h: "
        + "; ".join(
            f"{label} viability {run.final(f'viability_{run.cell_keys[0]}'):.2f}"
            for label, run in runs.items()
        ),
        f"Cell-model scenarios: {passed} of {len(results)} reproduce their expected behaviour",
    ]
    return (report, fig), lines
