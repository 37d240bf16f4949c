"""HTTP edge: webhook receivers, the JSON API, health, and Slack's endpoint (through Bolt).

Each module translates HTTP into calls and their results into responses; import from the
modules themselves (`from bot.http.api import ApiAccess`): this file imports none of them.

- `errors`: `Problem`, the JSON error every route answers with, and the app's error handlers.
- `bodies`: reading, bounding and decoding request bodies; the bearer-token check.
- `webhooks`: `/webhooks/{source}` (alerts) and `/webhooks/changes`.
- `api`: `/api/*`, and `ApiAccess`, who may call it.
- `health`: `/healthz`, `/readyz`, `/metrics`, and `/bench/noop`.
- `slack`: `/slack/events`, handed to Bolt once bounded and verified.
"""
