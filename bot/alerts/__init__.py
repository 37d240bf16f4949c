"""Alerts: parsing of monitoring webhooks, normalisation, grouping and dedup."""
