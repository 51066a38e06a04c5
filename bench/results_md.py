"""bench/results.md holds one section per benchmark script, each between its own two markers, so
that a script rewrites its section and leaves the others' as they are."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
TITLE = "# Benchmark results\n"


def markers(script: str) -> tuple[str, str]:
    """The lines that open and close ``script``'s section."""
    return f"<!-- {script}: start -->", f"<!-- {script}: end -->"


def write_section(script: str, text: str, out: Path = RESULTS) -> None:
    """Put ``text`` (without markers) as ``script``'s section of ``out``: in place of the old one,
    or appended; everything else in the file stays as it is."""
    start, end = markers(script)
    section = f"{start}\n{text.strip()}\n{end}"
    old = out.read_text() if out.exists() else TITLE
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(old):
        new = pattern.sub(lambda _: section, old)
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(new)
