"""convert(): audio, video, text, documents and archives in; FLAC outputs (or a ZIP) and failures out."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .archives import MAX_DEPTH, Budget, BudgetExceeded, unpack
from .detect import ARCHIVES, DOCUMENTS, detect
from .documents import Speakable, speakable_of
from .encoding import encode_stream
from .errors import ConversionCanceled, InputRejected
from .ffmpeg import FfmpegFailed, TimeLimitExceeded
from .filenames import base_name, safe_filename, unique_name
from .interface import EngineInput, InputFailure, ProducedOutput
from .packaging import Finished, deliver
from .probe import MediaInfo, NotMedia, probe
from .progress import JobProgress
from .speech import DEFAULT_LOCALE, SpeechFailed, estimated_duration, synthesize

TIME_LIMIT_BASE = 10.0  # seconds every source gets, on top of time_limit_factor x its duration
HEADER_ONLY_SIZE = 4096  # a recognised media file this small that ffmpeg cannot open has no audio
UNKNOWN_DURATION = 60.0  # assumed for progress shares and time limits when a file does not say
SPEECH_SHARE = 0.5  # of a text's progress: synthesis, then encoding


@dataclass
class Source:
    """Something to convert that came from one input: the file itself, or a member of it if an archive."""

    input_index: int
    path: Path
    name: str  # original name, for the output's name
    media: MediaInfo | None  # None for text until it is spoken
    member: str | None = None  # its path inside the uploaded archive, for messages
    text: Speakable | None = None  # to speak

    @property
    def duration(self) -> float:
        if self.text is not None:
            return estimated_duration(self.text.paragraphs) + (self.text.starts or [0.0])[-1]
        return self.media.duration or UNKNOWN_DURATION

    @property
    def weight(self) -> float:
        """Share of the job's progress: its audio time, with a floor so short files still count."""
        return max(1.0, self.duration) * (len(self.media.audio) if self.media else 1)


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

    Audio and video give their audio streams, text and documents are spoken, archives give
    their members. One failed input (or member) never stops the others. Raises
    ConversionCanceled (after killing ffmpeg and removing temp files) as soon as
    should_cancel() returns True.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=".engine-", dir=out_dir))
    progress = JobProgress(on_progress)
    try:
        finder = _SourceFinder(work_dir)
        sources = finder.sources(inputs)
        failures = finder.failures
        total_weight = sum(source.weight for source in sources) or 1.0

        finished: list[Finished] = []
        names: set[str] = set()
        for source in sources:
            progress.start_part(100.0 * source.weight / total_weight)
            limit = TIME_LIMIT_BASE + time_limit_factor * source.duration
            job = _SourceJob(options, work_dir, names, progress, should_cancel, time.monotonic() + limit)
            try:
                finished += job.run(source)
            except InputRejected as rejected:
                failures.append(_failure(source.input_index, source.member, rejected))
            except TimeLimitExceeded:
                failures.append(_failure(source.input_index, source.member, InputRejected(
                    "TIME_LIMIT", f"The conversion took longer than its time limit ({limit:.0f} s)")))
            progress.finish_part()
        outputs = deliver(finished, out_dir, options)
        progress.finish()
        return outputs, sorted(failures, key=lambda failure: failure.input_index)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _failure(index: int, member: str | None, rejected: InputRejected) -> InputFailure:
    return InputFailure(index, rejected.code, f"{member}: {rejected.message}" if member else rejected.message)


@dataclass
class _SourceFinder:
    """Turns inputs into sources: unpacks archives, reads documents' text, probes media."""

    work_dir: Path
    failures: list[InputFailure] = field(default_factory=list)

    def sources(self, inputs: list[EngineInput]) -> list[Source]:
        sources = []
        for index, item in enumerate(inputs):
            try:
                sources += self._of(index, item.password, Path(item.path), item.name, None, 0, None)
            except InputRejected as rejected:
                self.failures.append(_failure(index, None, rejected))
        return sources

    def _of(self, index: int, password: str, path: Path, name: str, member: str | None, depth: int,
            budget: Budget | None) -> list[Source]:
        """`password` opens whatever in this input is protected: its archives' members, its PDFs."""
        if not path.is_file() or path.stat().st_size == 0:
            raise InputRejected("EMPTY_FILE", "The file is empty")
        kind = detect(path)
        if kind in ARCHIVES:
            return self._members(index, password, path, name, kind, member, depth, budget or Budget())
        if kind in DOCUMENTS:
            text = speakable_of(path, kind, password)
            if not text.paragraphs:
                raise InputRejected("NO_TEXT", "The document contains no text to speak")
            return [Source(index, path, name, None, member, text)]
        return [Source(index, path, name, _media_of(path), member)]

    def _members(self, index: int, password: str, path: Path, name: str, kind: str, member: str | None,
                 depth: int, budget: Budget) -> list[Source]:
        if depth >= MAX_DEPTH:
            raise InputRejected("ARCHIVE_TOO_DEEP",
                                f"Archives nested more than {MAX_DEPTH} deep are not unpacked")
        into = Path(tempfile.mkdtemp(prefix="archive-", dir=self.work_dir))
        sources = []
        for entry in unpack(path, kind, name, into, budget, password):
            label = f"{member}/{entry.name}" if member else entry.name
            try:
                if entry.problem is not None:
                    raise entry.problem
                sources += self._of(index, password, entry.path, entry.name, label, depth + 1, budget)
            except BudgetExceeded:
                raise
            except InputRejected as rejected:
                self.failures.append(_failure(index, label, rejected))
        return sources


