"""JSON API v1: token auth, problem+json errors, the contract in ../../shared/ARCHITECTURE.md."""

from flask import Blueprint

bp = Blueprint("api", __name__)
