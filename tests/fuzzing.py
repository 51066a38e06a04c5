"""The Hypothesis settings the fuzz tests share (issue #16).

CI (``CI=true``) runs 1000 examples per test, derandomized: a landing is decided by the same inputs
every time, and a failure there reproduces locally with ``CI=true``. Local runs draw fresh random
inputs (``dev_examples`` per test), so exploring goes on between landings. ``GNNBOOK_FUZZ_EXAMPLES``
overrides both counts. :func:`judge` decides each input's outcome and counts it.
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

from hypothesis import HealthCheck, settings

IN_CI = os.environ.get("CI", "").lower() == "true"


def fuzz_settings(dev_examples: int) -> settings:
    """Settings for one fuzz test file: 1000 derandomized examples in CI, else ``dev_examples``
    random ones; no deadline (a first call compiles kernels) and no health checks (the strategies
    draw large, often-filtered inputs on purpose)."""
    examples = 1000 if IN_CI else dev_examples
    return settings(
        max_examples=int(os.environ.get("GNNBOOK_FUZZ_EXAMPLES", examples)),
        derandomize=IN_CI,
        database=None if IN_CI else settings.default.database,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


# --- outcomes -------------------------------------------------------------------------------------
# Every input ends in one of two allowed outcomes (a clear error, a correct result) or fails the
# test as one of the others. The counts per entry point go to _build/fuzz-counts.json.
OUTCOMES = ("tried", "clear error", "correct", "unclear error", "crash", "silent wrong")
COUNTS: dict[str, dict[str, int]] = collections.defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
COUNTS_FILE = Path(__file__).resolve().parents[1] / "_build" / "fuzz-counts.json"


def judge(entry: str, errors, call, check, after=None) -> None:
    """Call ``call()`` and count its outcome for ``entry``.

    ``errors``: regexes for an invalid input, one of which the ``ValueError``/``TypeError`` message
    must match (each usually names the argument made bad); empty for a valid input, whose result
    must pass ``check``. ``after()`` runs once the call ends, however it ends (e.g. closing
    figures). Any other outcome fails the test with what went wrong."""
    counts = COUNTS[entry]
    counts["tried"] += 1
    expected = list(errors) or "a result"
    try:
        result = call()
    except (ValueError, TypeError) as error:
        if errors and any(re.search(p, str(error)) for p in errors):
            counts["clear error"] += 1
            return
        counts["unclear error"] += 1
        raise AssertionError(f"{entry}: expected {expected}, got {error!r}") from error
    except Exception as error:  # anything else is a crash
        counts["crash"] += 1
        raise AssertionError(f"{entry}: crash on an input expecting {expected}") from error
    finally:
        if after is not None:
            after()
    if errors:
        counts["silent wrong"] += 1
        raise AssertionError(f"{entry}: returned {result!r} although {expected} should have raised")
    try:
        check(result)
    except AssertionError:
        counts["silent wrong"] += 1
        raise
    counts["correct"] += 1


def write_counts() -> None:
    """Merge this process's counts into ``_build/fuzz-counts.json`` (pytest-xdist workers each
    write theirs; an entry point runs in one worker) and print them (seen with ``-s``)."""
    if not COUNTS:
        return
    from filelock import FileLock

    COUNTS_FILE.parent.mkdir(exist_ok=True)
    with FileLock(str(COUNTS_FILE) + ".lock"):
        table = json.loads(COUNTS_FILE.read_text()) if COUNTS_FILE.exists() else {}
        table.update(COUNTS)
        COUNTS_FILE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print("\nfuzz counts (entry point: " + " / ".join(OUTCOMES) + ")")
    for entry, c in sorted(COUNTS.items()):
        print(f"  {entry:28s} " + " ".join(f"{c[k]:6d}" for k in OUTCOMES))
