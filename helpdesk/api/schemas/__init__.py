"""The API's request and response bodies as pydantic models, split by feature.

Request models parse JSON bodies (strict: a wrong type is a 422 naming the field, see
`validation.parse_body`); response models describe what the serializers return (every field, no
others: `extra="forbid"` becomes `additionalProperties: false`). Both feed the OpenAPI document
(`api.openapi`), and tests/test_api_contract.py checks every response the tests see against it.
"""
