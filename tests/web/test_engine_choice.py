"""A team with an api2convert key picks the engine per job; one without never sees the choice."""

from django.urls import reverse

from converter.models import Job, Team
from converter.services.api2convert import api2convert_key_store
from tests.web.uploads import wav_header


def test_no_key_no_choice_and_a_crafted_engine_is_refused(alice_client):
    assert 'name="engine"' not in alice_client.get(reverse("convert")).content.decode()
    response = alice_client.post(reverse("convert"), {"files": [wav_header()], "engine": "api2convert"})
    assert response.status_code == 422
    assert "needs the team&#x27;s api2convert key" in response.content.decode()
    assert not Job.objects.exists()


def test_with_a_key_the_user_picks_the_engine(alice_client, alice, team):
    api2convert_key_store(team=team, user=alice, key="0123456789abcdef")
    page = alice_client.get(reverse("convert")).content.decode()
    assert '<option value="local">Embedded engine</option>' in page
    assert '<option value="api2convert">api2convert</option>' in page
    alice_client.post(reverse("convert"), {"files": [wav_header()], "engine": "api2convert"})
    alice_client.post(reverse("convert"), {"files": [wav_header()]})
    engines = sorted(Job.objects.values_list("engine", flat=True))
    assert engines == [Team.Engine.API2CONVERT, Team.Engine.LOCAL]
