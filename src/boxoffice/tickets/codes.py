"""Ticket codes, format 1: what a ticket's QR code carries (the scheme is in docs/tickets.md).

    payload   = 0x01 || ticket id (16 bytes) || secret (16 random bytes)
    signature = Ed25519(event's private key, "boxoffice-ticket-v1" || event id (16 bytes) || payload)
    code      = base32(payload || signature), RFC 4648 alphabet, upper case, "=" padding removed

97 bytes, 156 characters, all in QR's alphanumeric set (so the QR code stays small) and safe to type
through a keyboard-wedge scanner. The event id is signed but not carried: a scanner verifies a code
for the event it is admitting, so another event's code fails even if two events shared a key. The
secret gives every code 128 random bits of its own; the signature lets a scanner with only the
event's public key tell a genuine code from a forged one, offline.

Signing and checking use ``cryptography``'s Ed25519; nothing here is hand-written cryptography.
"""

import base64
import binascii
import secrets
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

VERSION = 1
CONTEXT = b"boxoffice-ticket-v1"
SECRET_BYTES = 16
PAYLOAD_BYTES = 1 + 16 + SECRET_BYTES
SIGNATURE_BYTES = 64
CODE_LENGTH = 156  # base32 of PAYLOAD_BYTES + SIGNATURE_BYTES = 97 bytes, without padding
_PADDING = "=" * (-CODE_LENGTH % 8)


@dataclass(frozen=True)
class KeyPair:
    """Raw 32-byte Ed25519 keys, as stored."""

    private_key: bytes
    public_key: bytes


def new_key_pair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(
        private_key=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def signed_message(event_id: UUID, payload: bytes) -> bytes:
    """The bytes a code's signature covers: the format's context, the event, the payload."""
    return CONTEXT + event_id.bytes + payload


def new_code(private_key: bytes, event_id: UUID, ticket_id: UUID) -> str:
    """A fresh code for a ticket of an event: its own 128 random bits, signed with the event's key."""
    payload = bytes([VERSION]) + ticket_id.bytes + secrets.token_bytes(SECRET_BYTES)
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(signed_message(event_id, payload))
    return base64.b32encode(payload + signature).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Code:
    """A code taken apart: which ticket it names, what was signed, and the signature."""

    ticket_id: UUID
    payload: bytes
    signature: bytes


def parse(code: str) -> Code | None:
    """A code of format 1 taken apart, or None for anything else. Only the one canonical spelling of
    each code is accepted (upper case, no padding, no stray bits), so no two strings name one code."""
    if len(code) != CODE_LENGTH or not code.isascii():
        return None
    try:
        raw = base64.b32decode(code + _PADDING)
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != code or raw[0] != VERSION:
        return None
    return Code(ticket_id=UUID(bytes=raw[1:17]), payload=raw[:PAYLOAD_BYTES], signature=raw[PAYLOAD_BYTES:])


def verify(public_key: bytes, event_id: UUID, code: str) -> Code | None:
    """The code taken apart if it is genuine: well formed and signed by the event's key for that event;
    None for a forgery, another event's code, or a code changed in any character."""
    parsed = parse(code)
    if parsed is None:
        return None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            parsed.signature, signed_message(event_id, parsed.payload)
        )
    except InvalidSignature:
        return None
    return parsed


def public_key_text(public_key: bytes) -> str:
    """How a public key is published (checkin-keys): the raw 32 bytes in standard base64."""
    return base64.b64encode(public_key).decode("ascii")
