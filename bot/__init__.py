"""Firebreak: incident-response ChatOps for teams running ML models in production."""

__version__ = "0.1.0"
