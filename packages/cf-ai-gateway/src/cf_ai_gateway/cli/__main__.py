"""``python -m cf_ai_gateway.cli``: the ``cf-ai-gateway`` command."""

from . import main

raise SystemExit(main())
