"""Smoke-test one extra of ``cf-ai-gateway`` as a user gets it: installed from the built wheels
into a fresh venv, run from outside the repository.

    python -I tools/smoke.py EXTRA WHEELHOUSE

``nox -s package`` copies this file into a temporary directory and runs it with the fresh
venv's interpreter (``-I``: no ``PYTHONPATH``, no user site, no current directory on
``sys.path``), after ``pip install --find-links WHEELHOUSE "cf-ai-gateway[EXTRA]"
"cf-ai-gateway[emulator]"``. It checks, in order:

1. every installed ``cf-ai-gateway*`` distribution is the wheel in WHEELHOUSE (same METADATA),
   at one version, installed into the venv (not editable, not the source tree), and the ones
   the extra promises are there;
2. the emulator's console script starts (``cf-ai-gateway-emulator serve --port 0``);
3. the core, configured from the environment (``CF_AIG_URL``, ``CF_AIG_TOKEN``), makes one
   call and one stream through it;
4. each adapter the extra installs does the same through its framework (``ADAPTER_SMOKES``);
   ``[cli]`` runs ``cf-ai-gateway doctor``.

Only the standard library and what the extra installs are imported, each framework once.
Warnings raised from our own packages are errors.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

CORE = "cf-ai-gateway"
MODEL = "openai/gpt-4o-mini"
PROMPT = "Say hello in three words."
warnings.filterwarnings("error", module=r"cf_ai_gateway\w*(\.|$)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _ours() -> dict[str, metadata.Distribution]:
    return {
        _normalise(d.metadata["Name"]): d
        for d in metadata.distributions()
        if _normalise(d.metadata["Name"]).startswith(CORE)
    }


def _promised(extra: str) -> set[str]:
    """Our distributions that ``cf-ai-gateway[extra]`` (and ``[emulator]``) must install."""
    wanted = {CORE, f"{CORE}-emulator"}
    for req in metadata.requires(CORE) or []:
        marker = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", req)
        name = _normalise(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
        if marker and marker.group(1) == extra and name.startswith(CORE):
            wanted.add(name)
    return wanted


def check_installed(extra: str, wheelhouse: Path) -> list[str]:
    """Step 1; returns the adapters' distribution names."""
    installed = _ours()
    missing = _promised(extra) - set(installed)
    assert not missing, f"[{extra}] did not install {sorted(missing)}"
    versions = {d.version for d in installed.values()}
    assert len(versions) == 1, f"our distributions disagree on the version: {versions}"
    prefix = Path(sys.prefix).resolve()
    for name, dist in sorted(installed.items()):
        direct = dist.read_text("direct_url.json") or ""
        assert '"editable": true' not in direct.replace(" ", ""), f"{name} is editable"
        wheel = wheelhouse / f"{name.replace('-', '_')}-{dist.version}-py3-none-any.whl"
        assert wheel.is_file(), f"{name} {dist.version} is not in {wheelhouse}"
        with zipfile.ZipFile(wheel) as zf:
            meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            assert zf.read(meta).decode() == dist.read_text("METADATA"), (
                f"{name} was not installed from {wheel.name}"
            )
        for file in dist.files or []:
            if file.suffix == ".py":
                location = Path(str(dist.locate_file(file))).resolve()
                assert location.is_relative_to(prefix), f"{name} imports from {location}"
                break
        print(f"ok installed {name} {dist.version} from {wheel.name}")
    return sorted(n for n in installed if n not in (CORE, f"{CORE}-emulator"))


