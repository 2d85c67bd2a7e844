"""The packaging checks themselves: one version everywhere (``tools/version.py``) and the
wheel check's extras rule (``tools/check_wheels.py``) catch what they are there to catch."""

from __future__ import annotations

import shutil
import sys
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import check_wheels  # noqa: E402
import version  # noqa: E402


def test_the_repository_has_one_version() -> None:
    assert version.problems() == []


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The version-bearing files of the repository, in a scratch root."""
    for source in [
        ROOT / "VERSION",
        ROOT / "pyproject.toml",
        *ROOT.glob("packages/*/pyproject.toml"),
    ]:
        target = tmp_path / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    for source in ROOT.glob("packages/*/src/*/__init__.py"):
        target = tmp_path / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    monkeypatch.setattr(version, "ROOT", tmp_path)
    monkeypatch.setattr(version, "VERSION_FILE", tmp_path / "VERSION")
    return tmp_path


def test_a_drifted_pin_or_static_version_is_named(copy: Path) -> None:
    current = version.read_version()
    pyproject = copy / "packages" / "cf-ai-gateway-emulator" / "pyproject.toml"
    text = pyproject.read_text().replace(f"cf-ai-gateway=={current}", "cf-ai-gateway==0.0.9")
    pyproject.write_text(text.replace('dynamic = ["version"]', 'version = "0.0.9"'))
    found = "\n".join(version.problems())
    assert "cf-ai-gateway==0.0.9" in found
    assert "must be read from VERSION" in found


def test_set_moves_every_pin_and_version(copy: Path) -> None:
    version.set_version("9.8.7")
    assert version.read_version() == "9.8.7"
    assert version.problems() == []
    core = (copy / "packages" / "cf-ai-gateway" / "pyproject.toml").read_text()
    assert "cf-ai-gateway-langchain==9.8.7" in core


def _core(*requires: str, extras: tuple[str, ...]) -> check_wheels.Built:
    meta = Message()
    meta["Name"] = "cf-ai-gateway"
    for extra in extras:
        meta["Provides-Extra"] = extra
    for req in requires:
        meta["Requires-Dist"] = req
    return check_wheels.Built(Path("cf_ai_gateway-1.0-py3-none-any.whl"), meta)


def test_every_distribution_needs_an_extra_and_all_covers_them() -> None:
    ours = {"cf-ai-gateway", "cf-ai-gateway-langchain", "cf-ai-gateway-litellm"}
    core = _core(
        "httpx>=0.27",
        "cf-ai-gateway-langchain==1.0; extra == 'langchain'",
        "cf-ai-gateway-langchain==1.0; extra == 'all'",
        extras=("langchain", "all"),
    )
    found = check_wheels.check_extras(core, ours)
    assert found == ["the core has no extra [litellm] requiring exactly cf-ai-gateway-litellm"]
    core = _core(
        "cf-ai-gateway-langchain==1.0; extra == 'langchain'",
        "cf-ai-gateway-litellm==1.0; extra == 'litellm'",
        "cf-ai-gateway-langchain==1.0; extra == 'all'",
        extras=("langchain", "litellm", "all"),
    )
    assert check_wheels.check_extras(core, ours) == [
        "the core's [all] lacks ['cf-ai-gateway-litellm==1.0']"
    ]


def test_the_core_may_not_require_a_framework() -> None:
    core = _core("httpx>=0.27", "langchain-core>=0.3", extras=())
    found = check_wheels.check_requirements(core, "1.0", {"cf-ai-gateway"})
    assert found == [
        "cf_ai_gateway-1.0-py3-none-any.whl: the core requires 'langchain-core>=0.3' outside "
        "its extras"
    ]
