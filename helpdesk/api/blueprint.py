"""The `api` blueprint object, in its own module so route modules can import it without cycles."""

from flask import Blueprint

bp = Blueprint("api", __name__)
