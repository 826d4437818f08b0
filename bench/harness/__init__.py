"""What the benchmarks share, by concern (the product never imports any of it):

- ``report``: the printed figures, the title, command and machine lines, the ``BENCH_JSON`` line
  bench/run_all.py collects, and the formatting of figures;
- ``stack``: the system under test (an embedded Redis, the product's processor, a web front: the
  product's or the naive baseline's, bench/baseline/), and whether the processor has caught up;
- ``workload``: the seeded load written straight into the input streams, and the probe cell;
- ``page``: a headless Chromium with the benchmark's observer, and what it measures in the page;
- ``poller``: a baseline viewer without a browser (its 1 s callback over HTTP);
- ``sio``: a product viewer without a browser (a Socket.IO client counting bytes).

The pieces the tests have too (a free port, the Redis server, waiting for a condition, HTTP, Chromium)
come from tests/support.py. Importing this package puts the repository root on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# What bench/run_all.py and tests/test_bench_smoke.py read as ``harness.X``.
from harness.report import RESULT_PREFIX, Report
from tests.support import ROOT

__all__ = ["RESULT_PREFIX", "ROOT", "Report"]
