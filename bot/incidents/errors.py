"""Errors a responder sees: what was refused and why, in words they can act on."""


class Refused(Exception):
    """The request is understood but not allowed now; str(exc) tells the responder why.

    It is shown in Slack as mrkdwn: outside values in it (what was typed, a service name from an
    alert) go through bot.mrkdwn.escape, people through bot.incidents.people.mention."""


class NotFound(Refused):
    """No such incident, or this channel is not an incident's."""
