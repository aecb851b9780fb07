"""Every ``$ asnflux …`` command in docs/ runs, and prints what the page says it prints.

A command shown with an ``error:`` or ``usage error:`` line is a documented refusal: it
must exit 1 (or 2) with exactly that message.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))


def commands(page: Path) -> list[tuple[str, list[str]]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
        text = block.replace("\\\n", " ")
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ asnflux "):
                shown = []
                for follow in lines[i + 1 :]:
                    if follow.startswith("$ "):
                        break
                    shown.append(follow.strip())
                out.append((line, [s for s in shown if s]))
    return out


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_commands_run(page, cli, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for line, shown in commands(page):
        res = cli(*shlex.split(line)[2:])
        if shown and shown[0].startswith(("error:", "usage error:")):
            # A documented refusal: the exit code and the one-line message as shown.
            assert res.code == (2 if shown[0].startswith("usage") else 1), (line, res.err)
            assert " ".join(res.err.split()) == shown[0], (page.name, line, res.err)
            continue
        assert res.code == 0, (page.name, line, res.err)
        for expected in shown:
            assert expected in res.out, (page.name, line, expected)
        for written in re.findall(r"--report (\S+)", line):
            assert (tmp_path / written).read_text(encoding="utf-8").startswith("<!DOCTYPE")
