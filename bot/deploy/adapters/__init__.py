"""Deployment-target adapters: the port in bot/deploy/ports.py over real deployment APIs."""
