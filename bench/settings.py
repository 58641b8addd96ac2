"""The app's settings, with the benches' baseline endpoints added to its URLs (bench/urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