@contextmanager
def emulator() -> Iterator[str]:
    """Step 2: the installed console script on a free port; yields its base URL."""
    script = Path(sys.executable).with_name("cf-ai-gateway-emulator")
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [str(script), "serve", "--port", "0", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"listening on (http://\S+)", line)
            if not match:
                proc.kill()
                proc.wait()
                errors.seek(0)
                raise AssertionError(f"the emulator did not start: {line!r}\n{errors.read()}")
            print(f"ok emulator {match.group(1)}")
            yield match.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def smoke_core() -> None:
    """Step 3."""
    from cf_ai_gateway import Gateway, GatewayClient

    with GatewayClient(Gateway.from_env()) as client:
        body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
        result = client.chat_completions(body)
        assert result.data["choices"][0]["message"]["content"], result.data
        assert result.info.log_id, result.info
        with client.stream_chat_completions(body) as stream:
            text = "".join(
                chunk["choices"][0]["delta"].get("content") or ""
                for chunk in stream
                if chunk.get("choices")
            )
        assert text, "the stream carried no text"
    print(f"ok core: call (log {result.info.log_id}) and stream ({len(text)} chars)")


def smoke_langchain() -> None:
    from cf_ai_gateway_langchain import ChatCloudflareAIGateway

    llm = ChatCloudflareAIGateway(model=MODEL)
    reply = llm.invoke(PROMPT)
    assert reply.content, reply
    assert reply.response_metadata["cf_aig"]["log_id"], reply.response_metadata
    text = "".join(str(chunk.content) for chunk in llm.stream(PROMPT))
    assert text, "the stream carried no text"


def smoke_llamaindex() -> None:
    from cf_ai_gateway_llamaindex import CloudflareAIGatewayLLM

    llm = CloudflareAIGatewayLLM(model=MODEL)
    reply = llm.complete(PROMPT)
    assert reply.text, reply
    assert reply.additional_kwargs["cf_aig"]["log_id"], reply.additional_kwargs
    text = "".join(chunk.delta or "" for chunk in llm.stream_complete(PROMPT))
    assert text, "the stream carried no text"


def smoke_litellm() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download
    import cf_ai_gateway_litellm
    import litellm

    cf_ai_gateway_litellm.register()
    model = f"{cf_ai_gateway_litellm.PROVIDER}/{MODEL}"
    messages = [{"role": "user", "content": PROMPT}]
    reply = litellm.completion(model=model, messages=messages)
    info = cf_ai_gateway_litellm.response_info(reply)
    assert reply.choices[0].message.content, reply
    assert info is not None, "no gateway response info on the LiteLLM response"
    assert info.log_id, info
    stream = litellm.completion(model=model, messages=messages, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text, "the stream carried no text"


ADAPTER_SMOKES: dict[str, Callable[[], None]] = {
    f"{CORE}-langchain": smoke_langchain,
    f"{CORE}-llamaindex": smoke_llamaindex,
    f"{CORE}-litellm": smoke_litellm,
}
"""One call and one stream through each adapter's framework, configured from the
environment. An adapter without an entry here fails the check: add one."""


def smoke_cli() -> None:
    import rich  # noqa: F401  (what [cli] adds)

    command = Path(sys.executable).with_name("cf-ai-gateway")
    done = subprocess.run(
        [str(command), "doctor", "--plain"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    print("ok cli: cf-ai-gateway doctor passes")


def main(extra: str, wheelhouse: Path) -> int:
    here = Path.cwd().resolve()
    assert not (here / "packages").is_dir(), "run this outside the repository"
    adapters = check_installed(extra, wheelhouse.resolve())
    unknown = [a for a in adapters if a not in ADAPTER_SMOKES]
    assert not unknown, f"no smoke test for {unknown}: add one to ADAPTER_SMOKES"
    with emulator() as base_url:
        os.environ.update(CF_AIG_URL=f"{base_url}/v1/emu-account/demo", CF_AIG_TOKEN="emu-token")
        for name in ("CF_ACCOUNT_ID", "CF_GATEWAY_ID", "CF_AIG_PROVIDER_API_KEY"):
            os.environ.pop(name, None)
        smoke_core()
        for adapter in adapters:
            ADAPTER_SMOKES[adapter]()
            print(f"ok {adapter}: call and stream")
        if extra in ("cli", "all"):
            smoke_cli()
    print(f"ok [{extra}]")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -I smoke.py EXTRA WHEELHOUSE")
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
