"""The vendor's SDK, unchanged, against a live server: its presets, stats, contracts and add_input."""

import pytest
from api2convert import AuthenticationError, NotFoundError, ValidationError
from django.utils import timezone

from converter.models import JobInput


def test_presets_with_the_sdk(sdk):
    created = sdk.presets.create({"name": "Voice", "target": "flac", "options": {"channels": "mono"}})
    assert created.scope == "private" and created.target == "flac" and created.options == {"channels": "mono"}
    found = sdk.presets.list(target="flac", filter="voice")
    assert [preset.name for preset in found] == ["Podcast voice", "Voice"]
    assert sdk.presets.get(created.id) == created
    updated = sdk.presets.update(created.id, {"options": {"frequency": 16000}})
    assert updated.options == {"frequency": 16000} and updated.name == "Voice"
    assert sdk.presets.get("builtin-cd-quality").scope == "public"

    with pytest.raises(ValidationError, match="frequency"):
        sdk.presets.create({"name": "Bad", "target": "flac", "options": {"frequency": 7}})
    with pytest.raises(ValidationError, match="target"):
        sdk.presets.create({"name": "Mp3", "target": "mp3", "options": {}})
    with pytest.raises(AuthenticationError, match="read-only"):
        sdk.presets.delete("builtin-cd-quality")
    sdk.presets.delete(created.id)
    with pytest.raises(NotFoundError):
        sdk.presets.get(created.id)


def test_add_inputs_then_read_the_stats_and_contract(sdk, wav, settings):
    settings.ALLOW_PRIVATE_URLS = True  # the live server runs in this process
    first = sdk.jobs.create({"conversion": [{"target": "flac"}], "process": False})
    uploaded = sdk.jobs.upload(first, wav)
    remote = sdk.jobs.add_input(first.id, {"type": "remote", "source": "http://127.0.0.1:9/talk.wav"})
    assert remote.type == "remote" and remote.filename == "talk.wav"
    assert [item.id for item in sdk.jobs.get(first.id).input] == [uploaded.id, remote.id]
    sdk.jobs.cancel(first.id)

    # The upload of the canceled job, reused by another job (the vendor's `input_id`).
    second = sdk.jobs.create({"conversion": [{"target": "flac", "options": {"preset": "CD quality"}}],
                              "process": False})
    reused = sdk.jobs.add_input(second.id, {"type": "input_id", "source": uploaded.id})
    assert reused.type == "upload" and reused.id != uploaded.id and reused.size == uploaded.size
    with pytest.raises(ValidationError, match="upload-file"):
        sdk.jobs.add_input(second.id, {"type": "upload", "source": "tone.wav"})
    sdk.jobs.start(second.id)
    done = sdk.jobs.wait(second.id)
    assert done.is_completed() and done.output[0].filename == "tone.flac"
    assert sdk.download(done.output[0]).contents()[:4] == b"fLaC"
    assert JobInput.objects.get(pk=reused.id).file.name != JobInput.objects.get(pk=uploaded.id).file.name

    today = timezone.localdate()
    [day] = sdk.stats.day(today.isoformat(), "single")
    assert day["date"] == today.isoformat() and day["jobs"] == 2 and day["audio_seconds"] > 0
    month = sdk.stats.month(f"{today:%Y-%m}")
    assert month[today.day - 1]["jobs"] == 2
    assert sum(item["jobs"] for item in sdk.stats.year(str(today.year))) == 2
    with pytest.raises(ValidationError, match="filter"):
        sdk.stats.day(today.isoformat(), "everyone")

    [contract] = sdk.contracts.get()
    assert contract["type"] == "self-hosted" and contract["quotas"][0] == {
        "name": "Jobs this month", "used": 2, "limit": None, "unit": "jobs"}
