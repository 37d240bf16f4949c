"""A reference model service implementing Firebreak's Deployment API (docs/deployment-api.yaml).

`python -m examples.model_service --port 9000` serves it; `app.build_app()` builds it for tests.
Nothing is built at import time.
"""
