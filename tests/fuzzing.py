"""The Hypothesis settings the fuzz tests share (issue #16).

CI (``CI=true``) runs 1000 examples per test, derandomized: a landing is decided by the same inputs
every time, and a failure there reproduces locally with ``CI=true``. Local runs draw fresh random
inputs (``dev_examples`` per test), so exploring goes on between landings. ``GNNBOOK_FUZZ_EXAMPLES``
overrides both counts.
"""

from __future__ import annotations

import os

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
