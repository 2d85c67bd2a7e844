"""Every recorded cassette is free of credentials and account ids."""

from __future__ import annotations

from pathlib import Path

from cf_ai_gateway.testing import scan_cassettes

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


def test_cassettes_exist() -> None:
    assert any(CASSETTES.rglob("*.yaml")), f"no cassettes under {CASSETTES}"


def test_cassettes_hold_no_secrets() -> None:
    findings = scan_cassettes(CASSETTES)
    assert not findings, "secrets in cassettes:\n" + "\n".join(map(str, findings))
