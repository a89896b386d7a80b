"""The OpenAPI schema: valid, and documenting the errors each operation answers with."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_protected_operation_documents_401_and_403_in_the_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        if path.endswith(("/schema/", "/docs/")):
            continue
        for status in ("401", "403"):
            documented = operation["responses"].get(status)
            assert documented, f"{method.upper()} {path} does not document {status}"
            assert documented["content"]["application/json"]["schema"] == error


def test_operations_with_a_body_document_its_refusals(schema):
    for path, method, operation in operations(schema):
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), f"{method} {path}"


def test_mint_documents_throttling_and_idempotency(schema):
    mint = schema["paths"]["/api/v1/tokens/"]["post"]
    assert "Retry-After" in mint["responses"]["429"]["headers"]
    assert "422" in mint["responses"]
    assert any(parameter["name"] == "Idempotency-Key" for parameter in mint["parameters"])


def test_lists_are_documented_as_the_pages_they_are(schema):
    tokens = schema["paths"]["/api/v1/tokens/"]["get"]
    names = {parameter["name"] for parameter in tokens["parameters"]}
    assert {"limit", "offset", "issuer", "status", "expiring_within"} <= names
    page = tokens["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PaginatedTokenList"}


def test_the_error_shape_is_a_component(schema):
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "fields"}
