"""Password hashing (Argon2id), signed tokens (JWT), and the opaque tokens stored only as hashes."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from boxoffice.core.config import Settings
from boxoffice.core.db import utcnow


class Passwords:
    """Argon2id hashing, run off the event loop (each hash takes tens of milliseconds by design)."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                    parallelism=settings.password_hash_parallelism,
                ),
            )
        )
        # Verified against when the email is unknown, so that login costs the same either way.
        self._decoy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash (unknown account) spend the same time and say no."""
        target = password_hash or self._decoy_hash
        ok = await anyio.to_thread.run_sync(self._hasher.verify, password, target)
        return ok and password_hash is not None


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    WEB = "web"  # a browser's session cookie (web/): lives as long as the login session's refresh token


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    type: TokenType
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


_REQUIRED_CLAIMS = ["sub", "sid", "jti", "type", "iat", "exp"]


class Tokens:
    """HS256 JWTs carrying ``sub``, ``sid`` (the login session), ``jti``, ``type``, ``iat``, ``exp``."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.signing_key
        self._algorithm = settings.jwt_algorithm
        self._ttl = {
            TokenType.ACCESS: timedelta(seconds=settings.access_token_ttl_seconds),
            TokenType.REFRESH: timedelta(seconds=settings.refresh_token_ttl_seconds),
            TokenType.WEB: timedelta(seconds=settings.refresh_token_ttl_seconds),
        }

    def ttl(self, token_type: TokenType) -> timedelta:
        return self._ttl[token_type]

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, token_type: TokenType) -> IssuedToken:
        now = utcnow()
        claims = TokenClaims(
            user_id=user_id,
            session_id=session_id,
            jti=secrets.token_urlsafe(16),
            type=token_type,
            expires_at=now + self._ttl[token_type],
        )
        payload = {
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": claims.jti,
            "type": token_type.value,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        return IssuedToken(jwt.encode(payload, self._key, algorithm=self._algorithm), claims)

    def decode(self, token: str, expected: TokenType) -> TokenClaims | None:
        """The claims of a genuine, unexpired token of the expected type; None for anything else."""
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={"require": _REQUIRED_CLAIMS},
            )
            if payload["type"] != expected.value:
                return None
            return TokenClaims(
                user_id=uuid.UUID(payload["sub"]),
                session_id=uuid.UUID(payload["sid"]),
                jti=str(payload["jti"]),
                type=expected,
                expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return None


# A door device's check-in token (tickets/): an opaque secret, told apart from an access token (a JWT)
# by this prefix, so every endpoint that does not take one can refuse it without a database query.
CHECKIN_TOKEN_PREFIX = "boci_"  # noqa: S105  (a prefix, not a secret)


def new_checkin_token() -> str:
    """A fresh check-in token: the prefix and 256 random bits."""
    return CHECKIN_TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_checkin_token(token: str) -> bool:
    return token.startswith(CHECKIN_TOKEN_PREFIX)


def secret_digest(secret: str) -> str:
    """How an opaque secret is stored and looked up: its SHA-256, in hex. Such secrets carry 256
    random bits, so a fast hash is enough (nothing to guess); the secret itself is never stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
