"""How many examples a Hypothesis test draws: its own budget in the default run (deterministic, the
one CI runs), and `EXPLORE_FACTOR` times as many under `--hypothesis-profile=explore`.

A budget is written as `@settings(max_examples=examples(200))`. It is read when the test module is
imported, after pytest has loaded the profile the command line asked for.
"""

from __future__ import annotations

import hypothesis

DETERMINISTIC = "deterministic"  # the profile of every run that names none (tests/conftest.py)
EXPLORE = "explore"
EXPLORE_FACTOR = 10


def examples(budget: int) -> int:
    if hypothesis.settings.get_current_profile_name() == EXPLORE:
        return budget * EXPLORE_FACTOR
    return budget
