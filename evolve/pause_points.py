"""Named points where a test can stop a run, to kill it there deterministically (kill -9 tests of resume).

`STITCHC_TEST_PAUSE_AT=NAME` (or `NAME:COUNT`, the COUNT-th time the point is reached) makes the run print
`stitchc: paused at NAME` on stderr and sleep until killed. Unset (always, outside tests), a point costs one
dictionary lookup. Points: `fit` (before the stitches are fitted), `evaluation` (after an evaluation is
committed to the store), `export` (the new run folder is half written aside), `swap` (the old folder has been
moved aside, the new one not yet moved in).
"""

from __future__ import annotations

import os
import sys
import time

VARIABLE = "STITCHC_TEST_PAUSE_AT"
_reached: dict[str, int] = {}


def pause_point(name: str) -> None:
    """Sleeps forever when the environment names this point (and this is the named passage through it)."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(count or 1):
        print(f"stitchc: paused at {wanted}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)
