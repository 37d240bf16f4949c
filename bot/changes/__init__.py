"""Change management: the change feed, what changed before an incident, freezes and the gate."""
