import asyncio

import pytest
from httpx import AsyncClient

from tests.factories import DEFAULT_PASSWORD, assert_problem, register


async def test_registering_creates_an_attendee_by_default(client: AsyncClient) -> None:
    response = await register(client, email="ada@example.com", full_name="Ada Lovelace")
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "email", "full_name", "role", "is_active", "created_at"}
    assert user["email"] == "ada@example.com"
    assert user["role"] == "attendee"
    assert user["is_active"] is True
    assert user["created_at"].endswith(("Z", "+00:00"))


async def test_an_organizer_may_register(client: AsyncClient) -> None:
    response = await register(client, role="organizer")
    assert response.status_code == 201
    assert response.json()["role"] == "organizer"


async def test_nobody_registers_as_admin(client: AsyncClient) -> None:
    body = assert_problem(await register(client, role="admin"), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "role"]


async def test_the_password_hash_is_never_returned(client: AsyncClient) -> None:
    response = await register(client)
    assert "password" not in response.text
    assert "argon2" not in response.text


async def test_emails_are_stored_normalised(client: AsyncClient) -> None:
    response = await register(client, email="  Mixed.Case@Example.COM ")
    assert response.json()["email"] == "mixed.case@example.com"


async def test_an_email_differing_only_in_case_is_taken(client: AsyncClient) -> None:
    assert (await register(client, email="taken@example.com")).status_code == 201
    assert_problem(await register(client, email="TAKEN@example.com"), 409, "email_taken")


async def test_concurrent_registrations_of_one_email_create_one_account(client: AsyncClient) -> None:
    responses = await asyncio.gather(*(register(client, email="race@example.com") for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    assert all(r.json()["code"] == "email_taken" for r in responses if r.status_code == 409)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "7-chars"),
        ("password", "x" * 129),
        ("email", "not-an-email"),
        ("email", "a@" + "b" * 320 + ".com"),
        ("full_name", ""),
        ("full_name", "   "),
        ("full_name", "n" * 201),
    ],
)
async def test_invalid_fields_are_rejected_naming_the_field(
    client: AsyncClient, field: str, value: str
) -> None:
    body = assert_problem(await register(client, **{field: value}), 422, "validation_error")
    assert ["body", field] in [error["loc"] for error in body["errors"]]


async def test_passwords_of_8_and_128_characters_are_accepted(client: AsyncClient) -> None:
    assert (await register(client, password="8-chars!")).status_code == 201
    assert (await register(client, password="p" * 128)).status_code == 201


async def test_role_and_status_cannot_be_mass_assigned(client: AsyncClient) -> None:
    for field, value in [("is_active", False), ("id", "x"), ("password_hash", "x")]:
        response = await register(client, **{field: value})
        assert_problem(response, 422, "validation_error")


async def test_default_password_fixture_is_valid(client: AsyncClient) -> None:
    assert len(DEFAULT_PASSWORD) >= 8
    assert (await register(client)).status_code == 201
