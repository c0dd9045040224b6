"""The production settings, with static files collected into the benchmark's own directory.

Benchmarks serve the app exactly as production does (DEBUG off, whitenoise's manifest
storage), which needs `collectstatic` first. Collecting into the shared `staticfiles/`
of the working tree could race with another run, so STATIC_ROOT comes from
BENCH_STATIC_ROOT; nothing else differs from tracker/settings.py.
"""

import os

from tracker.settings import *

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
