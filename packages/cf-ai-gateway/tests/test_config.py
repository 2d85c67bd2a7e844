from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest
from _cf_core_helpers import ACCOUNT, CORE_SETTINGS, TOKEN
from cf_ai_gateway import (
    PROVIDERS,
    Gateway,
    GatewayClient,
    GatewayConfigError,
    GatewayOptions,
    model_for_base_url,
    parse_gateway_url,
)
from hypothesis import assume, given
from hypothesis import strategies as st

GW = "https://gateway.ai.cloudflare.com/v1"
API = "https://api.cloudflare.com/client/v4"

# --- from_env ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"CF_ACCOUNT_ID": "acc", "CF_GATEWAY_ID": "gw", "CF_AIG_TOKEN": TOKEN},
        {"CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_GATEWAY_ID": "gw", "CF_API_TOKEN": TOKEN},
        {"CF_ACCOUNT_ID": "acc", "GATEWAY_ID": "gw", "CLOUDFLARE_API_TOKEN": TOKEN},
    ],
    ids=["CF_", "CLOUDFLARE_+CF_API_TOKEN", "GATEWAY_ID+CLOUDFLARE_API_TOKEN"],
)
def test_from_env_spellings(env: dict[str, str]) -> None:
    gw = Gateway.from_env(env)
    assert (gw.account_id, gw.gateway_id, gw.token) == ("acc", "gw", TOKEN)
    assert gw.base_url == GW
    assert gw.api_base_url == API
    assert gw.custom_domain is False


def test_from_env_first_spelling_wins_and_blank_is_ignored() -> None:
    env = {
        "CF_ACCOUNT_ID": "  ",
        "CLOUDFLARE_ACCOUNT_ID": "acc-2",
        "CF_GATEWAY_ID": "gw-1",
        "GATEWAY_ID": "gw-2",
        "CF_AIG_TOKEN": "t1",
        "CF_API_TOKEN": "t2",
    }
    gw = Gateway.from_env(env)
    assert (gw.account_id, gw.gateway_id, gw.token) == ("acc-2", "gw-1", "t1")


def test_from_env_overrides_win_and_none_overrides_are_ignored() -> None:
    env = {"CF_ACCOUNT_ID": "acc", "CF_GATEWAY_ID": "gw"}
    gw = Gateway.from_env(env, gateway_id="other", token=None)
    assert gw.gateway_id == "other"
    assert gw.token is None
    opts = GatewayOptions(cache_ttl=60)
    assert Gateway.from_env(env, options=opts).options == opts


def test_from_env_base_urls() -> None:
    env = {
        "CF_ACCOUNT_ID": "acc",
        "CF_GATEWAY_ID": "gw",
        "CF_AIG_BASE_URL": "http://127.0.0.1:8787/v1/",
        "CF_AIG_API_BASE_URL": "http://127.0.0.1:8787/client/v4",
    }
    gw = Gateway.from_env(env)
    assert gw.base_url == "http://127.0.0.1:8787/v1"
    assert gw.api_base_url == "http://127.0.0.1:8787/client/v4"
    assert gw.compat_url() == "http://127.0.0.1:8787/v1/acc/gw/compat/chat/completions"


def test_from_env_cf_aig_url() -> None:
    gw = Gateway.from_env({"CF_AIG_URL": f"{GW}/acc/gw/openai", "CF_AIG_TOKEN": TOKEN})
    assert (gw.account_id, gw.gateway_id, gw.token) == ("acc", "gw", TOKEN)
    assert gw.base_url == GW
    # an explicit id beats the URL
    gw = Gateway.from_env({"CF_AIG_URL": f"{GW}/acc/gw", "CF_GATEWAY_ID": "gw2"})
    assert gw.gateway_id == "gw2"


