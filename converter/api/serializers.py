"""Models as the vendor's JSON: plain functions, one per shape of the api2convert v2 API.

`base` is the absolute URL of the API root (".../v2"), which upload and download URLs hang from.
"""

import uuid
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.text import slugify

from converter.models import Job, JobInput, JobOutput, Preset, Team
from converter.options import BUILTIN_PRESETS, OPTIONS, OPTIONS_BY_NAME

TARGET, CATEGORY = "flac", "audio"

STATUS_INFO = {
    Job.Status.INCOMPLETE: "The job is waiting for inputs or to be started.",
    Job.Status.QUEUED: "The job is waiting for a free worker.",
    Job.Status.DOWNLOADING: "The inputs are being downloaded.",
    Job.Status.PROCESSING: "The files are being converted.",
    Job.Status.COMPLETED: "The job has finished successfully.",
    Job.Status.FAILED: "The job has failed.",
    Job.Status.CANCELED: "The job was canceled.",
}


def timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC (the vendor omits the zone; an explicit one is parsed by every client)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def conversion_id(job: Job) -> str:
    """Jobs hold one conversion; its id is derived, so it is stable without a table of its own."""
    return str(uuid.uuid5(job.pk, TARGET))


def upload_server(base: str) -> str:
    return f"{base}/dl"


def output_uri(base: str, output: JobOutput) -> str:
    return f"{base}/dl/output/{output.pk}"


def input_json(job_input: JobInput) -> dict:
    return {
        "id": str(job_input.pk),
        "type": job_input.type,
        "status": "ready",
        "source": job_input.source or job_input.filename,
        "filename": job_input.filename,
        "size": job_input.size,
        "checksum": job_input.checksum,
        "content_type": job_input.content_type,
        "created_at": timestamp(job_input.created_at),
        "modified_at": timestamp(job_input.created_at),
        "options": {},
        "parameters": {},
        "metadata": {},
    }


def output_json(output: JobOutput, base: str, job: Job) -> dict:
    metadata = {"duration": output.duration, "sample_rate": output.sample_rate,
                "bits_per_sample": output.bits_per_sample, "channels": output.channels}
    if output.source_input_id:
        inputs = [str(output.source_input_id)]
    else:  # a ZIP of every input's result
        inputs = [str(job_input.pk) for job_input in job.inputs.all()]
    return {
        "id": str(output.pk),
        "source": {"conversion": conversion_id(job), "input": inputs},
        "uri": output_uri(base, output),
        "filename": output.download_name,
        "size": output.size,
        "status": output.status,
        "content_type": output.content_type,
        "downloads_counter": output.downloads_counter,
        "checksum": output.checksum,
        "created_at": timestamp(output.created_at),
        "metadata": {name: value for name, value in metadata.items() if value is not None},
    }


def conversion_json(job: Job) -> dict:
    return {"id": conversion_id(job), "target": TARGET, "category": CATEGORY, "options": dict(job.options),
            "metadata": {}}


def job_json(job: Job, base: str) -> dict:
    return {
        "id": str(job.pk),
        "token": job.token,
        "type": "job",
        "status": {"code": job.status, "info": job.status_info or STATUS_INFO[job.status]},
        "errors": job.errors,
        "warnings": job.warnings,
        "process": job.status != Job.Status.INCOMPLETE,
        "fail_on_input_error": True,
        "fail_on_conversion_error": True,
        "conversion": [conversion_json(job)],
        "input": [input_json(job_input) for job_input in job.inputs.all()],
        "output": [output_json(output, base, job) for output in job.outputs.all()],
        "callback": job.callback,
        "notify_status": job.notify_status,
        "server": upload_server(base),
        "spent": job.spent,
        "created_at": timestamp(job.created_at),
        "modified_at": timestamp(job.modified_at),
        # Only hashes are kept; the vendor never returns passwords either.
        "download_passwords": [],
    }


def history_json(job: Job) -> list[dict]:
    """The status changes we can date from the job's own timestamps (the JobEvent rows are its
    log, worded for people)."""
    events = [(Job.Status.INCOMPLETE, job.created_at)]
    started = Job.Status.DOWNLOADING if job.downloads_first else Job.Status.PROCESSING
    if job.started_at:
        events.append((started, job.started_at))
    if job.is_terminal:
        events.append((job.status, job.finished_at or job.modified_at))
    elif job.status not in (Job.Status.INCOMPLETE, started):
        events.append((job.status, job.modified_at))
    return [{"id": f"{job.pk}-{index}", "status": status, "info": STATUS_INFO[status],
             "created_at": timestamp(moment)} for index, (status, moment) in enumerate(events, 1)]


