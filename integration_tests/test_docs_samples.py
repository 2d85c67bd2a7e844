"""The docs-sample runner itself: blocks run on their own, failures and bare skips are caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_tests.docs_samples import python_blocks, run_sample

PAGE = """# A page

```python
import os

from cf_ai_gateway import Gateway

print(Gateway.from_env().gateway_id)
```

<!-- docs-test: skip needs Cloudflare credentials -->
```python
raise SystemExit("never run")
```

```python
print(undefined_name)  # relies on state from another block
```
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    doc = tmp_path / "page.md"
    doc.write_text(PAGE, encoding="utf-8")
    return doc


def test_blocks_are_found_and_skips_honoured(page: Path) -> None:
    samples = python_blocks(page)
    assert [s.line for s in samples] == [4, 17]
    assert str(samples[0]) == "page.md:4"


def test_a_skip_without_a_reason_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "bad.md"
    doc.write_text("<!-- docs-test: skip -->\n```python\npass\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="reason"):
        python_blocks(doc)


def test_each_block_runs_on_its_own(page: Path, docs_env: dict[str, str], tmp_path: Path) -> None:
    first, second = python_blocks(page)
    assert run_sample(first, docs_env, tmp_path).strip() == "docs"
    with pytest.raises(AssertionError, match="NameError"):
        run_sample(second, docs_env, tmp_path)
