"""A job's log: structured log records tagged with the job, and the job's own event list.

Inside `job_logging(job)` every log record (from any module, the engine included) carries
job_id, team and engine, so JSON log lines can be filtered by job. `job_event` also keeps the
line with the job (JobEvent), for its page in the history.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

logger = logging.getLogger(__name__)

_current: ContextVar[dict | None] = ContextVar("job_log_context", default=None)


def job_fields(job) -> dict:
    return {"job_id": str(job.pk), "team": job.team_id, "engine": job.engine}


@contextmanager
def job_logging(job):
    token = _current.set(job_fields(job))
    try:
        yield
    finally:
        _current.reset(token)


class JobContextFilter(logging.Filter):
    """Adds the current job's fields to records that do not carry them already."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_current.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """The plain format; `%(job_prefix)s` is `[job <id>] ` on a job's records, else empty."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        job_id = getattr(record, "job_id", None)
        record.job_prefix = f"[job {job_id}] " if job_id else ""
        return super().formatMessage(record)


def job_event(job, message: str, level: int = logging.INFO) -> None:
    """Log one event of the job and keep it in the job's own log."""
    from converter.models import JobEvent  # models import nothing from here; avoid an app-loading cycle

    message = message[:500]
    JobEvent.objects.create(job_id=job.pk, level=logging.getLevelName(level).lower(), message=message)
    logger.log(level, message, extra=job_fields(job))


def job_status_event(job, status: str, info: str = "", errors=()) -> None:
    """The event for a status change, and one warning per error the job reports."""
    label = job.Status(status).label
    job_event(job, f"{label}: {info}" if info else label,
              logging.ERROR if status == job.Status.FAILED else logging.INFO)
    if not errors:
        return
    # An input's error names the input's file (its id_source is the input's id), as the job's card
    # does: "input: The file is empty" did not say which of the files. The worker prefetches inputs.
    names = {str(job_input.pk): job_input.filename for job_input in job.inputs.all()}
    for error in errors:
        subject = names.get(str(error.get("id_source"))) or error.get("source", "job")
        job_event(job, f"{subject}: {error.get('message', '')}", logging.WARNING)
