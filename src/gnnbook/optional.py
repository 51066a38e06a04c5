"""DGL and PyG are references the book is checked against, never requirements.

Colab's current torch cannot import DGL, so a chapter asks for them through :func:`optional_import`
and runs the gnnbook path, with a visible note, when they are missing. Packages that only some
functions need (scipy, tqdm: the ``[data]`` extra) are imported through :func:`require`.
"""

from __future__ import annotations

import importlib

WHY = {
    "dgl": "DGL 2.1.0, its newest Linux wheel, imports only with torch<=2.2.1 (install the book's "
    "pinned requirements.txt to run this cell)",
    "torch_geometric": "PyG is not installed (pip install torch_geometric)",
}


def optional_import(name: str, *, quiet: bool = False):
    """Import ``name`` or return ``None``; unless ``quiet``, say in one line
    why a cell will skip."""
    try:
        return importlib.import_module(name)
    except Exception as error:  # DGL raises more than ImportError on a torch it does not support
        if not quiet:
            reason = WHY.get(name, f"{type(error).__name__}: {error}")
            print(
                f"Note: {name} is not available here, so its comparison cells are skipped. "
                f"{reason}."
            )
        return None


def require(name: str, extra: str):
    """Import ``name``, which comes with gnnbook's optional ``extra``; when it is missing, raise an
    ``ImportError`` that says which ``pip install`` brings it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(
            f'{name} is not installed, and this function needs it: pip install "gnnbook[{extra}]" '
            f"(or pip install {name.split('.')[0]})"
        ) from error
