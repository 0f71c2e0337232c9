"""Tenants and their API keys. Keys are shown once; only their sha256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradesweep.store.errors import InvalidTenant, NotFound
from tradesweep.store.models import ApiKey, Tenant
from tradesweep.store.types import utcnow

KEY_PREFIX = "ts_"
_PREFIX_CHARS = string.ascii_lowercase + string.digits
_PREFIX_LEN = len(KEY_PREFIX) + 8  # "ts_" + 8 chars, e.g. "ts_k3v9x2ab"
_SECRET_BYTES = 32  # 256 bits of randomness
_TENANT_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def hash_key(key: str) -> str:
    """sha256 hex digest of the full key: what ``api_keys.key_hash`` holds."""
    return hashlib.sha256(key.encode()).hexdigest()


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str) -> Tenant:
        if not _TENANT_NAME.match(name):
            raise InvalidTenant(
                f"invalid tenant name {name!r}",
                fix="use 1-64 characters from A-Z a-z 0-9 . _ -",
                field="tenant",
            )
        tenant = Tenant(name=name)
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def get(self, tenant_id: int) -> Tenant | None:
        return self.session.get(Tenant, tenant_id)

    def get_by_name(self, name: str) -> Tenant | None:
        return self.session.scalar(select(Tenant).where(Tenant.name == name))

    def get_or_create(self, name: str) -> Tenant:
        return self.get_by_name(name) or self.create(name)

    def list(self) -> list[Tenant]:
        return list(self.session.scalars(select(Tenant).order_by(Tenant.name)))


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key`` is the only copy of the secret, show it once and drop it."""

    key: str
    api_key: ApiKey
    tenant: Tenant

    @property
    def prefix(self) -> str:
        return self.api_key.prefix


@dataclass(frozen=True)
class Revocation:
    """A revoked key, when it was revoked, and whether this call did it (False: it already
    was, and keeps its first time)."""

    api_key: ApiKey
    at: datetime
    now: bool


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, tenant: Tenant) -> IssuedKey:
        prefix = KEY_PREFIX + "".join(secrets.choice(_PREFIX_CHARS) for _ in range(8))
        key = f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        api_key = ApiKey(tenant_id=tenant.id, prefix=prefix, key_hash=hash_key(key))
        self.session.add(api_key)
        self.session.flush()
        return IssuedKey(key=key, api_key=api_key, tenant=tenant)

    @staticmethod
    def well_formed(key: str) -> bool:
        """Whether ``key`` has the shape of an issued key (``ts_`` + 8 lower-case letters or
        digits, ``_``, the secret): anything else is refused without reading the database."""
        prefix, sep, secret = (
            key[:_PREFIX_LEN],
            key[_PREFIX_LEN : _PREFIX_LEN + 1],
            key[_PREFIX_LEN + 1 :],
        )
        return (
            prefix.startswith(KEY_PREFIX)
            and all(c in _PREFIX_CHARS for c in prefix[len(KEY_PREFIX) :])
            and len(prefix) == _PREFIX_LEN
            and sep == "_"
            and 0 < len(secret) <= 2 * _SECRET_BYTES
        )

    def live(self, prefix: str) -> ApiKey | None:
        """The unrevoked key with ``prefix``, else None."""
        api_key = self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if api_key is None or api_key.revoked_at is not None:
            return None
        return api_key

    def verify(self, key: str) -> Tenant | None:
        """The tenant that owns ``key`` if it is valid and not revoked, else None."""
        prefix = key[:_PREFIX_LEN]
        if not prefix.startswith(KEY_PREFIX):
            return None
        api_key = self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        # Constant-time compare of the hashes: no timing hint about how much matched.
        if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(key)):
            return None
        if api_key.revoked_at is not None:
            return None
        return self.session.get(Tenant, api_key.tenant_id)

    def get(self, prefix: str) -> ApiKey:
        """The key with ``prefix`` (revoked or not), else :class:`NotFound`."""
        api_key = self.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if api_key is None:
            raise NotFound(
                f"no API key with prefix {prefix[:40]!r}",
                fix="see the prefixes with `tradesweep keys list`",
                field="prefix",
            )
        return api_key

    def revoke(self, prefix: str, *, at: datetime | None = None) -> Revocation:
        """Revoke the key with ``prefix`` (once: a revoked key keeps its first time). Every
        request checks the key, so it and its sessions are refused from the commit on."""
        api_key = self.get(prefix)
        if api_key.revoked_at is not None:
            return Revocation(api_key, api_key.revoked_at, now=False)
        api_key.revoked_at = at = at or utcnow()
        self.session.flush()
        return Revocation(api_key, at, now=True)

    def rotate(self, prefix: str) -> IssuedKey:
        """Revoke the key with ``prefix`` and issue its tenant a new one, in one transaction."""
        old = self.revoke(prefix).api_key
        tenant = self.session.get(Tenant, old.tenant_id)
        assert tenant is not None  # api_keys.tenant_id is a foreign key
        return self.create(tenant)

    def list(self, tenant: Tenant | None = None) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
        if tenant is not None:
            query = query.where(ApiKey.tenant_id == tenant.id)
        return list(self.session.scalars(query))
