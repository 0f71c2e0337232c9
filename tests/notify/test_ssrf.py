"""The SSRF guard: only public addresses, checked once, whatever form the URL takes."""

from __future__ import annotations

import ipaddress

import pytest

from tradesweep.notify import (
    UnsafeWebhookURL,
    address_problem,
    allow_private_from_env,
    resolve_destination,
    validate_webhook_url,
)


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver answering from ``table``; any other name does not resolve."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} not in the fake DNS")
        return table[host]

    return resolve


PUBLIC_DNS = fake_dns({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.1.1/",
        "http://100.100.100.200/",  # Alibaba metadata
        "http://0.0.0.0/",
        "http://0.1.2.3/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://[64:ff9b::7f00:1]/",  # NAT64 wrapping 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 wrapping the metadata address
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd00:ec2::254]/",  # AWS IMDS over IPv6
        "http://[ff02::1]/",
        "http://2130706433/",  # decimal 127.0.0.1
        "http://017700000001/",  # octal
        "http://0x7f000001/",  # hex
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://127.0.0.01/",
        "ftp://hooks.example.com/",
        "file:///etc/passwd",
        "gopher://hooks.example.com/",
        "hooks.example.com/no-scheme",
        "http:///no-host",
        "http://user:pw@hooks.example.com/",
    ],
)
def test_refused_without_allow_private(url: str) -> None:
    with pytest.raises(UnsafeWebhookURL) as refused:
        resolve_destination(url, resolver=PUBLIC_DNS)
    assert refused.value.code == "unsafe_webhook_url"


def test_a_public_host_is_pinned_to_its_checked_address() -> None:
    dest = resolve_destination("https://Hooks.Example.COM/a?b=1", resolver=PUBLIC_DNS)
    assert (dest.scheme, dest.host, dest.port) == ("https", "hooks.example.com", 443)
    assert dest.address == "93.184.216.34"


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.1.2.3"],
        ["169.254.169.254"],
        ["::ffff:127.0.0.1"],
        ["93.184.216.34", "127.0.0.1"],  # one bad answer is enough
        ["2606:2800:220:1::1", "fe80::1%eth0"],
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused(answer: list[str]) -> None:
    resolver = fake_dns({"rebind.example.com": answer})
    with pytest.raises(UnsafeWebhookURL, match="resolves to an address that is") as refused:
        resolve_destination("http://rebind.example.com/", resolver=resolver)
    # The tenant sees why, never which internal address the name has.
    for address in answer:
        assert address.split("%")[0] not in str(refused.value)


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeWebhookURL, match="does not resolve"):
        resolve_destination("http://nowhere.example.com/", resolver=fake_dns({}))


def test_allow_private_lets_loopback_and_private_through() -> None:
    for url in ("http://127.0.0.1:8000/", "http://[::1]/", "http://10.0.0.5/", "http://localhost/"):
        dest = resolve_destination(url, allow_private=True)
        assert ipaddress.ip_address(dest.address).is_private


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://169.254.10.10/",
        "http://0.0.0.0:8000/",
        "http://[::]/",
        "http://224.0.0.251/",
        "http://2130706433/",
    ],
)
def test_allow_private_still_refuses_metadata_link_local_unspecified_and_odd_forms(
    url: str,
) -> None:
    with pytest.raises(UnsafeWebhookURL):
        resolve_destination(url, allow_private=True)


def test_validation_without_dns_checks_literals_only() -> None:
    validate_webhook_url("https://hooks.example.com/x")  # no lookup made
    with pytest.raises(UnsafeWebhookURL, match="loopback"):
        validate_webhook_url("http://127.0.0.1/")
    assert validate_webhook_url("http://127.0.0.1/", allow_private=True).port is None


def test_public_addresses_pass() -> None:
    for address in ("8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::1"):
        assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("", False)],
)
def test_allow_private_env(value: str, expected: bool) -> None:
    assert allow_private_from_env({"TRADESWEEP_WEBHOOK_ALLOW_PRIVATE": value}) is expected
    assert allow_private_from_env({}) is False
