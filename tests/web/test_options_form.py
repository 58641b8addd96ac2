"""The options form: rendered from the schema, validated by it as fields change."""

import re

import pytest
from django.urls import reverse

from converter.models import Job, Preset
from converter.options import BUILTIN_PRESETS, OPTIONS
from tests.web.uploads import wav_header

HTMX = {"HTTP_HX_REQUEST": "true"}


def _field_error(html: str, name: str) -> str | None:
    """The error message rendered next to the option's field, if any."""
    match = re.search(rf'<p id="opt-{name}-error" class="error">(.*?)</p>', html)
    return match and match.group(1)


def _validate(client, **values):
    response = client.post(reverse("options_validate"), values, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_convert_page_renders_every_option_of_the_schema(alice_client):
    html = alice_client.get(reverse("convert")).content.decode()
    # Dependent options appear once their condition holds: turn them all on.
    html += _validate(alice_client, normalize="true", normalize_type="rms", allow_multiple_outputs="true")
    html += _validate(alice_client, normalize="true", normalize_type="ebu")
    for option in OPTIONS:
        assert f'name="{option.name}"' in html, option.name
        assert f'<label for="opt-{option.name}">{option.label}</label>' in html


def test_fields_follow_their_schema_types(alice_client):
    html = alice_client.get(reverse("convert")).content.decode()
    assert re.search(r'id="opt-start" name="start" value=""\s+placeholder="HH:MM:SS"', html)  # not a time
    assert 'placeholder="The input&#x27;s name"' in html  # what an empty name does, not the schema's example
    # Values as a person reads them; the values sent stay the API's.
    assert '<option value="44100">44.1 kHz</option>' in html and '<option value="24">24-bit</option>' in html
    assert '<option value="mono">Mono</option>' in html
    assert '<option value="" selected>Same as input</option>' in html  # frequency: keep input
    assert re.search(r'<select id="opt-frequency" name="frequency"', html)
    assert re.search(r'<input type="checkbox" id="opt-normalize" name="normalize" value="true"', html)
    assert 'type="password" id="opt-download_password"' in html
    threshold = _validate(alice_client, allow_multiple_outputs="true")
    assert re.search(r'name="allow_multiple_outputs_threshold"[^>]*min="2"\s+max="400"', threshold, re.S)
    assert '<legend>Loudness</legend>' in html


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"start": "00:05:00", "end": "00:01:00"}, "end", "Must be after the start time."),
    ({"start": "5 seconds"}, "start", "Use HH:MM:SS"),
    ({"start": "00:99:00"}, "start", "Use HH:MM:SS"),
    ({"normalize": "true", "normalize_type": "rms", "normalize_target_level": "5"},
     "normalize_target_level", "Must be at most 0."),
    ({"allow_multiple_outputs": "true", "allow_multiple_outputs_threshold": "1"},
     "allow_multiple_outputs_threshold", "Must be at least 2."),
    ({"download_password": "bell\x07"}, "download_password", "Only printable ASCII"),
])
def test_validation_errors_appear_next_to_their_field(alice_client, values, field, message):
    html = _validate(alice_client, **values)
    assert message in (_field_error(html, field) or "")
    # The field points at its error, and says it is invalid.
    assert re.search(rf'id="opt-{field}"[^>]*aria-describedby="opt-{field}-help opt-{field}-error"[^>]*'
                     rf'aria-invalid="true"', html, re.S)


def test_valid_values_show_no_error_and_are_kept(alice_client):
    html = _validate(alice_client, start="00:00:10", end="00:01:00", frequency="48000")
    assert "class=\"error\"" not in html
    assert 'value="00:00:10"' in html
    assert '<option value="48000" selected>' in html


def test_the_download_password_is_never_echoed(alice_client):
    html = _validate(alice_client, download_password="hunter2", start="bad")
    assert "hunter2" not in html
    assert 'id="opt-download_password" name="download_password" value=""' in html


def test_dependent_fields_show_only_when_they_apply(alice_client):
    plain = _validate(alice_client)
    for name in ("normalize_type", "normalize_target_level", "normalize_target_level_ebu",
                 "allow_multiple_outputs_threshold"):
        assert f'name="{name}"' not in plain
    ebu = _validate(alice_client, normalize="true")  # normalize_type defaults to ebu
    assert 'name="normalize_type"' in ebu
    assert 'name="normalize_target_level_ebu"' in ebu
    assert 'name="normalize_true_peak_ebu"' in ebu
    assert 'name="normalize_target_level"' not in ebu
    peak = _validate(alice_client, normalize="true", normalize_type="peak")
    assert 'name="normalize_target_level"' in peak
    assert 'name="normalize_target_level_ebu"' not in peak
    # The type without normalize on does not matter.
    assert 'name="normalize_target_level"' not in _validate(alice_client, normalize_type="peak")
    assert 'name="allow_multiple_outputs_threshold"' in _validate(alice_client, allow_multiple_outputs="true")


def test_the_fields_post_back_for_validation_on_change(alice_client):
    html = alice_client.get(reverse("convert")).content.decode()
    validate = reverse("options_validate")
    assert re.search(rf'id="option-fields"[^>]*hx-post="{validate}"[^>]*hx-trigger="change"', html, re.S)


def test_submit_with_invalid_options_is_refused(alice_client):
    response = alice_client.post(reverse("convert"), {
        "urls": "https://example.com/a.wav", "normalize": "true", "normalize_type": "rms",
        "normalize_target_level": "5",
    })
    assert response.status_code == 422
    assert "Must be at most 0." in _field_error(response.content.decode(), "normalize_target_level")
    assert not Job.objects.exists()


