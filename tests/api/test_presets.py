"""/presets: built-in presets (public, read-only) and the team's own (private), with the web's roles."""

import pytest

from converter.models import Job, Membership, Preset
from converter.options import BUILTIN_PRESETS
from tests.api.conftest import demote

pytestmark = pytest.mark.django_db

MINE = {"name": "Mine", "target": "flac", "category": "audio", "scope": "private",
        "options": {"frequency": "48000", "channels": "mono"}}


def test_list_has_the_built_in_then_the_teams_presets(api, team, charlie):
    Preset.objects.create(team=team, name="Voice", options={"channels": "mono"})
    Preset.objects.create(team=charlie.teams.get(), name="Charlie's", options={})
    listed = api("GET", "/presets").json()
    assert [item["name"] for item in listed] == [*BUILTIN_PRESETS, "Voice"]
    assert listed[0] == {"id": "builtin-cd-quality", "name": "CD quality", "target": "flac",
                         "category": "audio", "scope": "public", "options": BUILTIN_PRESETS["CD quality"]}
    assert listed[-1]["scope"] == "private" and listed[-1]["options"] == {"channels": "mono"}
    assert [item["name"] for item in api("GET", "/presets?filter=voice,hi-").json()] == [
        "Hi-Res", "Podcast voice", "Voice"]
    assert api("GET", "/presets?category=video").json() == []
    assert api("GET", "/presets?target=mp3").json() == []
    assert len(api("GET", "/presets?category=audio&target=FLAC").json()) == 5


def test_create_read_update_delete(api):
    response = api("POST", "/presets", MINE)
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Mine" and created["scope"] == "private"
    assert created["options"] == {"frequency": 48000, "channels": "mono"}
    assert api("GET", f"/presets/{created['id']}").json() == created

    change = {"name": "Renamed", "options": {"audio_bitdepth": 24}}
    response = api("PATCH", f"/presets/{created['id']}", change)
    assert response.status_code == 200
    assert response.json() == {**created, "name": "Renamed", "options": {"audio_bitdepth": 24}}
    assert api("PATCH", f"/presets/{created['id']}", {"target": "flac"}).json()["name"] == "Renamed"

    assert api("DELETE", f"/presets/{created['id']}").status_code == 204
    assert api("GET", f"/presets/{created['id']}").status_code == 404
    assert not Preset.objects.exists()


def test_a_team_preset_made_through_the_api_serves_jobs(api):
    api("POST", "/presets", MINE)
    response = api.create({"conversion": [{"target": "flac", "options": {"preset": "Mine"}}]})
    assert response.status_code == 201
    assert Job.objects.get().options == {"preset": "Mine", "frequency": 48000, "channels": "mono"}


@pytest.mark.parametrize(("body", "named"), [
    ({**MINE, "target": "mp3"}, "target"),
    ({**MINE, "target": None}, "target"),
    ({**MINE, "category": "video"}, "category"),
    ({**MINE, "scope": "public"}, "scope"),
    ({**MINE, "name": ""}, "name"),
    ({**MINE, "name": 7}, "name"),
    ({**MINE, "name": "x" * 256}, "name"),
    ({**MINE, "name": "CD quality"}, "name"),
    ({**MINE, "options": {"frequency": 7}}, "frequency"),
    ({**MINE, "options": {"bitrate": 7}}, "bitrate"),
    ({**MINE, "options": "x"}, "options"),
    ({**MINE, "options": {"preset": "Hi-Res"}}, "preset"),
    ({**MINE, "options": {"download_password": "s3cret"}}, "download_password"),
])
def test_bad_presets_are_400_naming_the_field(api, body, named):
    response = api("POST", "/presets", body)
    assert response.status_code == 400 and named in response.json()["errors"], response.json()
    assert not Preset.objects.exists()


def test_names_are_unique_in_the_team(api, charlie_api):
    first = api("POST", "/presets", MINE).json()
    response = api("POST", "/presets", {**MINE, "options": {}})
    assert response.status_code == 400 and "already" in response.json()["errors"]["name"]
    assert Preset.objects.get().options == {"frequency": 48000, "channels": "mono"}  # not replaced
    assert charlie_api("POST", "/presets", MINE).status_code == 201  # another team's name
    other = api("POST", "/presets", {**MINE, "name": "Other"}).json()
    response = api("PATCH", f"/presets/{other['id']}", {"name": first["name"]})
    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_built_in_presets_are_read_only(api):
    assert api("GET", "/presets/builtin-hi-res").json()["options"] == BUILTIN_PRESETS["Hi-Res"]
    for method in ("PATCH", "DELETE"):
        response = api(method, "/presets/builtin-hi-res", {"name": "Mine"})
        assert response.status_code == 403 and "read-only" in response.json()["message"]


@pytest.mark.parametrize("preset_id", ["999999", "abc", "builtin-nope", "1" * 40, "١"])
def test_unknown_presets_are_404(api, preset_id):
    response = api("GET", f"/presets/{preset_id}")
    assert response.status_code == 404 and response.json()["message"]


def test_another_teams_preset_does_not_exist(api, charlie_api):
    created = api("POST", "/presets", MINE).json()
    assert charlie_api("GET", f"/presets/{created['id']}").status_code == 404
    assert charlie_api("PATCH", f"/presets/{created['id']}", {"name": "Taken"}).status_code == 404
    assert charlie_api("DELETE", f"/presets/{created['id']}").status_code == 404
    assert Preset.objects.get().name == "Mine"


def test_roles(api, bob_api, team, bob, alice):
    """As in the web: anyone who converts saves and changes presets; deleting one takes its
    maker or an owner or admin; a viewer only reads."""
    alices = api("POST", "/presets", MINE).json()
    bobs = bob_api("POST", "/presets", {**MINE, "name": "Bob's"}).json()
    assert bob_api("PATCH", f"/presets/{alices['id']}", {"options": {}}).status_code == 200
    response = bob_api("DELETE", f"/presets/{alices['id']}")
    assert response.status_code == 403 and "message" in response.json()
    assert bob_api("DELETE", f"/presets/{bobs['id']}").status_code == 204
    Membership.objects.filter(team=team, user=alice).update(role=Membership.Role.ADMIN)
    bobs = bob_api("POST", "/presets", {**MINE, "name": "Bob's"}).json()
    assert api("DELETE", f"/presets/{bobs['id']}").status_code == 204  # an admin deletes any

    demote(team, bob)
    assert bob_api("GET", "/presets").status_code == 200
    assert bob_api("POST", "/presets", {**MINE, "name": "Viewer's"}).status_code == 403
    assert bob_api("PATCH", f"/presets/{alices['id']}", {"name": "Viewer's"}).status_code == 403
    assert bob_api("DELETE", f"/presets/{alices['id']}").status_code == 403
    assert set(Preset.objects.values_list("name", flat=True)) == {"Mine"}


def test_presets_need_a_key(client):
    assert client.get("/v2/presets").json() == {"message": "Invalid api key"}
    assert client.get("/v2/presets/builtin-hi-res").status_code == 401
