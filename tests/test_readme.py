"""The README's examples run: its pycon session as a doctest, its commands as real calls."""

from __future__ import annotations

import doctest
import re
import shlex
import shutil
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_python_session():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon\n(.*?)```", text, flags=re.S)
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README block {i}", str(README), 0)
        runner.run(test)
    assert runner.failures == 0


def test_readme_commands(cli, tmp_path, monkeypatch):
    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("$ asnflux "):
                continue
            res = cli(*shlex.split(line)[2:])
            assert res.code == 0, (line, res.err)
            shown = []
            for follow in lines[i + 1 :]:
                if follow.startswith("$ "):
                    break
                shown.append(follow)
            for expected in shown:
                assert expected in res.out, (line, expected)
