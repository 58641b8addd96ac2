"""Reading stored files a piece at a time, whatever the storage (local disk or S3-compatible).

django-storages' S3File downloads the whole object before its first byte can be read; a
download, a Range request or a worker's copy of an input only needs a stream of the bytes.
"""

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


def stored_stream(file, first: int = 0, last: int | None = None):
    """A readable stream (read(n), close()) of bytes first..last, inclusive, of a stored file."""
    storage = file.storage
    if isinstance(storage, S3Storage):
        whole = first == 0 and last is None
        request = {} if whole else {"Range": f"bytes={first}-{'' if last is None else last}"}
        # The object itself, not storage.open(): its S3File first asks for the object's metadata,
        # a round trip (HEAD) before every download and every seek of a player. The key is the
        # one storage.open() makes (django-storages has no public name for it).
        key = storage._normalize_name(clean_name(file.name))
        try:
            return storage.bucket.Object(key).get(**request)["Body"]
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:  # as storage.open() says it
                raise FileNotFoundError(f"File does not exist: {file.name}") from None
            raise
    stream = storage.open(file.name, "rb")
    stream.seek(first)
    return stream