def test_from_env_cf_aig_url_emulator_and_custom_domain() -> None:
    gw = Gateway.from_env({"CF_AIG_URL": "http://127.0.0.1:8787/v1/acc/gw"})
    assert gw.base_url == "http://127.0.0.1:8787/v1"
    assert gw.api_base_url == "http://127.0.0.1:8787/client/v4"
    gw = Gateway.from_env({"CF_AIG_URL": "https://ai.example.com/compat"})
    assert gw.custom_domain is True
    assert gw.root_url == "https://ai.example.com"


def test_from_env_missing_lists_every_env_name() -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway.from_env({})
    msg = str(exc_info.value)
    for name in (
        "CF_ACCOUNT_ID",
        "CLOUDFLARE_ACCOUNT_ID",
        "CF_GATEWAY_ID",
        "GATEWAY_ID",
        "CLOUDFLARE_GATEWAY_ID",
        "CF_AIG_URL",
    ):
        assert name in msg


def test_from_env_missing_gateway_only_names_gateway_vars() -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway.from_env({"CF_ACCOUNT_ID": "acc"})
    msg = str(exc_info.value)
    assert "CF_GATEWAY_ID or GATEWAY_ID or CLOUDFLARE_GATEWAY_ID" in msg
    assert "CLOUDFLARE_ACCOUNT_ID" not in msg


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_ACCOUNT_ID", "acc-os")
    monkeypatch.setenv("CF_GATEWAY_ID", "gw-os")
    monkeypatch.delenv("CF_AIG_URL", raising=False)
    gw = Gateway.from_env()
    assert (gw.account_id, gw.gateway_id) == ("acc-os", "gw-os")


# --- secrets never shown -------------------------------------------------------------------


def test_token_never_in_repr_or_str() -> None:
    gw = Gateway(account_id="acc", gateway_id="gw", token=TOKEN)
    for text in (repr(gw), str(gw), f"{gw}", repr([gw])):
        assert TOKEN not in text
    assert "token='***'" in repr(gw)
    client = GatewayClient(gw, api_key="sk-client-key-123456")
    try:
        assert TOKEN not in repr(client)
        assert "sk-client-key-123456" not in repr(client)
        assert "gateway=Gateway(" in repr(client)
    finally:
        client.close()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"account_id": "acc/x"}, "account_id='acc/x'"),
        ({"account_id": ""}, "account_id=''"),
        ({"gateway_id": "gw x"}, "gateway_id='gw x'"),
        ({"gateway_id": "g" * 65}, "gateway_id='" + "g" * 65 + "'"),
        ({"gateway_id": "-gw"}, "gateway_id='-gw'"),
        ({"token": "two\nlines"}, "token must be"),
        ({"token": "  "}, "token must be"),
        ({"base_url": "ftp://x/v1"}, "base_url='ftp://x/v1'"),
        ({"base_url": "https://gateway.ai.cloudflare.com"}, "must be"),
        ({"api_base_url": "https://api.cloudflare.com/client/v4?x=1"}, "query string"),
        ({"options": {"cache_ttl": 60}}, "options must be GatewayOptions"),
    ],
)
def test_gateway_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway(**{"account_id": "acc", "gateway_id": "gw", **kwargs})  # type: ignore[arg-type]
    assert fragment in str(exc_info.value)
    assert "two\nlines" not in str(exc_info.value)


def test_gateway_id_max_length_ok() -> None:
    assert Gateway(account_id="a", gateway_id="g" * 64).gateway_id == "g" * 64


def test_with_options_merges() -> None:
    gw = Gateway(account_id="a", gateway_id="g", options=GatewayOptions(metadata={"app": "x"}))
    gw2 = gw.with_options(GatewayOptions(metadata={"user": "u"}, cache_ttl=60))
    assert dict(gw2.options.metadata or {}) == {"app": "x", "user": "u"}
    assert gw2.options.cache_ttl == 60
    assert gw.options.cache_ttl is None


# --- from_url over every shape -------------------------------------------------------------

ROOT = f"{GW}/acc/my-gw"

