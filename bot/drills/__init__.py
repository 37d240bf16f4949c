"""Drills: replay a stored alert scenario as a DRILL incident that acts on a recording target."""