def statuses_json() -> list[dict]:
    return [{"code": code, "info": info} for code, info in STATUS_INFO.items()]


def _option_json(name: str) -> dict:
    option = OPTIONS_BY_NAME[name]
    fields = {"type": option.type, "description": option.help, "default": option.default,
              "enum": list(option.enum) or None, "minimum": option.minimum, "maximum": option.maximum,
              "pattern": option.pattern, "example": option.example}
    return {key: value for key, value in fields.items() if value is not None}


def catalogue_matches(category: str | None, target: str | None) -> bool:
    """Whether the `category` and `target` filters of a catalogue (conversions, presets) keep ours."""
    return category in (None, "", CATEGORY) and (target or TARGET).lower() == TARGET


def conversions_json() -> list[dict]:
    """Our one conversion, its options described from converter/options.py."""
    return [{
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{CATEGORY}/{TARGET}")),
        "category": CATEGORY,
        "target": TARGET,
        "options": {option.name: _option_json(option.name) for option in OPTIONS},
    }]


def thread_json(job: Job) -> list[dict]:
    """A job runs in one worker at a time: one thread once a worker has started it. `status` is
    its progress in percent (the vendor does not document its integer codes), `info` the job's status."""
    if job.started_at is None:
        return []
    end = job.finished_at or timezone.now()
    return [{"hash": job.pk.hex, "status": round(job.progress), "info": job.status,
             "exec_time": max(0, round((end - job.started_at).total_seconds())),
             "created_at": timestamp(job.started_at), "modified_at": timestamp(job.modified_at)}]


# Presets: a built-in preset's id is derived from its name, a team preset's is its row's.
BUILTIN_PRESET_PREFIX = "builtin-"
BUILTIN_PRESET_IDS = {f"{BUILTIN_PRESET_PREFIX}{slugify(name)}": name for name in BUILTIN_PRESETS}


def builtin_preset_json(preset_id: str) -> dict:
    """A built-in preset: public (every team has it) and read-only."""
    name = BUILTIN_PRESET_IDS[preset_id]
    return {"id": preset_id, "name": name, "target": TARGET, "category": CATEGORY, "scope": "public",
            "options": dict(BUILTIN_PRESETS[name])}


def preset_json(preset: Preset) -> dict:
    """A team's preset: private to the team."""
    return {"id": str(preset.pk), "name": preset.name, "target": TARGET, "category": CATEGORY,
            "scope": "private", "options": dict(preset.options)}


def stats_json(rows: list[dict], names, *, by_month: bool = False) -> list[dict]:
    """Usage rows (services/usage.py, keyed by `day` or `month`) as the stats' items: `date`
    (YYYY-MM-DD, or YYYY-MM for a month) and the figures `names`."""
    items = []
    for row in rows:
        label = f"{row['month']:%Y-%m}" if by_month else row["day"].isoformat()
        figures = {name: round(row[name], 3) if isinstance(row[name], float) else row[name] for name in names}
        items.append({"date": label, **figures})
    return items


def contract_json(team: Team, uses: list, *, period_start: datetime, max_file_bytes: int | None,
                  retention_days: int) -> dict:
    """The team's quotas (services/quotas.py QuotaUse, this month's) as a contract: a self-hosted
    install sells nothing, so there are no credits; a limit of null means none."""
    renews = (period_start + timedelta(days=32)).replace(day=1)
    return {
        "id": f"team-{team.slug}",
        "type": "self-hosted",
        "name": f"Quotas of the team “{team.name}”",
        "status": "active",
        "period": {"start": timestamp(period_start), "renews_at": timestamp(renews)},
        # used: to a tenth, as the contract always gave it (the pages show audio to the second).
        "quotas": [{"name": use.label, "used": round(use.used, 1), "limit": use.limit, "unit": use.unit}
                   for use in uses],
        "max_file_size": max_file_bytes,
        "retention_days": retention_days,
        "credits": None,
    }
