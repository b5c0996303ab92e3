"""Every JSON answer of a documented /api/v1 operation checked against the OpenAPI document.

tests/conftest.py's test client calls `check_response` after each request, so the whole API
test-suite doubles as a contract test: a serializer that adds, drops or renames a field without
its model changing fails the test that saw the answer, naming the path, status and the difference.
Operations documented by their pydantic models (api.documented) are checked; an undocumented
status of such an operation is a failure too.
"""

from __future__ import annotations

import json

from flask import Flask
from jsonschema import Draft202012Validator, ValidationError
from werkzeug.exceptions import HTTPException

JSON_TYPES = ("application/json", "application/problem+json")


class Contract:
    def __init__(self, app: Flask):
        from helpdesk.api.documented import OPERATIONS
        from helpdesk.api.openapi import build_spec, openapi_path

        with app.test_request_context("/api/v1/openapi.json"):
            self.spec = build_spec()
        self.adapter = app.url_map.bind("localhost")
        self.paths = {
            rule.endpoint: openapi_path(rule.rule)
            for rule in app.url_map.iter_rules()
            if rule.endpoint in OPERATIONS
        }
        self.validators: dict[tuple[str, str, str, str], Draft202012Validator] = {}

    def validator(self, path: str, method: str, status: str, mimetype: str):
        key = (path, method, status, mimetype)
        if key not in self.validators:
            responses = self.spec["paths"][path][method]["responses"]
            if status not in responses:
                raise AssertionError(f"{method.upper()} {path}: status {status} is not documented")
            content = responses[status].get("content", {})
            if mimetype not in content:
                raise AssertionError(
                    f"{method.upper()} {path} {status}: {mimetype} is not documented"
                )
            schema = {**content[mimetype]["schema"], "components": self.spec["components"]}
            self.validators[key] = Draft202012Validator(schema)
        return self.validators[key]

    def check(self, method: str, url_path: str, response) -> None:
        if response.mimetype not in JSON_TYPES:
            return
        try:
            endpoint, _args = self.adapter.match(url_path, method=method)
        except HTTPException:
            return
        path = self.paths.get(endpoint)
        if path is None:  # not (yet) documented by models
            return
        method = method.lower()
        body = json.loads(response.get_data())
        validator = self.validator(path, method, str(response.status_code), response.mimetype)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            where = "\n".join(_explain(e) for e in errors[:10])
            raise AssertionError(
                f"{method.upper()} {path} {response.status_code} does not match the document:\n"
                f"{where}"
            )


def _explain(error: ValidationError) -> str:
    """Where and why; for "not valid under any of" the reason in each branch."""
    if error.context:
        return "\n".join(_explain(sub) for sub in error.context)
    where = "/".join(map(str, error.absolute_path)) or "(root)"
    return f"  at {where}: {error.message[:300]}"


def check_response(app: Flask, method: str, url_path: str, response) -> None:
    contract = app.extensions.get("api_contract")
    if contract is None:
        contract = app.extensions["api_contract"] = Contract(app)
    contract.check(method, url_path, response)
