"""Concurrent writes that hit a unique constraint answer 409, always; never a 500."""

import asyncio
from collections import Counter

from httpx import AsyncClient

from tests.factories import DEFAULT_PASSWORD, create_account, register, unique_email

RACERS = 8


async def test_concurrent_email_changes_to_one_address_answer_409_but_once(client: AsyncClient) -> None:
    accounts = [await create_account(client) for _ in range(RACERS)]
    target = unique_email("wanted")
    responses = await asyncio.gather(
        *(
            client.patch(
                "/api/v1/users/me",
                json={"email": target, "current_password": DEFAULT_PASSWORD},
                headers=account.headers,
            )
            for account in accounts
        )
    )
    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: RACERS - 1}), [
        r.text for r in responses
    ]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"email_taken"}


async def test_concurrent_registrations_of_one_email_answer_409_but_once(client: AsyncClient) -> None:
    email = unique_email("twin")
    responses = await asyncio.gather(*(register(client, email=email) for _ in range(RACERS)))
    assert Counter(r.status_code for r in responses) == Counter({201: 1, 409: RACERS - 1}), [
        r.text for r in responses
    ]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"email_taken"}
