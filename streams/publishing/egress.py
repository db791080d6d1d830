"""Egress safety for user-supplied URLs: https only, public addresses only (DESIGN.md §11).

The address check runs in the connector's socket factory, i.e. on the very address the
socket is about to connect to, after DNS: a name that resolves to a public address when
validated and to 127.0.0.1 when used (DNS rebinding) is still refused, and so are IP
literals, which aiohttp never sends through a resolver.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ClientRequest
from aiohttp.tracing import Trace

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints; link-local / unique-local already, named so the intent is
# explicit and a future change to the stdlib's tables can't let them through.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class EgressRefused(OSError):
    """A connection that egress policy forbids. Permanent: the URL must change.

    The message is the same for every refused address on purpose: happy eyeballs only
    re-raises the original exception when all attempts failed with the same text (else
    it raises a plain OSError), so a name with several forbidden addresses still shows
    up as a refusal. The detail is in `reason`.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


def address_refusal(address: IPAddress) -> str | None:
    """Why connecting to `address` is forbidden, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        # Anything else outside the global unicast space (CGNAT 100.64/10, ...).
        (not address.is_global, "a non-public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def check_url_scheme(url: str, allow_private: bool) -> None:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "https" or (allow_private and scheme == "http"):
        return
    raise EgressRefused("only https URLs are allowed")


def _guarded_socket(addr_info: AddrInfoType) -> socket.socket:
    family, type_, proto, _, sockaddr = addr_info
    address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
    reason = address_refusal(address)
    if reason is not None:
        raise EgressRefused("refusing to connect to a non-public address", reason)
    return socket.socket(family=family, type=type_, proto=proto)


class EgressConnector(aiohttp.TCPConnector):
    """A TCPConnector that refuses non-https URLs and non-public peer addresses."""

    def __init__(self, *, allow_private: bool = False, **kwargs: Any) -> None:
        if not allow_private:
            kwargs["socket_factory"] = _guarded_socket
        super().__init__(**kwargs)
        self.allow_private = allow_private

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> ResponseHandler:
        # Checked per new connection, before any byte is sent; pooled connections were
        # checked when they were opened, and a pool key includes the scheme.
        check_url_scheme(str(req.url), self.allow_private)
        return await super()._create_connection(req, traces, timeout)
