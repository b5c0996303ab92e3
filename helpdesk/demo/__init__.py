"""Demo data for `flask --app wsgi demo load`: the world in `data`, played through the services by
`loader`."""

from .loader import load_demo

__all__ = ["load_demo"]
