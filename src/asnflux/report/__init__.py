"""Reports: self-contained text and figures built from library results."""

from ._knowledge import knowledge_summary_markdown as knowledge_summary_markdown

__all__ = ["knowledge_summary_markdown"]
