"""Multipart uploads: parsed as the body streams in, files written straight to temporary files,
the app's limits enforced on the way.

Django's own MultiPartParser parses about 790 MiB/s here (its LazyStream un-reads and re-slices
every chunk), well below what gunicorn can hand over (~2.5 GiB/s to a sink). The `multipart`
package's PushMultipartParser (Bottle's) finds the boundary with bytes.find and passes the body
on as the same bytes objects, without copies: ~5 GiB/s in isolation (docs/performance.md). It
takes over through Django's hook for exactly this, FileUploadHandler.handle_raw_input, so
request.POST and request.FILES look as Django would have built them, for the form, the API and
the test client alike.

Under gunicorn, most of a large file's bytes skip Python altogether: converter/upload_splice.py
moves them from the socket into the file inside the kernel, and the parser goes on after them.

A file past MAX_UPLOAD_BYTES, or more files than MAX_UPLOAD_FILES, refuses the upload: nothing
more is written, the temporary files are deleted, the remaining body is still parsed for its
fields (the form comes back with the options as they were sent) and the reason is left on the
request for the view (upload_refused). Django's limits on fields and files
(DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FILES) raise
its own exceptions, answered with 400.
"""

import logging
import queue
import threading

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from converter.upload_splice import SocketBody, write_all

logger = logging.getLogger(__name__)

# gunicorn reads ahead up to 1 MiB per recv() and copies what it holds back on every read: reads
# smaller than that cost more copying (and more parser calls) per byte.
CHUNK = 1024 * 1024


# Chunks waiting for the writer thread: bounds the memory an upload holds (2 MiB; 4 measured no
# faster, and the workers grew by up to 47 MiB instead of ~31 during a 1 GiB upload).
QUEUED = 2

# A file is spliced (upload_splice.py) only while this much of the body is still to come: below
# it, the pipe and the mapping cost more than they save.
SPLICE_AT_LEAST = 4 * CHUNK


class _FileWriter:
    """An uploaded file whose bytes a thread of its own writes.

    Copying a chunk into the page cache costs about as much CPU as gunicorn's whole read of it
    (~0.3 ms per MiB each, measured with thread_time); in a second thread the copy overlaps the
    reading and parsing of the next chunk instead of following it (~1.4x the form's upload
    throughput on two cores, docs/performance.md). os.write releases the GIL while it copies.
    """

    def __init__(self, upload: TemporaryUploadedFile):
        self.upload = upload
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        self.error: OSError | None = None
        self.thread = threading.Thread(target=self._write_all, args=(upload.file.fileno(),),
                                       name="upload-writer", daemon=True)
        self.thread.start()

    def _write_all(self, fd: int) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:  # after an error, drain the queue so that write() never blocks
                try:
                    write_all(fd, chunk)
                except OSError as exc:  # e.g. the disk is full: raised in the request's thread
                    self.error = exc
            self.queue.task_done()

    def write(self, chunk: bytes) -> None:
        if self.error:
            raise self.error
        self.queue.put(chunk)

    def splice(self, source: SocketBody, limit: int, delimiter: bytes) -> tuple[int, bytes]:
        """Move the next bytes of the body into the file, in the kernel (SocketBody.splice_into
        says what comes back), once the chunks queued before them are written."""
        self.queue.join()
        if self.error:
            raise self.error
        return source.splice_into(self.upload.file.fileno(), limit, delimiter)

    def finish(self, size: int) -> TemporaryUploadedFile:
        """The complete file, positioned at its start."""
        self.stop()
        if self.error:
            self.upload.close()
            raise self.error
        self.upload.size = size
        self.upload.seek(0)
        return self.upload

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def discard(self) -> None:
        self.stop()
        self.upload.close()  # closing a temporary upload deletes it


def _sanitize(filename: str) -> str | None:
    # Django's rules (no directories, no "." or "..", printable characters), which use no state.
    return MultiPartParser.sanitize_file_name(None, filename)


