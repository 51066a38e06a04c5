#!/usr/bin/env python3
"""Point the book at one repository ref: ``_config.yml``'s ``repository`` (url, branch) is the one place
they are written; this script copies them into every chapter's Colab setup cell and the README.

    python .ci/set_ref.py            # re-sync from _config.yml
    python .ci/set_ref.py v0.2.0     # set repository.branch to v0.2.0, then sync (make release REF=v0.2.0)

A notebook opened from a branch or tag then installs gnnbook from that same ref, with the extras the
chapter imports. tests/test_book.py checks that everything agrees.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
SETUP_TAGS = ["remove-cell"]
# extra -> what in a chapter's code needs it
EXTRAS = {"data": ("gnnbook.datasets", "load_planetoid"), "widgets": ("gnnbook.widgets", "ipywidgets")}


def repository() -> tuple[str, str]:
    """``(url, ref)`` from _config.yml's ``repository`` section."""
    text = CONFIG.read_text()
    url = re.search(r"^repository:\n(?:  .*\n)*?  url: *(\S+)", text, re.MULTILINE)
    ref = re.search(r"^repository:\n(?:  .*\n)*?  branch: *(\S+)", text, re.MULTILINE)
    if not (url and ref):
        raise ValueError(f"{CONFIG.name}: repository.url and repository.branch are required")
    return url.group(1), ref.group(1)


def extras_of(nb: dict) -> list[str]:
    code = "\n".join("".join(c["source"]) for c in nb["cells"][1:] if c["cell_type"] == "code")
    return sorted(extra for extra, needles in EXTRAS.items() if any(n in code for n in needles))


def setup_cell(nb: dict, url: str, ref: str) -> str:
    extras = extras_of(nb)
    package = "gnnbook" + (f"[{','.join(extras)}]" if extras else "")
    return (
        "import sys\n"
        "# Only on Colab: install gnnbook from this notebook's own ref, turn on widgets.\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{package} @ git+{url}@{ref}"\n'
        "    from google.colab import output\n"
        "    output.enable_custom_widget_manager()"
    )


def colab_url(url: str, ref: str, path: str) -> str:
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/{ref}/{path}"


def sync(ref: str | None = None) -> list[Path]:
    if ref is not None:
        if not re.fullmatch(r"[\w.\-/]+", ref):
            raise ValueError(f"ref: {ref!r} is not a branch or tag name")
        text = CONFIG.read_text()
        CONFIG.write_text(re.sub(r"^(repository:\n(?:  .*\n)*?  branch: *)\S+", lambda m: m.group(1) + ref, text, flags=re.MULTILINE))
    url, ref = repository()
    changed = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        text = setup_cell(nb, url, ref)
        if "".join(first["source"]) != text or first["metadata"].get("tags") != SETUP_TAGS:
            first["source"] = text.splitlines(keepends=True)
            first["metadata"]["tags"] = SETUP_TAGS
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path)
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = re.sub(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.\-]+/",
                 colab_url(url, ref, ""), text)
    if new != text:
        readme.write_text(new)
        changed.append(readme)
    return changed


if __name__ == "__main__":
    for path in sync(sys.argv[1] if len(sys.argv) > 1 else None):
        print("updated", path.relative_to(ROOT))
