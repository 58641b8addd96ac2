"""A long history costs no more to show than a short one: constant queries, and an index."""

import pytest
from django.db import connection
from django.urls import reverse

from converter.models import Membership
from converter.selectors import HistoryFilters, _history_filtered
from tests.history.conftest import jobs_in_bulk

HTMX = {"HTTP_HX_REQUEST": "true"}
# 10 today: session, user, teams and membership (middleware), the member filter, jobs, inputs,
# outputs, the switcher's teams. The margin is for middleware yet to come, not for rows.
MAX_QUERIES = 12


@pytest.mark.parametrize("query", [{}, {"status": "completed"}, {"q": "take-01"}, {"engine": "local"}])
def test_first_page_in_constant_queries(alice_client, team, alice, bob, django_assert_max_num_queries, query):
    jobs_in_bulk(team, [alice, bob], 400)
    with django_assert_max_num_queries(MAX_QUERIES):
        alice_client.get(reverse("history"), query)
    with django_assert_max_num_queries(MAX_QUERIES):
        alice_client.get(reverse("history"), query, **HTMX)


@pytest.mark.scaleout
@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN of PostgreSQL's planner")
@pytest.mark.parametrize(("filters", "index"), [
    (HistoryFilters(), "job_team_newest"),
    (HistoryFilters(status="failed"), "job_team_status_newest"),
    (HistoryFilters(engine="api2convert"), "job_team_engine_newest"),
])
def test_first_page_query_uses_an_index(team, alice, bob, django_user_model, filters, index):
    # Other teams' jobs outnumber this one's, as on a shared server.
    for n in range(4):
        owner = django_user_model.objects.create_user(f"other{n}")
        other = Membership.objects.create(team=team.__class__.objects.create(name=f"o{n}", slug=f"o{n}"),
                                          user=owner, role=Membership.Role.OWNER).team
        jobs_in_bulk(other, [owner], 2000)
    jobs_in_bulk(team, [alice, bob], 300)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE converter_job")
    query = _history_filtered(team, filters).order_by("-created_at", "-pk")[:26]
    plan = query.explain()
    assert index in plan, plan
