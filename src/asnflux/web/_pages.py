"""What every page shares: templates, rendering, uploads and error pages."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .. import __version__
from ._auth import csrf_token
from ._store import Store, User

__all__ = ["Upload", "read_upload", "render", "saved_uploads", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals["version"] = __version__
NOTICE = "For research use; not a medical device."
templates.env.globals["notice"] = NOTICE

#: File types a user may upload, by suffix (lower case).
UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def render(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.update(user=user, csrf=csrf_token(request), path=request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@dataclass(frozen=True)
class Upload:
    filename: str  # the user's file name, reduced to a safe base name
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def safe_name(name: str | None) -> str:
    """The base name of an uploaded file, with only letters, digits and ``._-``: a name
    such as ``../../etc/passwd.csv`` becomes ``passwd.csv``; it never leaves its folder."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _SAFE.sub("_", base).lstrip(".")[:120]
    return cleaned or "upload"


async def read_upload(request: Request, file: UploadFile | None, what: str) -> Upload:
    """The uploaded file's bytes, checked for presence, type and size."""
    if file is None or not file.filename:
        raise HTTPException(400, f"choose a file for {what}")
    name = safe_name(file.filename)
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise HTTPException(
            415, f"{name}: {what} must be one of {', '.join(UPLOAD_SUFFIXES)} files"
        )
    limit = request.app.state.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(413, f"{name}: larger than the {limit // 2**20} MiB upload limit")
    if not content:
        raise HTTPException(400, f"{name}: the file is empty")
    return Upload(name, content)


@contextmanager
def saved_uploads(uploads: list[Upload]) -> Iterator[list[Path]]:
    """The uploads as files in a fresh private folder (the library reads files), named as
    the user named them, so messages name the user's file; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="asnflux-upload-") as tmp:
        paths = []
        for i, up in enumerate(uploads):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            path = folder / up.filename
            path.write_bytes(up.content)
            paths.append(path)
        yield paths


def user_message(text: str) -> str:
    """A library message with the server's temporary folders taken out."""
    return re.sub(r"/[^\s:'\"]*asnflux-upload-[^/]+/\d+/", "", text)
