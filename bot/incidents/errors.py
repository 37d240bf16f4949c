"""Errors a responder sees: what was refused and why, in words they can act on."""


class Refused(Exception):
    """The request is understood but not allowed now; str(exc) tells the responder why."""


class NotFound(Refused):
    """No such incident, or this channel is not an incident's."""
