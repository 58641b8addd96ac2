"""Upload limits enforced while the body streams in, not after it is on disk.

The first of FILE_UPLOAD_HANDLERS: it sees every chunk before the temporary-file handler
writes it, and stops the upload (StopUpload; Django then closes and deletes the temporary
file) once a file passes MAX_UPLOAD_BYTES or the files pass MAX_UPLOAD_FILES. The reason is
left on the request for the view to show.
"""

from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

# Django's multipart parser reads the body in the smallest chunk_size of the handlers (64 KiB
# by default). 1 MiB: gunicorn reads ahead up to 1 MiB and copies what it holds back on every
# read, so when the body arrives faster than it is parsed 64 KiB reads cost ~16 times the copying;
# the parser's per-chunk work shrinks too (1.7x the form's upload throughput, bench/uploads.py).
# The limit below still stops a file within 1 MiB of it.
CHUNK = 1024 * 1024


class LargeChunkMemoryFileUploadHandler(MemoryFileUploadHandler):
    chunk_size = CHUNK


class LargeChunkTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    chunk_size = CHUNK


class LimitedUploadHandler(FileUploadHandler):
    chunk_size = CHUNK

    def __init__(self, request=None):
        super().__init__(request)
        self.files = 0

    def _refuse(self, message: str):
        self.request.upload_refused = message
        # The rest of the body is read and dropped (never stored), so the client gets the answer.
        raise StopUpload(connection_reset=False)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.files += 1
        if self.files > settings.MAX_UPLOAD_FILES:
            self._refuse(f"At most {settings.MAX_UPLOAD_FILES} files per job.")

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.MAX_UPLOAD_BYTES:
            self._refuse(f"A file is larger than the limit of {settings.MAX_UPLOAD_BYTES // 1024**2} MiB.")
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file


def upload_refused(request: HttpRequest) -> str | None:
    """Why the upload was stopped, or None. Reading request.POST parses the body first."""
    request.POST  # noqa: B018 - parse now, so that the handler has run
    return getattr(request, "upload_refused", None)
