"""Every recorded cassette is free of credentials and account ids."""

from __future__ import annotations

from pathlib import Path

from cf_ai_gateway.testing import scan_cassettes

from integration_tests.conftest import EMULATOR_BYOK_KEY, EMULATOR_PROVIDER_KEY

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


def test_cassettes_exist() -> None:
    assert any(CASSETTES.rglob("*.yaml")), f"no cassettes under {CASSETTES}"


def test_cassettes_hold_no_secrets() -> None:
    # the keys scenarios send (scrubbed) or store in the emulator (BYOK: never sent at all)
    findings = scan_cassettes(CASSETTES, secrets=[EMULATOR_PROVIDER_KEY, EMULATOR_BYOK_KEY])
    assert not findings, "secrets in cassettes:\n" + "\n".join(map(str, findings))
