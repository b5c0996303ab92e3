"""The Flask application class: every view runs as one unit of work."""

from __future__ import annotations

from flask import Flask

from . import unit


class HelpdeskFlask(Flask):
    """Flask whose dispatch closes each request's unit of work (`core.unit`).

    The commit happens here, after the view returned and before the response is sent, so a
    view cannot forget it and an error in the view cannot leave half a change behind.
    """

    def dispatch_request(self):
        try:
            rv = super().dispatch_request()
        except BaseException:
            unit.rollback()
            raise
        response = self.make_response(rv)
        try:
            unit.finish_request(response.status_code)
        except BaseException:
            unit.rollback()
            raise
        return response