# url -> (account, gateway, base_url, api_base_url, custom_domain, surface, provider, endpoint)
SHAPES: dict[str, tuple[object, ...]] = {
    ROOT: ("acc", "my-gw", GW, API, False, "universal", None, None),
    ROOT + "/": ("acc", "my-gw", GW, API, False, "universal", None, None),
    ROOT + "/openai": ("acc", "my-gw", GW, API, False, "provider", "openai", None),
    ROOT + "/openai/v1": ("acc", "my-gw", GW, API, False, "provider", "openai", None),
    ROOT + "/openai/chat/completions": (
        "acc", "my-gw", GW, API, False, "provider", "openai", "chat/completions",
    ),
    ROOT + "/workers-ai/v1/chat/completions": (
        "acc", "my-gw", GW, API, False, "provider", "workers-ai", "v1/chat/completions",
    ),
    ROOT + "/perplexity-ai": ("acc", "my-gw", GW, API, False, "provider", "perplexity-ai", None),
    ROOT + "/custom-acme": ("acc", "my-gw", GW, API, False, "provider", "custom-acme", None),
    ROOT + "/compat": ("acc", "my-gw", GW, API, False, "compat", None, None),
    ROOT + "/compat/chat/completions": (
        "acc", "my-gw", GW, API, False, "compat", None, "chat/completions",
    ),
    ROOT + "/compat/v1/chat/completions": (
        "acc", "my-gw", GW, API, False, "compat", None, "chat/completions",
    ),
    f"{API}/accounts/acc/ai/v1": ("acc", None, GW, API, False, "rest", None, None),
    f"{API}/accounts/acc/ai/v1/chat/completions": (
        "acc", None, GW, API, False, "rest", None, "chat/completions",
    ),
    f"{API}/accounts/acc/ai-gateway/gateways/my-gw": (
        "acc", "my-gw", GW, API, False, "rest", None, None,
    ),
    f"{API}/accounts/acc/ai-gateway/gateways/my-gw/logs": (
        "acc", "my-gw", GW, API, False, "rest", None, None,
    ),
    "https://ai.example.com": (
        None, None, "https://ai.example.com", API, True, "universal", None, None,
    ),
    "https://ai.example.com/compat": (
        None, None, "https://ai.example.com", API, True, "compat", None, None,
    ),
    "https://ai.example.com/compat/v1/chat/completions": (
        None, None, "https://ai.example.com", API, True, "compat", None, "chat/completions",
    ),
    "https://ai.example.com/openai": (
        None, None, "https://ai.example.com", API, True, "provider", "openai", None,
    ),
    "https://ai.example.com/openai/v1/chat/completions": (
        None, None, "https://ai.example.com", API, True, "provider", "openai",
        "v1/chat/completions",
    ),
    "https://ai.example.com/team/gw/anthropic/v1/messages": (
        None, None, "https://ai.example.com/team/gw", API, True, "provider", "anthropic",
        "v1/messages",
    ),
    "http://127.0.0.1:8787/v1/acc/gw": (
        "acc", "gw", "http://127.0.0.1:8787/v1", "http://127.0.0.1:8787/client/v4", False,
        "universal", None, None,
    ),
    "http://127.0.0.1:8787/v1/acc/gw/compat": (
        "acc", "gw", "http://127.0.0.1:8787/v1", "http://127.0.0.1:8787/client/v4", False,
        "compat", None, None,
    ),
    "http://localhost:9000/client/v4/accounts/acc/ai/v1": (
        "acc", None, "http://localhost:9000/v1", "http://localhost:9000/client/v4", False,
        "rest", None, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("url", list(SHAPES))
def test_from_url_every_shape(url: str) -> None:
    account, gateway, base, api, custom, surface, provider, endpoint = SHAPES[url]
    gw = Gateway.from_url(url, token=TOKEN)
    assert (gw.account_id, gw.gateway_id) == (account, gateway)
    assert gw.base_url == base
    assert gw.api_base_url == api
    assert gw.custom_domain is custom
    assert gw.token == TOKEN
    parsed = parse_gateway_url(url)
    assert (parsed.surface, parsed.provider, parsed.endpoint) == (surface, provider, endpoint)


def test_from_url_error_keeps_the_parse_error_as_cause() -> None:
    with pytest.raises(GatewayConfigError, match="absolute") as exc_info:
        Gateway.from_url("gateway.ai.cloudflare.com/v1/acc/gw")
    assert isinstance(exc_info.value.__cause__, ValueError)
    assert not isinstance(exc_info.value.__cause__, GatewayConfigError)


def test_from_url_custom_domain_builds_urls_from_root() -> None:
    gw = Gateway.from_url("https://ai.example.com/openai/v1/chat/completions")
    assert gw.compat_url() == "https://ai.example.com/compat/chat/completions"
    assert gw.provider_url("openai", "chat/completions") == (
        "https://ai.example.com/openai/chat/completions"
    )
    assert gw.universal_url() == "https://ai.example.com"


def test_from_url_kwargs_override() -> None:
    gw = Gateway.from_url(ROOT, gateway_id="other")
    assert gw.gateway_id == "other"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (ROOT + "?cf-aig-cache-ttl=60", "query string"),
        (ROOT + "#frag", "query string"),
        ("ftp://gateway.ai.cloudflare.com/v1/acc/gw", "absolute http(s) URL"),
        ("gateway.ai.cloudflare.com/v1/acc/gw", "absolute http(s) URL"),
        ("", "non-empty string"),
        (f"{GW}/acc", "must look like"),
        ("https://gateway.ai.cloudflare.com/acc/gw", "must look like"),
        (f"{GW}/acc/bad%20id", "gateway_id='bad%20id'"),
        (f"{GW}/acc/" + "g" * 65, "gateway_id='" + "g" * 65),
        (f"{GW}/ac!c/gw", "account_id='ac!c'"),
    ],
)
def test_from_url_rejects(url: str, fragment: str) -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway.from_url(url)
    assert fragment in str(exc_info.value)


