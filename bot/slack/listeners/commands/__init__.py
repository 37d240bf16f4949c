"""Slash commands: the one `/incident` command (incident.py, with its register(app)) and its
subcommands, one module per area."""
