"""Fetching user-given URLs without letting them reach inside our network (SSRF).

Every address a host name resolves to must be public, and redirects are followed by hand
so that each hop is checked. The connection then goes to the address that was checked, with
the name in the Host header and TLS SNI (and the certificate checked against the name), so a
DNS answer that changes between the check and the connection (rebinding) cannot move it
inside. No well-kept library does this for httpx, hence this module.
"""

import ipaddress
import socket
from contextlib import closing
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings


class UrlRefused(ValueError):
    """The URL may not be fetched; str() is a message for the user."""


MAX_REDIRECTS = 5


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(f"The host “{host}” could not be found.") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a global IPv6 address leads to: NAT64, 6to4 and Teredo (whose client
    address is the one reached). Python counts NAT64 and 6to4 addresses as global whatever
    they carry."""
    found = [address.sixtofour, address.teredo[1] if address.teredo else None]
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [ipv4 for ipv4 in found if ipv4 is not None]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _public(address.ipv4_mapped)
    if not address.is_global or address.is_multicast:
        return False
    return isinstance(address, ipaddress.IPv4Address) or all(map(_public, _embedded_ipv4(address)))


def check_public_url(url: str) -> str | None:
    """Raise UrlRefused unless url is http(s) and every address of its host is public.
    Returns the checked address to connect to (None when ALLOW_PRIVATE_URLS lets any through)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("That is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("Only http:// and https:// URLs are accepted.")  # inputs and callbacks alike
    if parts.username or parts.password:
        raise UrlRefused("URLs with a user name or password are not accepted.")
    if getattr(settings, "ALLOW_PRIVATE_URLS", False):
        return None
    addresses = _addresses(parts.hostname, port)
    for address in addresses:
        if not _public(address):
            raise UrlRefused("The URL points to a private or local address, which is not allowed.")
    return str(addresses[0])


def public_request(client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Request:
    """A request for url that connects to its checked address (raises UrlRefused)."""
    address = check_public_url(url)
    request = client.build_request(method, url, **kwargs)
    if address is not None:
        # Host keeps the name (and a non-default port, as httpx had set it); only the connection moves.
        name = request.url.host
        request.url = request.url.copy_with(host=address)
        if request.url.scheme == "https":
            request.extensions["sni_hostname"] = name
    return request


def download_public_url(url: str, destination: Path, *, max_bytes: int, timeout: float = 30.0) -> str:
    """Stream url into destination, checking every redirect hop. Returns the final URL."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            response = client.send(public_request(client, "GET", url), stream=True)
            with closing(response):
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise UrlRefused(f"The URL answered with HTTP status {response.status_code}.")
                written = 0
                with destination.open("wb") as out:
                    for chunk in response.iter_bytes(1024 * 1024):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UrlRefused(f"The file at the URL is larger than {max_bytes} bytes.")
                        out.write(chunk)
                return url
    raise UrlRefused("The URL redirects too many times.")
