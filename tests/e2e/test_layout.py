"""Layout that only a browser can check (the browser review's findings): at 390 px no page is wider
than the screen, whatever the team's name; at 1280 px the header and the history's filters keep one
row; the team settings' radios are a list; the history's last card is laid out like the others."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from converter.models import Job, Membership
from converter.services.api_keys import key_issue
from converter.services.invites import invite_link_create
from converter.services.teams import team_create, team_create_personal
from tests.web.conftest import add_output, make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live"), pytest.mark.e2e]

PASSWORD = "correct-horse-battery-9"
LONG_NAME = "Studio team with a rather long name for testing how it overflows"
PAGES = ["/", "/history/", "/settings/usage/", "/teams/members/", "/settings/team/", "/settings/api-keys/"]


@pytest.fixture
def studio(page):
    """alice, owner of a team with a long name (and of her personal team: the header's switcher
    shows), with finished jobs, two API keys, an open invitation; logged in, in that team."""
    alice = get_user_model().objects.create_user("alice", password=PASSWORD)
    team_create_personal(alice)
    team = team_create(name=LONG_NAME, owner=alice)
    for _ in range(3):
        job = make_job(team, alice, status=Job.Status.COMPLETED, progress=100, finished_at=timezone.now())
        add_output(job)
    key_issue(team=team, user=alice, name="Nightly import with a very long name that goes on and on and on")
    key_issue(team=team, user=alice, name="CI")
    invite_link_create(actor=Membership.objects.get(team=team, user=alice), role=Membership.Role.MEMBER)
    page.goto("/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/")
    with page.expect_navigation():
        page.select_option("#team-switch", label=LONG_NAME)
    return page


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_no_page_is_wider_than_the_screen(studio):
    page = studio
    page.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES:
        page.goto(path)
        assert _fits(page), path
        logout = page.locator("button:has-text('Log out')").bounding_box()
        assert logout["x"] + logout["width"] <= 390, path
    # The switcher shows the long name cut short, not the page made wider.
    switch = page.locator("#team-switch").bounding_box()
    assert switch["x"] >= 0 and switch["x"] + switch["width"] < 390
    # API keys: a card per key, each inside the screen.
    page.goto("/settings/api-keys/")
    for row in page.locator("table.api-keys tbody tr").all():
        box = row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The history's last card is laid out like the others: its checkbox beside, not above, the job.
    page.goto("/history/")
    rows = page.locator("tr.job-row")
    offsets = []
    for index in range(rows.count()):
        check = rows.nth(index).locator("td").nth(0).bounding_box()
        job = rows.nth(index).locator("td").nth(1).bounding_box()
        assert job["x"] > check["x"] + check["width"] - 1, index
        offsets.append(round(job["x"]))
    assert len(set(offsets)) == 1, offsets


def test_the_default_engine_is_a_list_of_radios_with_their_labels(studio):
    page = studio
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto("/settings/team/")
        fieldset = page.locator("fieldset.choices")
        assert fieldset.evaluate("f => getComputedStyle(f).borderTopStyle") == "none"
        left = fieldset.bounding_box()["x"]
        for label in fieldset.locator("label.check").all():
            radio = label.locator("input[type=radio]").bounding_box()
            text = label.locator("span").first.bounding_box()
            assert radio["width"] < 24 and radio["x"] - left < 8, width  # a small circle at the start
            assert 0 <= text["x"] - (radio["x"] + radio["width"]) < 16, width  # the label right beside it
            assert abs((text["y"] + text["height"] / 2) - (radio["y"] + radio["height"] / 2)) < 8


def test_on_a_desktop_the_header_and_the_filters_keep_one_row(studio):
    page = studio
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/history/")
    brand = page.locator(".brand").bounding_box()
    for control in ("#team-switch", "button:has-text('Log out')", "nav.site-nav a >> nth=0"):
        box = page.locator(control).bounding_box()
        assert abs((box["y"] + box["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8, control
    fields = page.locator(".history-filters input, .history-filters select").all()
    assert len(fields) == 6
    boxes = [field.bounding_box() for field in fields]
    assert len({round(box["y"]) for box in boxes}) == 1, boxes  # "To" on the same row, none offset
    assert len({round(box["height"]) for box in boxes}) == 1, boxes
    # The members page: a gap between the invite form and the open invitations.
    page.goto("/teams/members/")
    form = page.locator("form.invite-form").bounding_box()
    heading = page.locator("h3:has-text('Open invitations')").bounding_box()
    assert heading["y"] - (form["y"] + form["height"]) >= 16