def _media_of(path: Path) -> MediaInfo:
    try:
        media = probe(path)
    except NotMedia:
        known_media = _looks_like_media(path)
        if known_media and path.stat().st_size <= HEADER_ONLY_SIZE:
            raise InputRejected("NO_AUDIO_DATA", "The file holds only a header, no audio data") from None
        if known_media:
            raise InputRejected("CORRUPT_FILE", "The file is corrupt: its header cannot be read") from None
        raise InputRejected(
            "UNSUPPORTED_TYPE", "The file is not audio, video or text that can be converted") from None
    if not media.audio:
        if media.has_video or _looks_like_media(path):
            raise InputRejected("NO_AUDIO_STREAM", "The file contains no audio stream")
        # ffmpeg will call almost anything some format (random bytes pass as lyrics files).
        raise InputRejected("UNSUPPORTED_TYPE", "The file is not audio, video or text that can be converted")
    if any(stream.codec == "none" for stream in media.audio):
        # ffmpeg opened the container but knows no decoder (a WAV header saying 0 bits per sample...).
        raise InputRejected("CORRUPT_FILE", "The file is corrupt: its header describes audio that cannot "
                            "be decoded")
    return media


def _looks_like_media(path: Path) -> bool:
    """Whether the file's magic bytes say audio or video (so an unreadable one is corrupt, not foreign)."""
    import filetype

    kind = filetype.guess(str(path))
    return kind is not None and kind.mime.split("/")[0] in ("audio", "video")


@dataclass
class _SourceJob:
    """Encodes every audio stream of one source (speaking it first if text); all or nothing."""

    options: dict[str, Any]
    work_dir: Path
    names: set[str]  # download names already given in this job
    progress: JobProgress
    should_cancel: Callable[[], bool] | None
    deadline: float

    def run(self, source: Source) -> list[Finished]:
        done = 0.0
        spoken_in = None
        if source.text is not None:
            spoken_in = self.options.get("language_tts") or DEFAULT_LOCALE
            source = self._speak(source)
            done = SPEECH_SHARE
        streams = source.media.audio
        step = (1.0 - done) / len(streams)
        finished = []
        for number, stream in enumerate(streams, start=1):
            on_progress = self.progress.sub(done, done + step)
            destination = self.work_dir / f"{len(self.names)}.flac"
            filename = self._filename(source, number if len(streams) > 1 else None)
            try:
                report = encode_stream(source.path, source.media, stream, self.options, destination,
                                       self.work_dir, on_progress=on_progress,
                                       should_cancel=self.should_cancel, deadline=self.deadline)
            except FfmpegFailed as failed:
                raise InputRejected("CORRUPT_FILE", "The file could not be decoded: "
                                    + _last_line(failed.stderr)) from None
            if spoken_in:
                report["speech_language"] = spoken_in
            finished.append(Finished(destination, filename, source.input_index, report))
            done += step
        return finished

    def _speak(self, source: Source) -> Source:
        """The text spoken into a WAV, which then goes through the same encoding as any audio."""
        handle, name = tempfile.mkstemp(suffix=".wav", dir=self.work_dir)
        os.close(handle)
        on_progress = self.progress.sub(0.0, SPEECH_SHARE)

        def between_chunks(fraction: float) -> None:
            if self.should_cancel is not None and self.should_cancel():
                raise ConversionCanceled()
            if time.monotonic() > self.deadline:
                raise TimeLimitExceeded()
            on_progress(fraction)

        try:
            synthesize(source.text.paragraphs, self.options.get("language_tts"), Path(name), between_chunks,
                       source.text.starts)
        except SpeechFailed as failed:
            raise InputRejected("SPEECH_FAILED", f"The text could not be spoken: {failed}") from None
        return replace(source, path=Path(name), media=probe(Path(name)), text=None)

    def _filename(self, source: Source, stream_number: int | None) -> str:
        base = safe_filename(self.options.get("output_filename") or "", "", fallback=base_name(source.name))
        if stream_number is not None:
            base = f"{base} (audio {stream_number})"
        return unique_name(safe_filename(base, ".flac"), self.names)


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg failed"