# --- URL builders --------------------------------------------------------------------------


def test_url_builders(gateway: Gateway) -> None:
    root = f"{GW}/{ACCOUNT}/my-gw"
    assert gateway.root_url == root
    assert gateway.universal_url() == root
    assert gateway.compat_url() == f"{root}/compat/chat/completions"
    assert gateway.compat_url("/v1/chat/completions/") == f"{root}/compat/chat/completions"
    assert (
        gateway.provider_url("openai", "v1/chat/completions") == f"{root}/openai/chat/completions"
    )
    assert gateway.provider_url("openai", "v1") == f"{root}/openai"
    assert gateway.provider_url("openai") == f"{root}/openai"
    assert gateway.provider_url("perplexity", "chat/completions") == (
        f"{root}/perplexity-ai/chat/completions"
    )
    assert gateway.provider_url("anthropic", "v1/messages") == f"{root}/anthropic/v1/messages"
    assert gateway.provider_url("workers-ai", "v1/chat/completions") == (
        f"{root}/workers-ai/v1/chat/completions"
    )
    assert gateway.rest_url() == f"{API}/accounts/{ACCOUNT}/ai/v1/chat/completions"
    assert gateway.rest_url("v1/responses") == f"{API}/accounts/{ACCOUNT}/ai/v1/responses"
    assert (
        gateway.rest_url("run/@cf/meta/llama") == f"{API}/accounts/{ACCOUNT}/ai/run/@cf/meta/llama"
    )
    assert gateway.management_url("gateways") == f"{API}/accounts/{ACCOUNT}/ai-gateway/gateways"
    assert gateway.logs_url() == f"{API}/accounts/{ACCOUNT}/ai-gateway/gateways/my-gw/logs"
    assert gateway.logs_url("L1") == f"{API}/accounts/{ACCOUNT}/ai-gateway/gateways/my-gw/logs/L1"


