"""Incidents: the record of one outage, its status, severity, channel and timeline."""