class _Body:
    """What one multipart body holds, built as its parser's events arrive."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self.post = QueryDict(mutable=True, encoding=encoding)
        self.files = MultiValueDict()
        self.refused: str | None = None
        self.fields = self.field_bytes = self.file_count = 0
        self.segment: MultipartSegment | None = None
        self.value: list[bytes] | None = None  # the current field's bytes
        self.file: _FileWriter | None = None  # the current file, while it is written
        self.file_size = 0  # of the current file so far, spliced bytes included

    def segment_start(self, segment: MultipartSegment) -> None:
        self.segment = segment
        if segment.filename is None:
            self.fields += 1
            if settings.DATA_UPLOAD_MAX_NUMBER_FIELDS is not None \
                    and self.fields > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
                raise TooManyFieldsSent("The number of fields exceeded DATA_UPLOAD_MAX_NUMBER_FIELDS.")
            self.value = []
            return
        name = _sanitize(segment.filename)
        if not name:  # an empty file input: Django leaves it out too
            return
        self.file_count += 1
        self.file_size = 0
        if settings.DATA_UPLOAD_MAX_NUMBER_FILES is not None \
                and self.file_count > settings.DATA_UPLOAD_MAX_NUMBER_FILES:
            raise TooManyFilesSent("The number of files exceeded DATA_UPLOAD_MAX_NUMBER_FILES.")
        if self.file_count > settings.MAX_UPLOAD_FILES:
            self.refuse(f"At most {settings.MAX_UPLOAD_FILES} files per job.")
        if self.refused is None:
            self.file = _FileWriter(TemporaryUploadedFile(
                name, segment.content_type or "application/octet-stream", 0, segment.charset))

    def data(self, chunk: bytes) -> None:
        if self.value is not None:
            self.field_bytes += len(chunk)
            if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None \
                    and self.field_bytes > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise RequestDataTooBig("The fields exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
            self.value.append(chunk)
        elif self.file is not None:
            self.file_size += len(chunk)
            if self.file_size > settings.MAX_UPLOAD_BYTES:
                self.refuse(f"A file is larger than the limit of {settings.MAX_UPLOAD_BYTES // 1024**2} MiB.")
            else:
                self.file.write(chunk)

    def segment_end(self) -> None:
        if self.value is not None:
            charset = self.segment.charset or self.encoding
            self.post.appendlist(self.segment.name, b"".join(self.value).decode(charset, "replace"))
            self.value = None
        elif self.file is not None:
            writer, self.file = self.file, None
            self.files.appendlist(self.segment.name, writer.finish(self.file_size))

    def refuse(self, message: str) -> None:
        """Keep parsing for the fields, but write and keep no file."""
        self.refused = self.refused or message
        self.close_files()

    def close_files(self) -> None:
        """Delete every temporary file (closing one removes it)."""
        if self.file is not None:
            self.file.discard()
        for _, uploads in self.files.lists():
            for upload in uploads:
                upload.close()
        self.file, self.files = None, MultiValueDict()


def parse(request: HttpRequest, stream, length: int, boundary: bytes, encoding: str):
    """(POST, FILES) of a multipart body of `length` bytes read from `stream`."""
    body = _Body(encoding)
    parser = PushMultipartParser(boundary, length)
    socket_body = SocketBody.of(getattr(request, "META", {}))
    delimiter = b"\r\n--" + boundary
    remaining = length

    def feed(chunk: bytes) -> None:
        for event in parser.parse(chunk):
            if isinstance(event, MultipartSegment):
                body.segment_start(event)
            elif event is None:
                body.segment_end()
            else:
                body.data(event)

    try:
        while remaining:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                raise MultiPartParserError("The body ended before its Content-Length.")
            remaining -= len(chunk)
            feed(chunk)
            limit = min(remaining, settings.MAX_UPLOAD_BYTES - body.file_size)
            if socket_body and body.file is not None and limit >= SPLICE_AT_LEAST \
                    and _parser_holds_nothing(chunk, delimiter):
                taken, tail = body.file.splice(socket_body, limit, delimiter)
                if not taken:  # the client has gone, or the file cannot be mapped: read on in Python
                    socket_body = None
                remaining -= taken
                spliced = taken - len(tail)
                body.file_size += spliced
                logger.debug("upload: %d bytes spliced into %s", spliced, body.file.upload.name)
                if tail:
                    feed(tail)
        parser.close()
    except MultipartError as exc:
        body.close_files()
        raise MultiPartParserError(f"Invalid multipart body: {exc}") from exc
    except TimeoutError as exc:  # the server's read timeout (config/gunicorn.conf.py): a 400, not a 500
        body.close_files()
        raise MultiPartParserError("The upload stalled: nothing arrived for too long.") from exc
    except BaseException:
        body.close_files()
        raise
    if body.refused:
        request.upload_refused = body.refused
    body.post._mutable = False
    return body.post, body.files


def _parser_holds_nothing(chunk: bytes, delimiter: bytes) -> bool:
    """Whether the parser, inside a file, has passed on all of `chunk` as data: it keeps back only
    what may be a delimiter (which starts with CR) and the two bytes after one. The next bytes of
    the body may then go to the file without passing through it."""
    return len(chunk) > len(delimiter) + 2 and b"\r" not in chunk[-len(delimiter) - 2:]


class StreamingUploadHandler(FileUploadHandler):
    """The only upload handler (FILE_UPLOAD_HANDLERS): it parses the whole body itself."""

    chunk_size = CHUNK

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        return parse(self.request, input_data, content_length, boundary, encoding or settings.DEFAULT_CHARSET)


def upload_refused(request: HttpRequest) -> str | None:
    """Why the upload was refused, or None. Reading request.POST parses the body first."""
    request.POST  # noqa: B018 - parse now, so that the limits have been checked
    return getattr(request, "upload_refused", None)