def test_url_builders_need_ids() -> None:
    gw = Gateway(account_id="acc")
    with pytest.raises(GatewayConfigError, match="gateway_id must be set"):
        gw.compat_url()
    assert gw.rest_url() == f"{API}/accounts/acc/ai/v1/chat/completions"
    with pytest.raises(GatewayConfigError, match="account_id must be set"):
        Gateway().rest_url()


def doubles_v1(url: str) -> bool:
    """Whether two consecutive path segments are both ``v1``."""
    segments = urlsplit(url).path.split("/")
    return any(a == b == "v1" for a, b in itertools.pairwise(segments))


def test_doubles_v1_helper() -> None:
    assert doubles_v1("https://h/v1/acc/gw/openai/v1/v1/chat")
    assert not doubles_v1("https://h/v1/v10/gw")


ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,20}\Z")
path_segments = st.lists(
    st.from_regex(r"\A[a-z][a-z0-9._-]{0,10}\Z").filter(lambda s: s != "v1"), max_size=3
)


@CORE_SETTINGS
@given(
    provider=st.sampled_from(PROVIDERS),
    segments=path_segments,
    lead_v1=st.booleans(),
    slashes=st.booleans(),
    account=ids,
    gateway_id=ids | st.sampled_from([p.slug for p in PROVIDERS] + ["compat", "v1", "default"]),
)
def test_provider_url_never_doubles_v1_and_round_trips(
    provider: object,
    segments: list[str],
    lead_v1: bool,
    slashes: bool,
    account: str,
    gateway_id: str,
) -> None:
    from cf_ai_gateway import Provider

    assert isinstance(provider, Provider)
    assume(account != "v1")
    gw = Gateway(account_id=account, gateway_id=gateway_id)
    path = "/".join((["v1"] if lead_v1 else []) + segments)
    if slashes:
        path = f"/{path}/"
    url = gw.provider_url(provider, path)
    assert not doubles_v1(url)
    assert "//" not in url.removeprefix("https://")
    parsed = parse_gateway_url(url)
    assert (parsed.account_id, parsed.gateway_id) == (account, gateway_id)
    assert parsed.provider == provider.slug
    assert parsed.surface == "provider"
    for name in ("compat_url", "universal_url"):
        built = getattr(gw, name)()
        assert not doubles_v1(built)
        again = parse_gateway_url(built)
        assert (again.account_id, again.gateway_id) == (account, gateway_id)


@CORE_SETTINGS
@given(endpoint=path_segments, lead_v1=st.booleans(), account=ids)
def test_compat_and_rest_urls_never_double_v1(
    endpoint: list[str], lead_v1: bool, account: str
) -> None:
    assume(endpoint)
    assume(account != "v1")
    gw = Gateway(account_id=account, gateway_id="gw")
    path = "/".join((["v1"] if lead_v1 else []) + endpoint)
    assert not doubles_v1(gw.compat_url(path))
    rest = gw.rest_url(path)
    assert not doubles_v1(rest)
    assert parse_gateway_url(rest).account_id == account


# --- from_base_url: what users paste into OpenAI-style clients ----------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (ROOT + "/openai", ("acc", "my-gw", GW)),
        (ROOT + "/openai/v1", ("acc", "my-gw", GW)),
        (ROOT + "/compat", ("acc", "my-gw", GW)),
        (ROOT + "/compat/v1/", ("acc", "my-gw", GW)),
        (ROOT, ("acc", "my-gw", GW)),
        (ROOT + "/workers-ai/v1", ("acc", "my-gw", GW)),
        ("http://127.0.0.1:8787/v1/acc/gw/openai", ("acc", "gw", "http://127.0.0.1:8787/v1")),
        ("https://ai.example.com/openai/v1", (None, None, "https://ai.example.com")),
    ],
)
def test_from_base_url_parses_never_glues(url: str, expected: tuple[object, ...]) -> None:
    gw = Gateway.from_base_url(url, token=TOKEN)
    assert (gw.account_id, gw.gateway_id, gw.base_url) == expected
    assert gw.token == TOKEN
    for built in (gw.compat_url(), gw.provider_url("openai", "chat/completions")):
        assert built.count("/v1") <= 1
        assert built.count("my-gw") <= 1
        assert "/openai/compat" not in built


