"""A local emulator of Cloudflare AI Gateway (see ``docs/emulator.md``)."""

__version__ = "0.1.0"
