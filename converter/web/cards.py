"""What a job and its outputs look like on a page: the facts worth showing, formatted once."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.timesince import timesince

from converter.models import Job, JobInput, JobOutput
from converter.options import OPTIONS_BY_NAME
from converter.selectors import job_version
from converter.services.waveforms import waveform_measurable
from converter.web.polls import poll_token
from converter.web.unlocks import is_unlocked
from converter.web.waveform_shape import WaveformShape, waveform_shape

JOB_FRAGMENT = "converter/job_detail.html#job"  # a job's card, alone: polled, cancelled, unlocked

_CHANNELS = {1: "Mono", 2: "Stereo"}

# Labels and units of the engine's report keys; any other key is shown with its name humanised.
_REPORT_LABELS = {
    "duration": ("Duration", ""),
    "samples": ("Samples", ""),
    "sample_rate": ("Sample rate", ""),
    "bits_per_sample": ("Bit depth", "bit"),
    "channels": ("Channels", ""),
    "size": ("Size", ""),
    "compression_ratio": ("Compression ratio", ""),
    "md5": ("MD5 of the samples", ""),
    "integrated_lufs_before": ("Loudness before", "LUFS"),
    "integrated_lufs_after": ("Loudness after", "LUFS"),
    "true_peak_dbtp_before": ("True peak before", "dBTP"),
    "true_peak_dbtp_after": ("True peak after", "dBTP"),
    "loudness_range_lu_before": ("Loudness range before", "LU"),
    "loudness_range_lu_after": ("Loudness range after", "LU"),
    "normalization": ("Loudness adjustment", ""),
    "members": ("Files in the ZIP", ""),
    "speech_language": ("Speech language", ""),
    "dither": ("Dither", ""),
}

# The engine's normalisation methods (engine/loudness.py Plan.method), in a broadcaster's words.
_NORMALIZATION = {
    "gain": "Whole file turned up or down evenly",
    "measured gain": "Whole file turned up or down evenly (levels measured on the result)",
    "limited gain": "Turned up or down evenly, peaks limited",
    "dynamic": "Loudness range compressed, peaks limited",
}

# Hex digest lengths: ours is SHA-256; an api2convert output's is the vendor's (SHA-1 in its examples).
_HASHES = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def _member_text(member: dict) -> str:
    length = duration_text(member.get("duration"))
    return f"{member['filename']} ({length})" if length else member["filename"]


def _value_text(key: str, value) -> str:
    if key == "duration":
        return duration_text(value)
    if key == "size":
        return filesizeformat(value)
    if key == "sample_rate":
        return f"{value:,} Hz"
    if key == "channels":
        return _CHANNELS.get(value, f"{value} channels")
    if key == "speech_language":
        return OPTIONS_BY_NAME["language_tts"].value_label(value)
    if key == "normalization":
        return _NORMALIZATION.get(value, str(value))
    if isinstance(value, dict):
        return ", ".join(f"{name} {_value_text(name, item)}" for name, item in value.items())
    if key == "members":  # a ZIP's files, each with a report of its own: named, with their length
        return "; ".join(_member_text(member) for member in value)
    if isinstance(value, list):  # the engine's warnings
        return "; ".join(_value_text(key, item) for item in value)
    unit = _REPORT_LABELS.get(key, ("", ""))[1]
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0")
        # A level keeps a decimal (-23.0 LUFS beside -25.7 LUFS, not -23); a ratio need not.
        text = text + "0" if unit and text.endswith(".") else text.rstrip(".")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text


@dataclass
class OutputCard:
    output: JobOutput
    unlocked: bool
    unlock_error: str = ""  # why the password just given on the card did not open it

    @property
    def facts(self) -> list[str]:
        output = self.output
        facts = [filesizeformat(output.size), duration_text(output.duration)]
        if output.sample_rate:
            facts.append(f"{output.sample_rate / 1000:g} kHz")
        if output.bits_per_sample:
            facts.append(f"{output.bits_per_sample}-bit")
        if output.channels:
            facts.append(_CHANNELS.get(output.channels, f"{output.channels} channels"))
        return [fact for fact in facts if fact]

    @property
    def waveform(self) -> WaveformShape | None:
        """The waveform, if it has been measured (the card then draws it at once)."""
        if not self.output.waveform:
            return None
        return waveform_shape(self.output, self.output.waveform["peaks"], self.output.waveform["rms"])

    @property
    def waveform_to_measure(self) -> bool:
        """A waveform not measured yet, which the card asks for when it comes into view."""
        return self.output.waveform is None and waveform_measurable(self.output)

    @property
    def spoken(self) -> bool:
        """Whether the output, or a file in its ZIP, was spoken from text."""
        report = self.output.report
        return "speech_language" in report or any("speech_language" in m for m in report.get("members", ()))

    @property
    def report(self) -> list[tuple[str, str]]:
        facts = [
            (_REPORT_LABELS.get(key, (key.replace("_", " ").capitalize(),))[0], _value_text(key, value))
            for key, value in self.output.report.items()
            if value not in (None, "", {}, [])
        ]
        checksum = self.output.checksum
        if checksum:  # the file's fixity, for an archive's records
            facts.append((f"{_HASHES.get(len(checksum), 'Checksum')} of the file", checksum))
        return facts


@dataclass
class JobCard:
    job: Job
    inputs: list[JobInput]
    outputs: list[OutputCard] = field(default_factory=list)
    session_key: str = ""  # what the polls' token is bound to (web/polls.py)

    @property
    def title(self) -> str:
        names = [job_input.filename for job_input in self.inputs]
        if len(names) > 3:
            return f"{', '.join(names[:2])} and {len(names) - 2} more"
        return ", ".join(names) or "Job"

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(input file name or "", message) for each error, named after the input it concerns."""
        names = {str(job_input.pk): job_input.filename for job_input in self.inputs}
        return [(names.get(str(error.get("id_source")), ""), error.get("message", ""))
                for error in self.job.errors]

    @property
    def partial_failure(self) -> str:
        """"2 of 5 inputs failed" for a completed job that lost some of its inputs, else ""."""
        if self.job.status != Job.Status.COMPLETED:
            return ""
        ids = {str(job_input.pk) for job_input in self.inputs}
        failed = len({str(error.get("id_source")) for error in self.job.errors} & ids)
        return f"{failed} of {len(ids)} inputs failed" if failed else ""

    @property
    def age(self) -> str:
        """"just now" rather than timesince's "0 minutes ago"."""
        if timezone.now() - self.job.created_at < timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.job.created_at)} ago"

    @property
    def options(self) -> list[tuple[str, str]]:
        """The job's options by their labels in the schema; the speech language only where it
        can have applied (the form always sends one): not once every result is audio from audio."""
        rows = []
        for name, value in self.job.options.items():
            if name == "language_tts" and self.outputs and not any(card.spoken for card in self.outputs):
                continue
            option = OPTIONS_BY_NAME.get(name)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif option is not None:
                value = option.value_label(value)
            rows.append((option.label if option else name, str(value)))
        if self.job.has_password:
            rows.append((OPTIONS_BY_NAME["download_password"].label, "set"))
        return rows

    @property
    def poll_query(self) -> str:
        """What the fragment's polls send back: its version and token (web/polls.py answers 204
        while the version is current)."""
        return urlencode({"v": job_version(self.job), "t": poll_token(self.job, self.session_key)})


def job_card(request: HttpRequest, job: Job, *, unlock_errors: dict | None = None) -> JobCard:
    """unlock_errors: {output id: message} for a password refused on the card."""
    outputs = [OutputCard(output, is_unlocked(request, output), (unlock_errors or {}).get(output.pk, ""))
               for output in job.outputs.all()]
    return JobCard(job, list(job.inputs.all()), outputs, request.session.session_key or "")
