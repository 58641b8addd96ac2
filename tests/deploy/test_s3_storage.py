"""Files through an S3-compatible bucket (moto's server on 127.0.0.1): uploads land in the
bucket, a worker converts from it and stores its output there, downloads stream from it."""

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer

from converter.models import Job
from converter.services.jobs import job_create, job_run
from tests import media

BUCKET = "flac-test"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """The default storage is the bucket, configured as STORAGE_BACKEND=s3 configures it."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    settings.AWS_STORAGE_BUCKET_NAME = BUCKET
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = CREDENTIALS["region_name"]
    settings.AWS_ACCESS_KEY_ID = CREDENTIALS["aws_access_key_id"]
    settings.AWS_SECRET_ACCESS_KEY = CREDENTIALS["aws_secret_access_key"]
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.AWS_S3_MAX_MEMORY_SIZE = 8 * 1024**2
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client, prefix: str) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def _no_metadata_round_trips(monkeypatch) -> None:
    """Fail if anything asks the bucket for an object's metadata (a HEAD): django-storages' S3File
    does when opened (and downloads the whole object when read), and so does storage.size()."""
    from storages.backends.s3 import S3File, S3Storage

    monkeypatch.setattr(S3File, "__init__", lambda *args, **kwargs: pytest.fail("S3File opened"))
    monkeypatch.setattr(S3Storage, "size", lambda *args: pytest.fail("an object's size asked of S3"))


@pytest.mark.django_db
def test_a_job_runs_through_the_bucket(bucket, client, alice, team, tmp_path, monkeypatch):
    wav = media.tone(tmp_path / "tone.wav", seconds=1.0)
    upload = SimpleUploadedFile("tone.wav", wav.read_bytes(), content_type="audio/wav")
    job = job_create(team=team, user=alice, uploads=[upload], options={"channels": "mono"})
    assert keys(bucket, f"jobs/{job.pk}/input/") == [job.inputs.get().file.name]

    job_run(job.pk)  # what the worker does, here in this process
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.errors
    output = job.outputs.get()
    stored = bucket.get_object(Bucket=BUCKET, Key=output.file.name)["Body"].read()
    assert keys(bucket, f"jobs/{job.pk}/output/") == [output.file.name]
    assert stored[:4] == b"fLaC" and len(stored) == output.size

    client.force_login(alice)
    url = reverse("output_download", args=[output.pk])
    _no_metadata_round_trips(monkeypatch)  # one request to the bucket a download: its GET
    whole = client.get(url)
    assert whole.status_code == 200 and whole.streaming
    assert b"".join(whole.streaming_content) == stored
    part = client.get(url, HTTP_RANGE="bytes=4-99")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 4-99/{len(stored)}"
    assert b"".join(part.streaming_content) == stored[4:100]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == stored[-10:]


@pytest.mark.django_db
def test_an_outputs_waveform_is_read_from_the_bucket(bucket, client, alice, team, tmp_path):
    wav = media.tone(tmp_path / "tone.wav", seconds=1.0)
    upload = SimpleUploadedFile("tone.wav", wav.read_bytes(), content_type="audio/wav")
    job = job_create(team=team, user=alice, uploads=[upload], options={})
    job_run(job.pk)
    output = job.outputs.get()
    client.force_login(alice)
    response = client.get(reverse("output_waveform", args=[output.pk]), HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert "Waveform of tone.flac: highest peak " in fragment  # streamed from the bucket into ffmpeg
    output.refresh_from_db()
    assert len(output.waveform["peaks"]) == 480 and max(output.waveform["peaks"]) > 0.1


@pytest.mark.django_db
def test_a_zip_streams_from_the_bucket_without_a_copy_first(bucket, client, alice, team, tmp_path,
                                                            monkeypatch):
    """Each result goes into the ZIP as it comes from the bucket, with no request but its GET."""
    import io
    import zipfile

    wav = media.tone(tmp_path / "tone.wav", seconds=1.0)
    jobs = []
    for name in ("first.wav", "second.wav"):
        upload = SimpleUploadedFile(name, wav.read_bytes(), content_type="audio/wav")
        jobs.append(job_create(team=team, user=alice, uploads=[upload], options={}))
        job_run(jobs[-1].pk)
    _no_metadata_round_trips(monkeypatch)
    client.force_login(alice)
    response = client.get(reverse("history_zip"), {"job": [job.pk for job in jobs]})
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    for job in jobs:
        output = job.outputs.get()
        stored = bucket.get_object(Bucket=BUCKET, Key=output.file.name)["Body"].read()
        name = next(name for name in archive.namelist() if name.endswith(f"/{output.download_name}"))
        assert archive.read(name) == stored


@pytest.mark.django_db
def test_a_missing_object_is_a_missing_file(bucket, team, alice):
    """As storage.open() says it, so callers treat local disk and S3 alike."""
    from converter.models import JobOutput
    from converter.storage import stored_stream

    job = Job.objects.create(team=team, created_by=alice, status=Job.Status.COMPLETED)
    output = JobOutput.objects.create(job=job, download_name="gone.flac", size=10, file="jobs/gone.flac")
    with pytest.raises(FileNotFoundError, match="gone.flac"):
        stored_stream(output.file)
