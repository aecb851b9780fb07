from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from asnflux.cli import main
from asnflux.knowledge import KnowledgeBase, load_knowledge_base

DATA = Path(__file__).parent / "data"

# Hypothesis: `make test` runs a bounded number of examples per property ("ci"); `make fuzz`
# runs the long campaign ("fuzz"). Both are derandomised per test for reproducible CI.
settings.register_profile(
    "ci",
    max_examples=30,
    derandomize=True,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking in CI: fail fast
)
settings.register_profile("fuzz", max_examples=3000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    # The shipped knowledge base is immutable, so one load serves every test.
    return load_knowledge_base()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``asnflux ARGS…`` in-process; return exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
