"""The scanner that works offline (API.md, "Tickets and check-in"): it reads the QR code, and with
nothing but the public key from `checkin-keys` tells a genuine code from a forged or altered one.

The scanner here is written from docs/tickets.md (tests/tickets/helpers.py), not from the service's
code, and reads the QR image with a real decoder (zxing-cpp)."""

import io
import uuid
import xml.etree.ElementTree as ET

import segno
import zxingcpp
from fastapi import FastAPI
from httpx import AsyncClient
from PIL import Image

from tests.bookings.helpers import booked, change_booking
from tests.factories import Account, assert_problem, create_account, create_admin, create_published_event
from tests.tickets.helpers import (
    checkin_keys,
    door_scene,
    door_token,
    forged,
    one_character_changed,
    scanner_accepts,
    tickets_of,
)


def read_qr(png: bytes) -> str:
    """What a camera reads off the image."""
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    text: str = barcode.text
    return text


async def qr_png(client: AsyncClient, account: Account, ticket_id: str) -> bytes:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/qr.png", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return response.content


async def test_an_offline_scanner_verifies_a_scanned_code_with_only_the_public_key(
    client: AsyncClient,
) -> None:
    door = await door_scene(client, quantity=2)
    token = await door_token(client, door.organizer, door.event_id)
    keys = (await checkin_keys(client, token, door.event_id)).json()
    assert keys["algorithm"] == "ed25519"
    assert keys["event_id"] == door.event_id
    ticket = (await tickets_of(client, door.attendee, door.booking["id"]))[0]

    scanned = read_qr(await qr_png(client, door.attendee, ticket["id"]))

    assert scanned == ticket["code"]
    assert scanner_accepts(keys["public_key"], door.event_id, scanned)
    for position in range(len(scanned)):
        altered = one_character_changed(scanned, position)
        assert not scanner_accepts(keys["public_key"], door.event_id, altered), f"character {position}"
    assert not scanner_accepts(keys["public_key"], door.event_id, forged(scanned, door.event_id))
    assert not scanner_accepts(keys["public_key"], str(uuid.uuid4()), scanned), "the event is signed too"


async def test_another_events_code_fails_with_this_events_key(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    other_event = await create_published_event(client, door.organizer, title="Other night")
    elsewhere = await booked(client, door.attendee, other_event["id"])
    [foreign] = await tickets_of(client, door.attendee, elsewhere["id"])
    here = (await checkin_keys(client, door.organizer.access_token, door.event_id)).json()
    there = (await checkin_keys(client, door.organizer.access_token, other_event["id"])).json()

    assert here["public_key"] != there["public_key"]
    assert not scanner_accepts(here["public_key"], door.event_id, foreign["code"])
    assert scanner_accepts(there["public_key"], other_event["id"], foreign["code"])


async def test_the_revocation_list_names_the_cancelled_tickets(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=3)
    tickets = await tickets_of(client, door.attendee, door.booking["id"])
    await change_booking(client, door.attendee, door.booking["id"], quantity=1)

    keys = (await checkin_keys(client, door.organizer.access_token, door.event_id)).json()

    assert sorted(keys["revoked"]) == sorted(t["id"] for t in tickets[1:])
    assert scanner_accepts(keys["public_key"], door.event_id, tickets[2]["code"]), "genuine, but revoked"


async def test_keys_are_for_the_organizer_admins_and_the_events_door_devices(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=1)
    admin = await create_admin(app, client)
    for account in (door.attendee, await create_account(client, role="organizer")):
        assert_problem(await checkin_keys(client, account.access_token, door.event_id), 404, "not_found")
    assert (await checkin_keys(client, admin.access_token, door.event_id)).status_code == 200
    assert_problem(await client.get(f"/api/v1/events/{door.event_id}/checkin-keys"), 401, "not_authenticated")


async def test_qr_images_carry_the_code_as_png_and_svg(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])

    png = await qr_png(client, door.organizer, ticket["id"])
    svg = await client.get(f"/api/v1/tickets/{ticket['id']}/qr.svg", headers=door.attendee.headers)

    assert read_qr(png) == ticket["code"]
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "private" in svg.headers["cache-control"]
    root = ET.fromstring(svg.content)  # noqa: S314  (our own server's answer)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    expected = io.BytesIO()
    segno.make(ticket["code"], error="m", micro=False).save(
        expected, kind="svg", scale=8, border=4, title="Ticket QR code"
    )
    assert svg.content == expected.getvalue()


async def test_qr_images_are_for_the_holder_the_organizer_and_admins(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    token = await door_token(client, door.organizer, door.event_id)
    stranger = await create_account(client)

    for suffix in ("qr.png", "qr.svg"):
        url = f"/api/v1/tickets/{ticket['id']}/{suffix}"
        assert_problem(await client.get(url, headers=stranger.headers), 404, "not_found")
        assert_problem(await client.get(url), 401, "not_authenticated")
        assert_problem(await client.get(url, headers={"Authorization": f"Bearer {token}"}), 403, "forbidden")
        missing = await client.get(f"/api/v1/tickets/{uuid.uuid4()}/{suffix}", headers=door.attendee.headers)
        assert_problem(missing, 404, "not_found")
