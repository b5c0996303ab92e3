"""Sign-in surface views."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