def test_from_base_url_rest_takes_the_gateway_id_from_arguments() -> None:
    gw = Gateway.from_base_url(f"{API}/accounts/acc/ai/v1", gateway_id="my-gw")
    assert (gw.account_id, gw.gateway_id) == ("acc", "my-gw")
    assert gw.rest_url() == f"{API}/accounts/acc/ai/v1/chat/completions"


def test_from_base_url_conflicting_ids_are_named() -> None:
    with pytest.raises(GatewayConfigError, match="gateway_id='my-gw' but gateway_id='other'"):
        Gateway.from_base_url(ROOT + "/openai", gateway_id="other")
    same = Gateway.from_base_url(ROOT + "/openai", account_id="acc", gateway_id="my-gw")
    assert same.gateway_id == "my-gw"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://api.openai.com/v1", "provider's own API (api.openai.com)"),
        ("https://api.groq.com/openai/v1", "provider's own API (api.groq.com)"),
        ("https://myres.openai.azure.com/openai", "provider's own API"),
        ("https://openrouter.ai/api/v1", "provider's own API"),
        (GW, "does not name a gateway"),
        (f"{GW}/acc", "does not name a gateway"),
        ("http://localhost:11434/v1", "names no gateway surface"),
        ("https://example.com", "names no gateway surface"),
    ],
)
def test_from_base_url_refuses_what_is_not_a_gateway(url: str, fragment: str) -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway.from_base_url(url, param="openai_api_base")
    message = str(exc_info.value)
    assert fragment in message
    assert "gateway_url=" in message
    assert message.startswith(f"openai_api_base={url!r}")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:sk-secret-123@gateway.ai.cloudflare.com/v1/acc/gw/openai",
        f"{ROOT}/openai?api-key=sk-secret-123",
        f"{ROOT}/openai#sk-secret-123",
    ],
)
def test_from_base_url_never_echoes_credentials(url: str) -> None:
    with pytest.raises(GatewayConfigError) as exc_info:
        Gateway.from_base_url(url)
    assert "sk-secret-123" not in str(exc_info.value)
    assert "credentials" in str(exc_info.value)


@pytest.mark.parametrize(
    ("model", "url", "expected"),
    [
        ("gpt-4o-mini", ROOT + "/openai", "openai/gpt-4o-mini"),
        ("gpt-4o-mini", ROOT + "/openai/v1", "openai/gpt-4o-mini"),
        ("openai/gpt-4o-mini", ROOT + "/openai", "openai/gpt-4o-mini"),
        (
            "@cf/meta/llama-3.1-8b-instruct",
            ROOT + "/workers-ai/v1",
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        ),
        ("openai/gpt-4o", ROOT + "/openrouter", "openrouter/openai/gpt-4o"),
        ("sonar", ROOT + "/perplexity-ai", "perplexity/sonar"),
        ("perplexity/sonar", ROOT + "/perplexity-ai", "perplexity/sonar"),
        ("dynamic/support", ROOT + "/openai", "dynamic/support"),
        ("gpt-4o-mini", ROOT + "/compat", "gpt-4o-mini"),
        ("openai/gpt-4o-mini", ROOT, "openai/gpt-4o-mini"),
    ],
)  # fmt: skip
def test_model_for_base_url(model: str, url: str, expected: str) -> None:
    assert model_for_base_url(model, url) == expected
