"""convert(): inputs in, FLAC outputs (or a ZIP) and per-input failures out."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .encoding import encode_stream
from .errors import InputRejected
from .ffmpeg import FfmpegFailed, TimeLimitExceeded
from .filenames import base_name, safe_filename, unique_name
from .interface import EngineInput, InputFailure, ProducedOutput
from .packaging import Finished, deliver
from .probe import MediaInfo, NotMedia, probe
from .progress import JobProgress

TIME_LIMIT_BASE = 10.0  # seconds every input gets, on top of time_limit_factor x its duration
HEADER_ONLY_SIZE = 4096  # a recognised media file this small that ffmpeg cannot open has no audio
UNKNOWN_DURATION = 60.0  # assumed for progress shares and time limits when a file does not say


@dataclass
class Source:
    """Something decodable that came from one input (the file itself, later an archive member)."""

    input_index: int
    path: Path
    name: str  # original name, for the output's name
    media: MediaInfo

    @property
    def duration(self) -> float:
        return self.media.duration or UNKNOWN_DURATION

    @property
    def weight(self) -> float:
        """Share of the job's progress: its audio time, with a floor so short files still count."""
        return max(1.0, self.duration) * len(self.media.audio)


def convert(
    inputs: list[EngineInput],
    out_dir: Path,
    options: dict[str, Any],
    *,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    time_limit_factor: float = 2.0,
) -> tuple[list[ProducedOutput], list[InputFailure]]:
    """Convert every input to FLAC in out_dir, as `options` (already validated) ask.

    One failed input never stops the others. Raises ConversionCanceled (after killing
    ffmpeg and removing temp files) as soon as should_cancel() returns True.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=".engine-", dir=out_dir))
    progress = JobProgress(on_progress)
    failures: list[InputFailure] = []
    try:
        groups: dict[int, list[Source]] = {}
        for index, item in enumerate(inputs):
            try:
                groups[index] = _sources_of(index, item)
            except InputRejected as rejected:
                failures.append(InputFailure(index, rejected.code, rejected.message))
        total_weight = sum(source.weight for group in groups.values() for source in group) or 1.0

        finished: list[Finished] = []
        names: set[str] = set()
        for index, group in groups.items():
            progress.start_part(100.0 * sum(source.weight for source in group) / total_weight)
            limit = TIME_LIMIT_BASE + time_limit_factor * sum(source.duration for source in group)
            job = _InputJob(options, work_dir, names, progress, should_cancel, time.monotonic() + limit)
            try:
                finished += job.run(group)
            except InputRejected as rejected:
                failures.append(InputFailure(index, rejected.code, rejected.message))
            except TimeLimitExceeded:
                failures.append(InputFailure(
                    index, "TIME_LIMIT", f"The conversion took longer than its time limit ({limit:.0f} s)"))
            progress.finish_part()
        outputs = deliver(finished, out_dir, options)
        progress.finish()
        return outputs, sorted(failures, key=lambda failure: failure.input_index)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _sources_of(index: int, item: EngineInput) -> list[Source]:
    path = Path(item.path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputRejected("EMPTY_FILE", "The file is empty")
    known_media = _looks_like_media(path)
    try:
        media = probe(path)
    except NotMedia:
        if known_media and path.stat().st_size <= HEADER_ONLY_SIZE:
            raise InputRejected("NO_AUDIO_DATA", "The file holds only a header, no audio data") from None
        if known_media:
            raise InputRejected("CORRUPT_FILE", "The file is corrupt: its header cannot be read") from None
        raise InputRejected(
            "UNSUPPORTED_TYPE", "The file is not audio, video or text that can be converted") from None
    if not media.audio:
        if known_media or media.has_video:
            raise InputRejected("NO_AUDIO_STREAM", "The file contains no audio stream")
        # ffmpeg will call almost anything some format (random bytes pass as lyrics files).
        raise InputRejected("UNSUPPORTED_TYPE", "The file is not audio, video or text that can be converted")
    return [Source(index, path, item.name, media)]


def _looks_like_media(path: Path) -> bool:
    """Whether the file's magic bytes say audio or video (so an unreadable one is corrupt, not foreign)."""
    import filetype

    kind = filetype.guess(str(path))
    return kind is not None and kind.mime.split("/")[0] in ("audio", "video")


@dataclass
class _InputJob:
    """Encodes every audio stream of one input's sources; all or nothing for that input."""

    options: dict[str, Any]
    work_dir: Path
    names: set[str]  # download names already given in this job
    progress: JobProgress
    should_cancel: Callable[[], bool] | None
    deadline: float

    def run(self, group: list[Source]) -> list[Finished]:
        total = sum(source.weight for source in group)
        done = 0.0
        finished = []
        for source in group:
            streams = source.media.audio
            step = source.weight / len(streams)
            for number, stream in enumerate(streams, start=1):
                on_progress = self.progress.sub(done / total, (done + step) / total)
                destination = self.work_dir / f"{len(self.names)}.flac"
                filename = self._filename(source, number if len(streams) > 1 else None)
                try:
                    report = encode_stream(source.path, source.media, stream, self.options, destination,
                                           self.work_dir, on_progress=on_progress,
                                           should_cancel=self.should_cancel, deadline=self.deadline)
                except FfmpegFailed as failed:
                    raise InputRejected("CORRUPT_FILE", "The file could not be decoded: "
                                        + _last_line(failed.stderr)) from None
                finished.append(Finished(destination, filename, source.input_index, report))
                done += step
        return finished

    def _filename(self, source: Source, stream_number: int | None) -> str:
        base = safe_filename(self.options.get("output_filename") or "", "", fallback=base_name(source.name))
        if stream_number is not None:
            base = f"{base} (audio {stream_number})"
        return unique_name(safe_filename(base, ".flac"), self.names)


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"
