"""SSRF: every spelling of an inside address is refused, names resolving inside are refused,
each redirect hop is checked, and the connection goes to the address that was checked."""

import ipaddress
import socket

import httpx
import pytest

from converter import url_safety
from converter.url_safety import UrlRefused, check_public_url, download_public_url, public_request

PRIVATE = "The URL points to a private or local address, which is not allowed."

INSIDE = [
    "http://127.0.0.1/", "http://localhost:8000/x", "http://10.0.0.1/", "http://172.16.5.4/",
    "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://[::]/",
    "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://0x7f000001/", "http://127.1/",
    "http://017700000001/", "https://127.0.0.1:443/", "http://224.0.0.1/",
    # IPv6 addresses that lead to an inside IPv4 one: NAT64, 6to4.
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::10.0.0.1]/", "http://[2002:a9fe:a9fe::1]/",
]


@pytest.fixture(autouse=True)
def _strict(settings):
    settings.ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize("url", INSIDE)
def test_inside_addresses_are_refused_in_every_spelling(url):
    with pytest.raises(UrlRefused, match="private or local address"):
        check_public_url(url)


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "Only http:// and https://"), ("gopher://example.com/", "Only http:// and https://"),
    ("http://user:pw@example.com/", "user name or password"), ("http://[::1/", "not a valid URL"),
    ("http:///nohost", "Only http:// and https://"),
])
def test_other_schemes_and_credentials_are_refused(url, message):
    with pytest.raises(UrlRefused, match=message):
        check_public_url(url)


def _resolving_to(monkeypatch, *addresses: str):
    """Names resolve to addresses; literal IP addresses stay themselves."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host.replace(".", "").isdigit() or ":" in host:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_inside_is_refused(monkeypatch):
    _resolving_to(monkeypatch, "93.184.215.14", "10.1.2.3")  # one inside address is enough
    with pytest.raises(UrlRefused, match="private or local"):
        check_public_url("http://innocent.example/")


@pytest.mark.parametrize("address", ["93.184.215.14", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e",
                                     "2002:5db8:d70e::1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_in_every_spelling_are_allowed(monkeypatch, address):
    _resolving_to(monkeypatch, address)
    assert ipaddress.ip_address(check_public_url("http://files.example/")) == ipaddress.ip_address(address)


def test_a_name_that_does_not_resolve_is_refused_clearly(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("nope")

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", fail)
    with pytest.raises(UrlRefused, match="could not be found"):
        check_public_url("http://no-such-host.invalid/")


def test_the_connection_goes_to_the_checked_address_with_the_name_kept(monkeypatch):
    _resolving_to(monkeypatch, "93.184.215.14")
    with httpx.Client() as client:
        request = public_request(client, "GET", "https://files.example:8443/a.wav?x=1")
    assert request.url.host == "93.184.215.14" and request.url.port == 8443
    assert request.headers["Host"] == "files.example:8443"
    assert request.extensions["sni_hostname"] == "files.example"


def _served_by(monkeypatch, handler) -> None:
    """url_safety's httpx clients answered by handler instead of the network."""
    real_client = httpx.Client
    monkeypatch.setattr(url_safety.httpx, "Client",
                        lambda **kwargs: real_client(transport=httpx.MockTransport(handler), **kwargs))


def test_a_redirect_to_an_inside_address_is_refused(monkeypatch, tmp_path):
    """The first hop is public (resolver patched); it redirects to 127.0.0.1, which is refused
    before any connection is made to it."""
    _resolving_to(monkeypatch, "93.184.215.14")
    hops = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append((str(request.url), request.headers["Host"]))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8000/admin"})

    _served_by(monkeypatch, handler)
    with pytest.raises(UrlRefused, match="private or local"):
        download_public_url("http://public.example/song.wav", tmp_path / "out", max_bytes=1000)
    assert hops == [("http://93.184.215.14/song.wav", "public.example")]


def test_a_redirect_through_a_name_that_rebinds_inside_is_refused(monkeypatch, tmp_path):
    answers = iter([["93.184.215.14"], ["93.184.215.14", "192.168.0.10"]])

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", getaddrinfo)
    _served_by(monkeypatch, lambda request: httpx.Response(302, headers={"Location": "/again"}))
    with pytest.raises(UrlRefused, match="private or local"):
        download_public_url("http://rebind.example/a", tmp_path / "out", max_bytes=1000)


@pytest.mark.django_db
def test_the_convert_form_and_the_api_refuse_inside_urls(client, alice, team, issued_key):
    client.force_login(alice)
    response = client.post("/", {"urls": "http://169.254.169.254/latest/meta-data/"})
    assert response.status_code == 422 and PRIVATE in response.content.decode()
    response = client.post("/v2/jobs", {"input": [{"type": "remote", "source": "http://[::1]:8000/"}],
                                        "conversion": [{"target": "flac"}]},
                           content_type="application/json", headers={"X-Api2convert-Api-Key": issued_key})
    assert response.status_code == 400 and PRIVATE in response.json()["message"]
