"""Deployment targets: where mitigations act (roll back, switch to the heuristic, freeze)."""
