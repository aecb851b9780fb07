"""A readable summary of the knowledge base: counts, flagged seed rows, conflicts."""

from __future__ import annotations

from ..knowledge import FLAGS, KnowledgeBase

__all__ = ["knowledge_summary_markdown", "seed_oddities"]


def seed_oddities(kb: KnowledgeBase) -> list[tuple[str, str, list[str]]]:
    """Seed-table records with curated flags: (id, printed value, flags beyond the routine)."""
    routine = {"no_primary_reference", "uncertainty_kind_unstated"}
    out = []
    for r in kb.query(source="benchchem2025"):
        notable = [f for f in r.flags if f not in routine]
        if notable:
            out.append((r.id, r.printed, notable))
    return out


def knowledge_summary_markdown(kb: KnowledgeBase) -> str:
    """Markdown summary: records by topic, the flagged seed oddities, conflicts, sources."""
    s = kb.summary()
    lines = [
        "# AsnFlux knowledge base",
        "",
        f"{s['records']} records from {s['references']} references "
        f"({s['assumptions']} labelled assumptions).",
        "",
        "## Records by topic",
        "",
        "| topic | records |",
        "|---|---|",
    ]
    lines += [f"| {topic} | {n} |" for topic, n in s["by_topic"].items()]
    lines += [
        "",
        "## Flagged rows of the seed's Tables 1-2",
        "",
        "Every seed row lacks a primary reference (the seed's Reference column is empty).",
        "Beyond that:",
        "",
        "| record | printed | flags |",
        "|---|---|---|",
    ]
    oddities = seed_oddities(kb)
    for rid, printed, flags in oddities:
        lines.append(f"| `{rid}` | {printed} | {', '.join(flags)} |")
    lines += ["", "Flag meanings:", ""]
    used = sorted({f for _, _, fl in oddities for f in fl})
    lines += [f"- **{f}**: {FLAGS[f]}" for f in used]
    lines += ["", "## Values that disagree (like with like)", ""]
    for df in kb.conflicts():
        head = df.iloc[0]
        what = f"{head['quantity']} of {head['entity']}"
        if head["substrate"]:
            what += f" ({head['substrate']})"
        values = "; ".join(f"{d} [{i}]" for d, i in zip(df["display"], df["id"], strict=True))
        lines.append(f"- {what}: {values} — spread {df.attrs['fold_range']:.3g}-fold")
    lines += ["", "## References", ""]
    lines += [f"- {ref.format()}" for ref in kb.cite(kb.records)]
    return "\n".join(lines) + "\n"
