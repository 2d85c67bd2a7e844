"""Check built wheels: the core depends on no framework, and every distribution that
depends on the core pins the same version (extras pull adapters at the core's version)."""

from __future__ import annotations

import re
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

CORE_ALLOWED = {"httpx", "httpx-sse"}
FRAMEWORKS = ("langchain", "llama-index", "llama_index", "litellm", "starlette", "uvicorn")


def _metadata(wheel: Path) -> tuple[str, str, list[str]]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        msg = Parser().parsestr(zf.read(name).decode())
    return msg["Name"], msg["Version"], msg.get_all("Requires-Dist") or []


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def main(dist: Path) -> int:
    wheels = sorted(dist.glob("*.whl"))
    if not wheels:
        print(f"no wheels in {dist}")
        return 1
    problems: list[str] = []
    info = {wheel: _metadata(wheel) for wheel in wheels}
    core_version = next((v for n, v, _ in info.values() if n == "cf-ai-gateway"), None)
    if core_version is None:
        problems.append("the cf-ai-gateway wheel is missing")
    for wheel, (name, version, requires) in info.items():
        for req in requires:
            dist_name = _dist_name(req)
            is_extra = "extra ==" in req
            if name == "cf-ai-gateway" and not is_extra and dist_name not in CORE_ALLOWED:
                problems.append(f"{wheel.name}: core requires {req!r}")
            if name == "cf-ai-gateway" and any(f in dist_name for f in FRAMEWORKS) and not is_extra:
                problems.append(f"{wheel.name}: core requires a framework: {req!r}")
            if dist_name.startswith("cf-ai-gateway") and f"=={core_version}" not in req:
                problems.append(f"{wheel.name}: {req!r} does not pin {core_version}")
        print(f"ok {name} {version}: {len(requires)} requirement(s)")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist")))
