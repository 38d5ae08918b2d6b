"""Builders shared by the ticket and check-in tests, on top of tests.factories."""

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from httpx import AsyncClient, Response

from tests.bookings.helpers import booked
from tests.factories import Account, bearer, create_account, create_published_event

TICKET_FIELDS = {
    "id",
    "booking_id",
    "event_id",
    "ticket_type_id",
    "holder_name",
    "code",
    "status",
    "checked_in_at",
}
CHECKIN_FIELDS = {"id", "ticket_id", "booking_code", "holder_name", "ticket_type_id", "created_at", "by"}
CODE_PATTERN = r"^[A-Z2-7]{156}$"


@dataclass
class Door:
    """An organizer, an attendee, a published event of that organizer and the attendee's booking."""

    organizer: Account
    attendee: Account
    event: dict[str, Any]
    booking: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


async def door_scene(client: AsyncClient, quantity: int = 2, **event_overrides: Any) -> Door:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, **{"capacity": 50, **event_overrides})
    booking = await booked(client, attendee, event["id"], quantity=quantity)
    return Door(organizer, attendee, event, booking)


def tickets_url(booking_id: str) -> str:
    return f"/api/v1/bookings/{booking_id}/tickets"


async def list_tickets(client: AsyncClient, account: Account, booking_id: str) -> Response:
    return await client.get(tickets_url(booking_id), headers=account.headers)


async def tickets_of(client: AsyncClient, account: Account, booking_id: str) -> list[dict[str, Any]]:
    response = await list_tickets(client, account, booking_id)
    assert response.status_code == 200, response.text
    tickets: list[dict[str, Any]] = response.json()
    return tickets


async def valid_tickets(client: AsyncClient, account: Account, booking_id: str) -> list[dict[str, Any]]:
    return [t for t in await tickets_of(client, account, booking_id) if t["status"] == "valid"]


def checkins_url(event_id: str) -> str:
    return f"/api/v1/events/{event_id}/checkins"


async def check_in(
    client: AsyncClient, token: str, event_id: str, code: str, nonce: str | None = None
) -> Response:
    """Scan a code at an event's door with an access token or a check-in token."""
    body: dict[str, Any] = {"code": code, **({"nonce": nonce} if nonce is not None else {})}
    return await client.post(checkins_url(event_id), json=body, headers=bearer(token))


async def undo(client: AsyncClient, token: str, event_id: str, checkin_id: str) -> Response:
    return await client.delete(f"{checkins_url(event_id)}/{checkin_id}", headers=bearer(token))


async def checkin_keys(client: AsyncClient, token: str, event_id: str) -> Response:
    return await client.get(f"/api/v1/events/{event_id}/checkin-keys", headers=bearer(token))


def tokens_url(event_id: str) -> str:
    return f"/api/v1/events/{event_id}/checkin-tokens"


async def door_token(client: AsyncClient, organizer: Account, event_id: str, name: str = "Door 1") -> str:
    """A new check-in token of the event; returns the token itself."""
    response = await client.post(tokens_url(event_id), json={"name": name}, headers=organizer.headers)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def one_character_changed(code: str, position: int) -> str:
    """The code with the character at ``position`` replaced by another of the same alphabet."""
    replacement = "A" if code[position] != "A" else "B"
    return code[:position] + replacement + code[position + 1 :]


def split_code(code: str) -> tuple[bytes, bytes]:
    """A code's signed payload and its signature, by the documented format (docs/tickets.md), written
    here from the document, not from the service's code."""
    raw = base64.b32decode(code + "=" * (-len(code) % 8))
    assert len(raw) == 97
    assert raw[0] == 1
    return raw[:33], raw[33:]


def signed_message(event_id: str, payload: bytes) -> bytes:
    return b"boxoffice-ticket-v1" + uuid.UUID(event_id).bytes + payload


def forged(code: str, event_id: str) -> str:
    """A code of the right shape naming the same ticket, signed with a key that is not the event's."""
    payload, _ = split_code(code)
    signature = Ed25519PrivateKey.generate().sign(signed_message(event_id, payload))
    return base64.b32encode(payload + signature).decode().rstrip("=")


def scanner_accepts(public_key: str, event_id: str, code: str) -> bool:
    """What an offline scanner holding only the event's public key decides."""
    try:
        payload, signature = split_code(code)
        if base64.b32encode(payload + signature).decode().rstrip("=") != code:
            return False
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            signature, signed_message(event_id, payload)
        )
    except (ValueError, AssertionError, InvalidSignature):
        return False
    return True
