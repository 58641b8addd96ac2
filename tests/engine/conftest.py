"""Engine tests need no Django: media is made once per session (per xdist worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def wav16(media_dir) -> Path:
    return media.tone(media_dir / "tone16.wav", seconds=3.0)


@pytest.fixture(scope="session")
def wav24(media_dir) -> Path:
    return media.tone(media_dir / "tone24.wav", seconds=3.0, rate=48000, codec="pcm_s24le")


@pytest.fixture
def out_dir(tmp_path) -> Path:
    return tmp_path / "out"
