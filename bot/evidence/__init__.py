"""Evidence of what an alert saw: its graph, drawn from the metrics behind it and posted in the
incident's channel (bot.evidence.flows); the metrics read through a port (bot.evidence.ports)
that an adapter at the edge implements (bot.evidence.adapters)."""
