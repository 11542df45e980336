"""Calling a URL a company gave (a webhook, a page of its website) without opening a way into the
network Docent runs in.

The host is resolved once per attempt and every address it resolves to is checked; the connection
then goes to the checked address (the Host header and TLS name stay the URL's host), so a second
lookup cannot rebind it to an inner address. Redirects are not followed and proxy variables are
not read (http.client does neither). Loopback, private, link-local, carrier-grade NAT, unspecified,
multicast, reserved and IPv4-mapped IPv6 addresses are refused, and cloud metadata addresses even
when OUTBOUND_ALLOW_PRIVATE_ADDRESSES lets the rest through (development, the tests' local servers).
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

CONNECT_TIMEOUT_SECONDS = 5
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, Oracle …
    "169.254.170.2",  # AWS ECS task metadata
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
))
_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")


class Refused(Exception):
    """Docent will not send there; the message says why, for the person who gave the URL."""


class SendFailed(Exception):
    """The attempt did not get an answer (timeout, connection, TLS); the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # the first `max_body` bytes
    location: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    truncated: bool = False  # the body went on past `max_body`


def parse_target(url: str) -> Target:
    """The URL as Docent will call it, or Refused; an address written in the URL is checked here too."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("The URL must start with https:// (or http://) and name a host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL cannot carry a user name or password.")
    host = parts.hostname.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        _refuse_unless_private_allowed(f"{host} is this server itself (loopback)")
    literal = _literal_address(host)
    if literal is not None:
        _check_address(literal, host)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port or (443 if parts.scheme == "https" else 80), path=path)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, max_body: int) -> Answer:
    """POST the body to the URL's checked address; Refused or SendFailed when there is no answer."""
    return request("POST", url, body=body, headers=headers, timeout=timeout, max_body=max_body)


def get(url: str, *, headers: dict[str, str], timeout: float, max_body: int) -> Answer:
    """GET the URL from its checked address; a redirect is returned, never followed (check its Location)."""
    return request("GET", url, body=None, headers=headers, timeout=timeout, max_body=max_body)


def request(method: str, url: str, *, body: bytes | None, headers: dict[str, str], timeout: float,
            max_body: int) -> Answer:
    target = parse_target(url)
    deadline = time.monotonic() + timeout
    address = resolve(target)
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target.host, target.port, address=address,
                                  timeout=min(CONNECT_TIMEOUT_SECONDS, timeout))
    try:
        connection.connect()
        _limit(connection.sock, deadline)
        connection.request(method, target.path, body=body, headers=headers)
        _limit(connection.sock, deadline)
        response = connection.getresponse()
        content = b""
        while len(content) < max_body:
            piece = response.read1(max_body - len(content))
            if not piece:
                break
            content += piece
            if time.monotonic() > deadline:  # a receiver dripping its answer byte by byte
                raise TimeoutError
        truncated = len(content) >= max_body and (response.length > 0 if response.length is not None
                                                  else bool(response.read1(1)))
        return Answer(status=response.status, body=content, location=response.getheader("Location") or "",
                      headers={name.lower(): value for name, value in response.getheaders()}, truncated=truncated)
    except TimeoutError:
        raise SendFailed(f"No answer within {timeout:g} seconds (timed out).") from None
    except ssl.SSLError as exc:
        raise SendFailed(f"The TLS connection failed: {exc.reason or exc}.") from None
    except http.client.HTTPException as exc:
        raise SendFailed(f"The answer was not valid HTTP ({type(exc).__name__}).") from None
    except OSError as exc:
        raise SendFailed(f"Could not connect to {target.host}: {exc.strerror or exc}.") from None
    finally:
        connection.close()


def resolve(target: Target) -> str:
    """The address to connect to, after checking every address the host resolves to."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise SendFailed(f"The host {target.host} could not be found (DNS).") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        _check_address(address, target.host)
    return str(addresses[0])


def address_refusal(address: _IPAddress) -> str | None:
    """Why Docent will not connect to this address, or None."""
    if address.version == 6 and address.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_global or settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.version == 4 and address in _CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if address.is_private:
        return "a private address"
    return "a reserved address"


def _check_address(address: _IPAddress, host: str) -> None:
    reason = address_refusal(address)
    if reason is not None:
        named = str(address) if str(address) == host else f"{host} ({address})"
        raise Refused(f"{named} is {reason}: Docent connects to public internet addresses only.")


def _refuse_unless_private_allowed(what: str) -> None:
    if not settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES:
        raise Refused(f"{what}: Docent connects to public internet addresses only.")


def _literal_address(host: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _limit(sock: socket.socket, deadline: float) -> None:
    """What is left of the attempt's time, for the next wait on the socket."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
