"""Where the evidence is read: Prometheus's HTTP API, and images alert sources link to."""
