"""Which addresses and schemes egress policy refuses."""

from __future__ import annotations

import ipaddress

import pytest

from streams.publishing.egress import EgressRefused, address_refusal, check_url_scheme


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",
        "::",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is not None


def test_metadata_address_is_named_as_such() -> None:
    assert address_refusal(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata address"
    assert address_refusal(ipaddress.ip_address("fd00:ec2::254")) == "a cloud metadata address"


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["http://example.com/", "ftp://example.com/", "file:///etc/passwd"])
def test_only_https_is_allowed_by_default(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_url_scheme(url, allow_private=False)


def test_allow_private_lifts_the_scheme_rule_for_http_only() -> None:
    check_url_scheme("http://127.0.0.1:8080/hook", allow_private=True)
    check_url_scheme("HTTPS://example.com/", allow_private=False)
    with pytest.raises(EgressRefused):
        check_url_scheme("ftp://example.com/", allow_private=True)
