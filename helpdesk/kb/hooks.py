"""The knowledge base's listeners, imported once by the application factory: the article index
and the use counter (after every flush), and the known-problem followers told when an
investigation resolves its customers' demands."""

from . import index, problems, uses  # noqa: F401 - registering is importing

__all__: list[str] = []
