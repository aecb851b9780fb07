"""``/kb``: the knowledge base, searchable, each value with its citation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..knowledge import FLAGS, load_knowledge_base
from ._auth import require
from ._pages import render
from ._store import User

router = APIRouter()
_SHOWN = 300


@router.get("/kb", response_class=HTMLResponse)
def kb_page(
    request: Request,
    user: Annotated[User, Depends(require("viewer"))],
    q: str = "",
    topic: str = "",
    flag: str = "",
) -> Response:
    kb = load_knowledge_base()
    words = [w.lower() for w in q.split()][:8]
    hits = []
    for r in kb.records:
        if topic and r.topic != topic:
            continue
        if flag and flag not in r.flags:
            continue
        hay = " ".join(
            (r.id, r.entity, r.quantity, r.substrate, r.organism, r.source, r.notes)
        ).lower()
        if all(w in hay for w in words):
            hits.append(r)
    return render(
        request,
        "kb.html",
        user,
        records=hits[:_SHOWN],
        total=len(hits),
        shown=_SHOWN,
        q=q,
        topic=topic,
        flag=flag,
        topics=sorted(kb.topics()),
        flags=FLAGS,
        references=kb.references,
    )
