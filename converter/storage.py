"""Reading stored files a piece at a time, whatever the storage (local disk or S3-compatible).

django-storages' S3File downloads the whole object before its first byte can be read; a
download, a Range request or a worker's copy of an input only needs a stream of the bytes.
"""

from storages.backends.s3 import S3Storage


def stored_stream(file, first: int = 0, last: int | None = None):
    """A readable stream (read(n), close()) of bytes first..last, inclusive, of a stored file."""
    storage = file.storage
    if isinstance(storage, S3Storage):
        whole = first == 0 and last is None
        request = {} if whole else {"Range": f"bytes={first}-{'' if last is None else last}"}
        return storage.open(file.name).obj.get(**request)["Body"]
    stream = storage.open(file.name, "rb")
    stream.seek(first)
    return stream
