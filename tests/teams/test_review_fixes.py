"""The browser review's findings on the team pages: roles saved by a button, confirmations on
irreversible actions, invite errors by their field, viewers told rather than refused, the 403 page."""

import re

from django.urls import reverse

from converter.models import ApiKey, Membership
from converter.services.api_keys import key_issue
from tests.teams.conftest import membership

Role = Membership.Role


def _form(html: str, action: str) -> str:
    """The opening tag of the form posting to `action`."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>', html)
    assert found, action
    return found.group(0)


def test_the_role_select_does_not_submit_itself_and_has_a_save_button(client_of, alice, bob, team):
    html = client_of(alice).get(reverse("team_members")).content.decode()
    bob_membership = membership(team, bob)
    role_tag = _form(html, reverse("member_role", args=[bob_membership.pk]))
    role_form = html.split(role_tag, 1)[1].split("</form>")[0]
    assert "data-autosubmit" not in role_form  # arrowing through the roles saved each one
    assert re.search(r'<button type="submit" class="button">Save <span class="visually-hidden">role of bob',
                     role_form)
    assert "js-hidden" not in role_form
    # Without JavaScript the button posts the role, as before.
    client_of(alice).post(reverse("member_role", args=[bob_membership.pk]), {"role": Role.VIEWER})
    assert membership(team, bob).role == Role.VIEWER
    # The header's team switcher keeps its autosubmit (only the role select lost it).
    assert 'id="team-switch"' not in html or 'name="team" data-autosubmit' in html


def test_irreversible_actions_ask_first(client_of, alice, bob, team):
    client = client_of(alice)
    key_issue(team=team, user=alice, name="Nightly")
    html = client.get(reverse("team_members")).content.decode()
    target = [membership(team, bob).pk]
    assert 'data-confirm="Remove bob from Team A?' in _form(html, reverse("member_remove", args=target))
    transfer = _form(html, reverse("member_transfer", args=target))
    assert 'data-confirm="Make bob the owner of Team A?' in transfer
    assert 'data-confirm="Leave Team A?' in _form(html, reverse("team_leave"))
    html = client.get(reverse("api_keys")).content.decode()
    key = ApiKey.objects.get()
    assert "data-confirm=\"Revoke the key “Nightly”?" in _form(html, reverse("api_key_revoke", args=[key.pk]))


def test_inviting_an_unknown_user_shows_the_error_by_the_field_and_keeps_the_name(client_of, alice, team):
    response = client_of(alice).post(reverse("invite_create"), {"username": "bobb", "role": Role.ADMIN})
    assert response.status_code == 422
    html = response.content.decode()
    error = '<p id="invite-username-error" class="error" role="alert">There is no user called “bobb”.</p>'
    assert error in html
    assert re.search(r'<input id="invite-username"[^>]*value="bobb"[^>]*aria-invalid="true"', html, re.S)
    assert 'aria-describedby="invite-username-help invite-username-error"' in html
    assert '<option value="admin" selected>' in html  # the chosen role is kept too
    assert 'class="messages"' not in html  # not a flash at the top of the page


def test_a_viewer_is_told_they_cannot_have_api_keys_instead_of_a_form(client_of, dave, team):
    html = " ".join(client_of(dave).get(reverse("api_keys")).content.decode().split())
    assert 'id="key-name"' not in html and "Create key</button>" not in html
    assert "Your role in Team A is viewer, which does not convert, so it cannot have API keys." in html


def test_a_member_still_gets_the_create_form(client_of, bob, team):
    assert 'id="key-name"' in client_of(bob).get(reverse("api_keys")).content.decode()


def test_forbidden_is_a_styled_page_and_a_word_to_htmx(client_of, dave, team):
    client = client_of(dave)
    response = client.get(reverse("team_settings"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Not allowed</h1>" in html and 'class="site-nav"' in html
    assert "Only the team&#x27;s owners and admins can change its settings." in html
    assert f'href="{reverse("team_members")}"' in html
    polled = client.get(reverse("team_settings"), HTTP_HX_REQUEST="true")
    assert polled.status_code == 403 and polled.content == b"Forbidden."


def test_the_default_engine_is_a_plain_radio_list(client_of, alice, team):
    html = client_of(alice).get(reverse("team_settings")).content.decode()
    assert '<fieldset class="choices">' in html
    assert re.search(r'<label class="check">\s*<input type="radio" name="engine" value="local" checked', html)
