"""Upload abuse: limits enforced while streaming (web form and API), file counts, hostile names."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from converter.models import Job, JobInput
from converter.services.jobs import job_create
from converter.uploads import _FileWriter
from tests.api.conftest import CREATE
from tests.media import wav_bytes

pytestmark = pytest.mark.django_db

LIMIT = 100_000


@pytest.fixture
def written(monkeypatch, settings) -> list[int]:
    """Sizes of the chunks handed to temporary upload files (what reached the disk)."""
    settings.MAX_UPLOAD_BYTES = LIMIT
    chunks: list[int] = []
    real = _FileWriter.write

    def write(writer, data):
        chunks.append(len(data))
        return real(writer, data)

    monkeypatch.setattr(_FileWriter, "write", write)
    return chunks


def _file(size: int, name: str = "big.wav") -> io.BytesIO:
    data = io.BytesIO(b"\0" * size)
    data.name = name
    return data


def _temp_files(settings) -> list[Path]:
    return list(Path(settings.FILE_UPLOAD_TEMP_DIR).glob("*.upload*"))


def test_the_web_form_stops_an_oversized_upload_while_it_streams(client, alice, team, written, settings,
                                                                  tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)  # of its own: other test processes upload too
    client.force_login(alice)
    response = client.post("/", {"files": _file(10 * LIMIT)})
    assert response.status_code == 413
    assert "A file is larger than the limit" in response.content.decode()
    assert sum(written) <= LIMIT and not Job.objects.exists()
    assert not _temp_files(settings)  # the partial temporary file was deleted


def test_the_api_stops_an_oversized_upload_while_it_streams(client, issued_key, written):
    job = client.post("/v2/jobs", CREATE, content_type="application/json",
                      headers={"X-Api2convert-Api-Key": issued_key}).json()
    # Content-Length is within the early check's allowance; the file itself is not.
    response = client.post(f"/v2/dl/upload-file/{job['id']}", {"file": _file(LIMIT + 50_000)},
                           headers={"X-Api2convert-Token": job["token"]})
    assert response.status_code == 413 and "larger than the limit" in response.json()["message"]
    assert sum(written) <= LIMIT and not JobInput.objects.exists()


def test_too_many_files_are_refused_before_they_are_stored(client, alice, team, written, settings):
    settings.MAX_UPLOAD_FILES = 2
    client.force_login(alice)
    response = client.post("/", {"files": [_file(10, f"{n}.wav") for n in range(3)]})
    assert response.status_code == 413 and "At most 2 files" in response.content.decode()
    assert sum(written) <= 20 and not Job.objects.exists()


@pytest.mark.parametrize(("name", "shown"), [
    ("../../../etc/passwd.wav", "passwd.wav"),
    ("C:\\Windows\\system32\\x.wav", "x.wav"),
    ("a\x00b.wav", "ab.wav"),
    ("invoice\u202ewav.exe", "invoicewav.exe"),  # RTL override: would display as "invoiceexe.vaw"
    ("\u200b\u2066x\u2069.wav", "x.wav"),
    ("é" * 300 + ".wav", None),  # shortened to 255 characters
    ("..\\", "input"),
])
def test_hostile_file_names_are_neutralised(settings, team, alice, name, shown):
    job = job_create(team=team, user=alice, options={}, process=False,
                     uploads=[SimpleUploadedFile(name, wav_bytes(), content_type="audio/wav")])
    job_input = job.inputs.get()
    assert job_input.filename == shown if shown else len(job_input.filename) <= 255
    stored = Path(job_input.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "jobs" / str(job.pk))
    assert "\x00" not in job_input.file.name and "\u202e" not in job_input.file.name


def test_a_hostile_name_through_the_form_lands_inside_the_job(client, alice, team, settings):
    client.force_login(alice)
    client.post("/", {"files": _file(wav_bytes().__len__(), "..%2F..%2Fx.wav")})
    for job_input in JobInput.objects.all():
        assert Path(job_input.file.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
