"""The blameless postmortem: facts gathered from an incident, rendered to Markdown.

`facts.facts_from` turns the stored incident, its alerts, timeline and playbook runs (and the
error budget, when known) into a frozen `facts.Facts`; `render.render` turns those facts into a
Markdown draft through a Jinja2 template that a team may replace with its own.
"""
