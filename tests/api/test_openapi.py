"""Our served OpenAPI document and the endpoints agree: every documented path answers exactly the
documented methods (the endpoints' 405 names the methods they allow)."""

import re

import pytest

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"\{(\w+)\}")
UUID = "00000000-0000-4000-8000-000000000000"


def _filled(path: str, document: dict, methods: dict) -> str:
    parameters = {parameter["name"]: parameter for operation in methods.values()
                  for parameter in operation.get("parameters", []) if parameter["in"] == "path"}
    def value(match):
        return UUID if parameters[match.group(1)]["schema"].get("format") == "uuid" else "x"
    return PARAMETER.sub(value, path)


def test_every_documented_path_allows_the_documented_methods(client):
    document = client.get("/v2/openapi.json").json()
    for path, methods in document["paths"].items():
        response = client.generic("PUT", "/v2" + _filled(path, document, methods))
        assert response.status_code == 405, path
        documented = {method.upper() for method in methods} | ({"HEAD"} if "get" in methods else set())
        assert set(response["Allow"].split(", ")) == documented, path


def test_the_new_endpoints_are_documented(client):
    paths = client.get("/v2/openapi.json").json()["paths"]
    assert {"post", "patch"} <= set(paths["/jobs/{job_id}/input"])
    assert set(paths["/jobs/{job_id}/conversions/{conversion_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/presets/{preset_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/jobs/{job_id}/output/{file_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/jobs/{job_id}/output"]) == {"get", "patch"}
    assert {"/stats/day/{day}/{filter}", "/stats/month/{month}/{filter}", "/stats/year/{year}/{filter}",
            "/contracts", "/jobs/{job_id}/threads"} <= set(paths)
    token = {"jobToken": []}
    assert all(token in operation["security"] for path, item in paths.items() if path.startswith("/jobs/{")
               for operation in item.values())
