"""An output's waveform for its card: measured once from the stored file, then kept with it.

Measured when a card first shows the output, not with its conversion: it costs a decoding of the
output (~0.4 s for 10 minutes of stereo), which a conversion and a batch of them should not pay
for files whose cards nobody opens (docs/performance.md). Up to WAVEFORM_IN_REQUEST_SECONDS of
audio it is measured in that request; a longer output is handed to a worker, once, and the card
asks again until it is there. A card that asks while another request measures waits the same way.
"""

import logging
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from converter.cache_turns import cache_turns
from converter.engine import Waveform, waveform
from converter.engine.ffmpeg import FfmpegFailed
from converter.models import JobOutput
from converter.storage import stored_stream

logger = logging.getLogger(__name__)

SLICES = 480  # one per pixel of the card's widest layout
HANDED_OVER_FOR = 600  # seconds a worker has to measure a long output before a card asks anew
MEASURED_HERE_WITHIN = 60  # the same for a request (~2.5 s at most), should it die mid-measurement


class WaveformPending(Exception):
    """A worker is measuring the output's waveform: ask again in a moment."""


def output_waveform(output: JobOutput, *, in_request: bool = True) -> Waveform | None:
    """The output's waveform, measured now if it has none yet. None for an output without one
    (not audio, expired, kept at api2convert, undecodable: remembered), or whose file could not
    be read just now (tried again on the next ask). In a request, a long output is handed to a
    worker instead: WaveformPending."""
    if output.waveform is not None:
        return _kept(output)
    measuring = f"waveform-measuring:{output.pk}"
    if in_request:
        to_worker = (output.duration or 0) > settings.WAVEFORM_IN_REQUEST_SECONDS
        if not measurement_claim(measuring, HANDED_OVER_FOR if to_worker else MEASURED_HERE_WITHIN):
            raise WaveformPending()
        if to_worker:
            from converter import tasks  # tasks import services

            # robust: unsent, the measurement is asked for again once its claim lapses.
            transaction.on_commit(lambda: tasks.output_waveform_measure.delay(str(output.pk)), robust=True)
            raise WaveformPending()
    try:
        # A measurement may have ended between this caller's read of the output and its claim.
        output.waveform = JobOutput.objects.filter(pk=output.pk).values_list("waveform", flat=True).first()
        if output.waveform is not None:
            return _kept(output)
        measured = _measure(output)
        output.waveform = measured.as_json() if measured else {}  # {}: none to be had, not tried again
        JobOutput.objects.filter(pk=output.pk).update(waveform=output.waveform)
        return measured
    except (OSError, BotoCoreError, ClientError) as exc:
        logger.warning("output %s: its file could not be read for its waveform: %s", output.pk, exc)
        return None
    finally:
        if in_request:
            cache.delete(measuring)


def _kept(output: JobOutput) -> Waveform | None:
    return Waveform.from_json(output.waveform) if output.waveform else None


def measurement_claim(key: str, seconds: int) -> bool:
    """Whether this caller measures: once, not per ask, so that cards opened together (a team's
    shared history) wait for one measurement. Taking turns, as the file cache's add is no
    atomic operation."""
    with cache_turns("waveforms"):
        return cache.add(key, True, seconds)


def _frames(output: JobOutput) -> int:
    """Samples per channel: STREAMINFO's count, else what the duration and rate make."""
    return output.report.get("samples") or round((output.duration or 0) * (output.sample_rate or 0))


def waveform_measurable(output: JobOutput) -> bool:
    """Whether the output can have a waveform: a stored audio file (not expired, not kept at
    api2convert) whose length and channels are known."""
    return (output.is_audio and output.status != JobOutput.Status.EXPIRED and not output.remote_uri
            and bool(output.file) and bool(_frames(output)) and bool(output.channels))


def _measure(output: JobOutput) -> Waveform | None:
    if not waveform_measurable(output):
        return None
    try:
        source = Path(output.file.path)  # ffmpeg reads the file itself
    except NotImplementedError:  # S3 and the like: a stream of its bytes
        source = stored_stream(output.file)
    try:
        return waveform(source, channels=output.channels, frames=_frames(output), slices=SLICES)
    except FfmpegFailed as exc:
        logger.warning("output %s: no waveform: %s", output.pk, exc)
        return None
    finally:
        if not isinstance(source, Path):
            source.close()


def output_waveform_measure(output_id) -> None:
    """A worker's part: measure a long output's waveform (tasks.py)."""
    output = JobOutput.objects.filter(pk=output_id).first()
    if output is not None:
        output_waveform(output, in_request=False)
