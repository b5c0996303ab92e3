"""The console surface's views."""

from flask import Blueprint

bp = Blueprint("console", __name__)
