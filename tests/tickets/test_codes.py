"""Ticket codes, format 1 (docs/tickets.md): signed, 128 random bits each, one spelling per code."""

import base64
import string
import uuid

from boxoffice.tickets import codes
from tests.tickets.helpers import split_code

EVENT = uuid.UUID("6f1c1f8e-4b8e-4c44-9d0a-8f7e2a1b3c4d")
TICKET = uuid.UUID("0b7c6f0e-8d0a-4f4e-9f6e-3d2f8c1a9b10")
BASE32 = string.ascii_uppercase + "234567"


def test_a_code_is_156_base32_characters_naming_its_ticket_and_verifies_with_the_public_key() -> None:
    keys = codes.new_key_pair()

    code = codes.new_code(keys.private_key, EVENT, TICKET)

    assert len(code) == codes.CODE_LENGTH == 156
    assert set(code) <= set(BASE32)
    parsed = codes.verify(keys.public_key, EVENT, code)
    assert parsed is not None
    assert parsed.ticket_id == TICKET
    payload, _ = split_code(code)
    assert payload[1:17] == TICKET.bytes


def test_every_code_has_its_own_128_random_bits() -> None:
    keys = codes.new_key_pair()
    secrets = {split_code(codes.new_code(keys.private_key, EVENT, TICKET))[0][17:] for _ in range(200)}
    assert len(secrets) == 200
    assert all(len(secret) == 16 for secret in secrets)


def test_a_code_fails_with_another_key_another_event_or_any_character_changed() -> None:
    keys = codes.new_key_pair()
    code = codes.new_code(keys.private_key, EVENT, TICKET)

    assert codes.verify(codes.new_key_pair().public_key, EVENT, code) is None
    assert codes.verify(keys.public_key, uuid.uuid4(), code) is None
    for position in range(len(code)):
        for replacement in BASE32:
            if replacement != code[position]:
                altered = code[:position] + replacement + code[position + 1 :]
                assert codes.verify(keys.public_key, EVENT, altered) is None, (position, replacement)


def test_only_the_canonical_spelling_of_a_code_is_one() -> None:
    keys = codes.new_key_pair()
    code = codes.new_code(keys.private_key, EVENT, TICKET)
    raw = base64.b32decode(code + "====")
    # The last character carries one bit of the code and four bits of nothing: the same bytes
    # decode from other spellings, which are refused.
    same_bytes = [c for c in BASE32 if c != code[-1] and base64.b32decode(code[:-1] + c + "====") == raw]
    assert same_bytes

    for spelling in (
        code.lower(),
        code + "====",
        code + "A",
        code[:-1],
        f" {code}",
        *(code[:-1] + c for c in same_bytes),
    ):
        assert codes.parse(spelling) is None, spelling
    wrong_version = base64.b32encode(b"\x02" + raw[1:]).decode().rstrip("=")
    assert codes.parse(wrong_version) is None
    assert codes.parse("é" * 156) is None