def test_crafted_submit_over_htmx_returns_the_form_with_errors(alice_client):
    response = alice_client.post(reverse("convert"), {
        "urls": "https://example.com/a.wav", "frequency": "12345", "end": "00:00:01", "start": "00:00:02",
    }, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Must be one of" in _field_error(html, "frequency")
    assert "after the start" in _field_error(html, "end")
    assert not Job.objects.exists()


def test_every_refused_link_is_named_whole(alice_client):
    response = alice_client.post(reverse("convert"), {
        "urls": "https://example.com/a.wav\nnot a url\n\n  ftp://x/y.wav  \n"}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "“not a url”: Only http:// and https:// URLs are accepted." in html
    assert "“ftp://x/y.wav”: Only http:// and https:// URLs are accepted." in html
    assert not Job.objects.exists()


def test_submit_without_inputs_says_so(alice_client):
    response = alice_client.post(reverse("convert"), {}, **HTMX)
    assert response.status_code == 422
    assert "Give at least one file or URL" in response.content.decode()
    assert not Job.objects.exists()


def test_submit_creates_a_job_and_shows_it(alice_client, team):
    upload = wav_header("take 1.wav")
    response = alice_client.post(reverse("convert"), {"files": [upload], "frequency": "48000"}, **HTMX)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.team == team
    assert job.options == {"frequency": 48000}
    html = response.content.decode()
    assert 'hx-swap-oob="afterbegin:#job-list"' in html
    assert f'id="job-{job.pk}"' in html
    assert "jobCreated" in response.headers["HX-Trigger"]


def test_submit_without_javascript_redirects_to_the_job(alice_client):
    upload = wav_header()
    response = alice_client.post(reverse("convert"), {"files": [upload]})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("job_detail", args=[job.pk])


def test_viewers_cannot_convert(client, bob, team):
    bob.memberships.update(role="viewer")
    client.force_login(bob)
    assert "read-only" in client.get(reverse("convert")).content.decode()
    assert client.post(reverse("convert"), {"urls": "https://example.com/a.wav"}).status_code == 403


def test_preset_apply_fills_the_values(alice_client):
    response = alice_client.get(reverse("preset_apply"), {"preset": "Podcast voice"}, **HTMX)
    html = response.content.decode()
    assert re.search(r'id="opt-normalize" name="normalize" value="true"\s+checked', html)
    assert '<option value="mono" selected>' in html
    assert re.search(r'name="normalize_target_level_ebu" value="-16"', html)
    assert "<option selected>Podcast voice</option>" in html


def test_a_preset_replaces_the_sound_and_keeps_this_jobs_own_options(alice_client):
    """Trim, speech language and file name are this job's: choosing a preset leaves them; the
    sound it does not name (here the channels) goes back to its default."""
    form = {"output_filename": "keepme", "start": "00:00:01", "language_tts": "cs-CZ", "channels": "mono",
            "frequency": "48000"}
    html = alice_client.get(reverse("preset_apply"), {"preset": "Hi-Res", **form}, **HTMX).content.decode()
    assert 'name="output_filename" value="keepme"' in html
    assert 'name="start" value="00:00:01"' in html
    assert '<option value="cs-CZ" selected>' in html
    assert '<option value="96000" selected>' in html and '<option value="24" selected>' in html
    assert '<option value="mono" selected>' not in html
    assert "<option selected>Hi-Res</option>" in html


def test_every_builtin_and_team_preset_is_listed(alice_client, team):
    Preset.objects.create(team=team, name="Our archive", options={"audio_bitdepth": 24})
    html = alice_client.get(reverse("convert")).content.decode()
    for name in [*BUILTIN_PRESETS, "Our archive"]:
        assert f"<option>{name}</option>" in html
    applied = alice_client.get(reverse("preset_apply"), {"preset": "Our archive"}, **HTMX).content.decode()
    assert '<option value="24" selected>' in applied


def test_unknown_preset_is_an_error_next_to_the_select(alice_client):
    html = alice_client.get(reverse("preset_apply"), {"preset": "Nope"}, **HTMX).content.decode()
    assert "Unknown preset" in _field_error(html, "preset")


def test_preset_apply_without_javascript_fills_the_page(alice_client):
    response = alice_client.get(reverse("preset_apply"), {"preset": "Hi-Res"})
    assert response.status_code == 302
    html = alice_client.get(response.url).content.decode()
    assert '<option value="96000" selected>' in html


def test_save_as_preset(alice_client, team):
    response = alice_client.post(reverse("preset_save"), {
        "preset_name": "Loud", "normalize": "true", "normalize_type": "peak", "normalize_target_level": "-1",
        "download_password": "not kept",
    }, **HTMX)
    assert response.status_code == 200
    assert Preset.objects.get(team=team, name="Loud").options == {
        "normalize": True, "normalize_type": "peak", "normalize_target_level": -1,
    }
    html = response.content.decode()
    assert "Saved as “Loud”." in html
    assert "<option selected>Loud</option>" in html


def test_save_as_preset_needs_a_name_and_valid_options(alice_client):
    html = alice_client.post(reverse("preset_save"), {"preset_name": " "}, **HTMX).content.decode()
    assert "needs a name" in html
    assert 'aria-invalid="true"' in re.search(r'id="preset-name"[^>]*>', html).group(0)
    response = alice_client.post(reverse("preset_save"), {"preset_name": "x", "start": "nope"}, **HTMX)
    assert response.status_code == 422
    assert "Use HH:MM:SS" in _field_error(response.content.decode(), "start")
    html = response.content.decode()
    assert "Not saved: correct the options marked in red first." in html
    assert re.search(r'id="preset-name"[^>]*>', html).group(0).count("aria-invalid") == 0  # the name is fine
    assert not Preset.objects.exists()
