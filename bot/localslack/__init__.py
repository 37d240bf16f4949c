"""A local stand-in for the Slack Web API, for development and tests.

`state.Workspace` holds the state and answers calls; `api.build_api` serves it over HTTP the way
slack_sdk expects (Socket Mode's WebSocket included), `page.build_page` serves a small Slack
client in a browser (act as a person, type messages and slash commands, click buttons, fill
modals; requests go signed to the app set with `Workspace.install_app`), and
`server.LocalSlackServer` runs the API on a free port in a background thread and delivers Socket
Mode envelopes to the app under test.
"""
