"""Playbooks: scripted mitigations (roll back, switch to the heuristic, freeze) as YAML data."""
