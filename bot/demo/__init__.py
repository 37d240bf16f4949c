"""`firebreak demo`: the whole loop on a real monitoring stack, narrated as it happens."""

from bot.demo.story import run_demo

__all__ = ["run_demo"]
