"""The demo job behind ``make demo``: run the main analyses on embedded defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._errors import DataError
from ._io import atomic_write_text
from .knowledge import load_knowledge_base
from .report import knowledge_summary_markdown
from .report._knowledge import seed_oddities

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    files: tuple[Path, ...]
    summary_text: str


def run_demo(out: str | Path) -> DemoResult:
    """Write the knowledge-base report and exports into ``out`` (created if missing)."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create output folder {folder}: {exc.strerror}") from None
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
    return DemoResult(files=files, summary_text="\n".join(lines))
