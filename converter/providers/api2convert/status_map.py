"""api2convert's job status codes onto ours (the same vocabulary, minus a few synonyms)."""

from converter.models import Job

_STATUS = {
    "created": Job.Status.INCOMPLETE,
    "incomplete": Job.Status.INCOMPLETE,
    "ready": Job.Status.QUEUED,
    "queued": Job.Status.QUEUED,
    "pending": Job.Status.QUEUED,
    "downloading": Job.Status.DOWNLOADING,
    "processing": Job.Status.PROCESSING,
    "running": Job.Status.PROCESSING,
    "completed": Job.Status.COMPLETED,
    "failed": Job.Status.FAILED,
    "canceled": Job.Status.CANCELED,
}


def local_status(remote_code: str) -> str | None:
    """Our status for a remote code; None for a code we do not know, which is never terminal."""
    return _STATUS.get(remote_code)


def is_terminal(remote_code: str) -> bool:
    return local_status(remote_code) in Job.TERMINAL


def job_messages(entries, id_source: str) -> list[dict]:
    """Remote errors or warnings in our shape {source, id_source, code, message}.

    Decoded leniently: entries may miss fields, and one documented example spells idSource.
    """
    messages = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        messages.append({
            "source": entry.get("source") or "conversion",
            "id_source": str(entry.get("id_source") or entry.get("idSource") or id_source),
            "code": entry.get("code"),
            "message": str(entry.get("message") or "api2convert reported an error without a message."),
        })
    return messages
