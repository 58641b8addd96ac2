from django.urls import reverse

from converter.models import Membership


def test_signup_creates_a_personal_team_and_logs_in(client, django_user_model):
    response = client.post(reverse("signup"), {
        "username": "dora", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9",
    })
    assert response.status_code == 302
    assert response.url == reverse("convert")
    dora = django_user_model.objects.get(username="dora")
    membership = Membership.objects.get(user=dora)
    assert membership.team.personal
    assert membership.role == Membership.Role.OWNER
    page = client.get(reverse("convert"))
    assert page.status_code == 200
    assert page.context["user"] == dora


def test_signup_errors_rerender_the_form(client):
    response = client.post(reverse("signup"), {"username": "x", "password1": "a", "password2": "b"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()


def test_pages_require_login(client):
    response = client.get(reverse("convert"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_and_logout(client, alice, team):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-password-123"})
    assert response.status_code == 302
    assert client.get(reverse("convert")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("convert")).status_code == 302


def test_team_switch(client, bob, charlie, team):
    # bob has team A; give him a personal team too and switch between them.
    from converter.services.teams import team_create_personal

    personal = team_create_personal(bob)
    client.force_login(bob)
    client.post(reverse("team_switch"), {"team": personal.pk, "next": reverse("history")})
    assert client.get(reverse("history")).context["active_team"] == personal
    client.post(reverse("team_switch"), {"team": team.pk})
    assert client.get(reverse("history")).context["active_team"] == team
    # Not a member: ignored.
    other = charlie.memberships.get().team
    client.post(reverse("team_switch"), {"team": other.pk})
    assert client.get(reverse("history")).context["active_team"] == team


def test_a_link_to_a_job_of_another_of_ones_teams_switches_to_it(client, bob, charlie, team, alice):
    """Signing in picks bob's personal team; the link he was sent is Team A's job: he sees it."""
    from converter.services.teams import team_create_personal
    from tests.web.conftest import make_job

    personal = team_create_personal(bob)
    job = make_job(team, alice)
    client.force_login(bob)
    client.post(reverse("team_switch"), {"team": personal.pk})
    response = client.get(reverse("job_detail", args=[job.pk]))
    assert response.status_code == 200 and response.context["card"].job == job
    assert "Switched to the team “Team A”, whose job this is." in response.content.decode()
    assert client.get(reverse("history")).context["active_team"] == team  # and stays there
    # Not a member of the job's team: not found, on a page with the site's header and a way on.
    client.force_login(charlie)
    response = client.get(reverse("job_detail", args=[job.pk]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html and 'class="site-nav"' in html
    assert f'href="{reverse("history")}"' in html
    # To htmx (a card polling a deleted job), a word: it swaps no 4xx, so no page is rendered.
    polled = client.get(reverse("job_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert polled.status_code == 404 and polled.content == b"Not found."
