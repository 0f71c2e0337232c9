"""Who is calling: an API key (``X-API-Key`` or ``Authorization: Bearer``) or a browser session.

Keys are checked by :meth:`ApiKeyRepository.verify` (sha256 lookup, constant-time compare,
revoked keys refused). ``POST /api/v1/auth/login`` trades a key for a session cookie: HttpOnly,
SameSite=Lax, holding ``<key prefix>.<expiry>.<HMAC-SHA256>`` signed with the per-install
secret. Nothing about the session is stored: each request re-checks the signature, the expiry
and that the key behind it is still there and not revoked, so revoking a key ends its
sessions too.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from tradesweep.api.errors import Unauthorized
from tradesweep.store import ApiKey, ApiKeyRepository, Tenant, hash_key

API_KEY_HEADER = "X-API-Key"
SESSION_COOKIE = "tradesweep_session"
_KEY_FIX = (
    "send the key as 'X-API-Key: ts_...' or 'Authorization: Bearer ts_...'; "
    "create one with `tradesweep keys create --tenant NAME`"
)


@dataclass(frozen=True)
class Principal:
    """The caller: its tenant, the prefix of the key it used, how (``key`` or ``session``),
    and when a session ends (None for a key)."""

    tenant_id: int
    tenant_name: str
    key_prefix: str
    via: str
    expires_at: datetime | None = None


def presented_key(connection: HTTPConnection) -> str | None:
    """The API key of ``X-API-Key``, else of ``Authorization: Bearer``, else None."""
    key = connection.headers.get(API_KEY_HEADER)
    if key:
        return key.strip()
    scheme, _, credentials = connection.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def authenticate(session: Session, connection: HTTPConnection, secret: bytes) -> Principal:
    """The caller of ``connection``, or :class:`Unauthorized` saying what was wrong."""
    key = presented_key(connection)
    if key is not None:
        return principal_for_key(session, key)
    token = connection.cookies.get(SESSION_COOKIE)
    if token:
        read = read_session(token, secret)
        api_key = ApiKeyRepository(session).live(read[0]) if read else None
        if read is None or api_key is None:
            raise Unauthorized(
                "the session has expired or its key was revoked",
                fix="log in again with POST /api/v1/auth/login",
            )
        return _principal(session, api_key, via="session", expires_at=read[1])
    raise Unauthorized("missing API key", fix=_KEY_FIX)


def principal_for_key(session: Session, key: str) -> Principal:
    tenant = ApiKeyRepository(session).verify(key)
    if tenant is None:
        raise Unauthorized("invalid or revoked API key", fix=_KEY_FIX)
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    assert api_key is not None  # verify() just found it
    return Principal(tenant.id, tenant.name, api_key.prefix, via="key")


def session_token(prefix: str, expires_at: int, secret: bytes) -> str:
    """``<prefix>.<expiry epoch seconds>.<hex HMAC-SHA256 of both>``."""
    payload = f"{prefix}.{expires_at}"
    return f"{payload}.{_mac(payload, secret)}"


def read_session(
    token: str, secret: bytes, now: float | None = None
) -> tuple[str, datetime] | None:
    """The key prefix and the expiry a valid, unexpired token carries, else None."""
    payload, _, mac = token.rpartition(".")
    prefix, _, expires = payload.partition(".")
    if not (prefix and expires.isdigit() and mac):
        return None
    if not hmac.compare_digest(mac, _mac(payload, secret)):
        return None
    if int(expires) < (time.time() if now is None else now):
        return None
    return prefix, datetime.fromtimestamp(int(expires), UTC)


def read_session_token(token: str, secret: bytes, now: float | None = None) -> str | None:
    """The key prefix a valid, unexpired token carries, else None."""
    read = read_session(token, secret, now)
    return read[0] if read else None


def _mac(payload: str, secret: bytes) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def principal_for_prefix(session: Session, prefix: str, *, via: str) -> Principal | None:
    """The caller the unrevoked key with ``prefix`` stands for (a token carries the prefix);
    None for an unknown or revoked key, or a tenant that no longer exists."""
    api_key = ApiKeyRepository(session).live(prefix)
    tenant = session.get(Tenant, api_key.tenant_id) if api_key is not None else None
    if api_key is None or tenant is None:
        return None
    return Principal(tenant.id, tenant.name, api_key.prefix, via=via)


def _principal(
    session: Session, api_key: ApiKey, *, via: str, expires_at: datetime | None = None
) -> Principal:
    tenant = session.get(Tenant, api_key.tenant_id)
    if tenant is None:
        raise Unauthorized("the key's tenant no longer exists", fix=_KEY_FIX)
    return Principal(tenant.id, tenant.name, api_key.prefix, via=via, expires_at=expires_at)
