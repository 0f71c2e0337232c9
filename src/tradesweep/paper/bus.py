"""The paper-trading event bus: durable streams read by consumer groups, on one small interface.

The guarantee is at-least-once delivery per group. An entry published to a stream is handed to
exactly one consumer of each group that reads the stream; it stays *pending* for that group
until the consumer acks it. When a consumer dies with entries pending, another consumer of the
group takes them over with :meth:`Broker.reclaim` once they have been idle long enough, so no
entry is lost. An entry can therefore be delivered twice (before and after a crash; a publish
retried after a lost answer), and consumers must be idempotent (paper order ids derive from
session, leg and candle time for that reason).

Two backends keep the same semantics and pass one contract test suite
(``tests/paper/test_bus.py``):

- :class:`InProcessBroker`: in memory and thread-safe, the default, so a paper session runs in
  one process with nothing installed;
- :class:`RedisBroker`: Redis Streams (``XADD``, ``XGROUP CREATE``, ``XREADGROUP``, ``XACK``,
  ``XAUTOCLAIM``, ``XPENDING``), for roles in separate processes. It needs the ``paper`` extra;
  ``redis`` is imported only when one is made.

:func:`broker_from_url` picks one from the URL the edge reads from ``TRADESWEEP_REDIS_URL``
(this module reads no environment). Entry ids are Redis's ``<milliseconds>-<sequence>`` on both
backends and increase along a stream. A message is a JSON object, stored as one JSON text, so
ints, floats, strings, booleans, ``None``, lists and nested objects come back as they went in.
"""

from __future__ import annotations

import json
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from tradesweep import jsontext
from tradesweep.errors import TradesweepError, did_you_mean

__all__ = [
    "FILLS",
    "MAX_MESSAGE_BYTES",
    "ORDERS",
    "SIGNALS",
    "SNAPSHOTS",
    "Broker",
    "BrokerUnavailable",
    "Entry",
    "GroupNotFound",
    "InProcessBroker",
    "InvalidBrokerURL",
    "InvalidMessage",
    "InvalidStreamName",
    "MessageTooLarge",
    "RedisBroker",
    "broker_from_url",
    "candles_stream",
    "decode_message",
    "encode_message",
    "redact_url",
]

# -- stream names ----------------------------------------------------------------------------

SIGNALS = "signals"
ORDERS = "orders"
FILLS = "fills"
SNAPSHOTS = "snapshots"
CANDLES_PREFIX = "candles."

SYMBOL_RULE = "1-64 letters, digits or . _ - = ^ / :, starting with a letter, a digit or ^"
_SYMBOL = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9._=^/:-]{0,63}$")
STREAM_RULE = "1-200 letters, digits or . _ - = ^ / :, no spaces or wildcards"
_STREAM = re.compile(r"^[A-Za-z0-9._=^/:-]{1,200}$")
_GROUP = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class InvalidStreamName(TradesweepError):
    """A stream, group, consumer or symbol name the bus refuses (spaces, wildcards, empty)."""

    code = "invalid_stream_name"


def candles_stream(symbol: str) -> str:
    """``candles.{symbol}``: the stream of one symbol's closed candles (a ticker such as
    ``GOOGL`` or an exchange pair such as ``BTC/USDT``)."""
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        raise InvalidStreamName(
            f"symbol {symbol!r} cannot name a candle stream",
            fix=f"use {SYMBOL_RULE}",
            symbol=symbol,
        )
    return f"{CANDLES_PREFIX}{symbol}"


def _check_stream(stream: str) -> str:
    if not isinstance(stream, str) or not _STREAM.fullmatch(stream):
        raise InvalidStreamName(
            f"stream name {stream!r} is not valid", fix=f"use {STREAM_RULE}", stream=stream
        )
    return stream


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _GROUP.fullmatch(name):
        raise InvalidStreamName(
            f"{kind} name {name!r} is not valid",
            fix="use 1-100 letters, digits or . _ - :",
            **{kind: name},
        )
    return name


# -- messages --------------------------------------------------------------------------------

MAX_MESSAGE_BYTES = 64 * 1024
"""The largest message, as UTF-8 JSON text: a candle, signal or order is well under 1 KiB."""
MAX_MESSAGE_DEPTH = 8
"""Levels of nesting a message may have."""
FIELD = "json"
"""The one stream-entry field (Redis) that holds a message's JSON text."""


class InvalidMessage(TradesweepError):
    """A message that is not a JSON object (or nests too deep)."""

    code = "invalid_message"


class MessageTooLarge(InvalidMessage):
    """A message over :data:`MAX_MESSAGE_BYTES` as JSON text."""

    code = "message_too_large"


def encode_message(message: Mapping[str, Any], *, max_bytes: int = MAX_MESSAGE_BYTES) -> str:
    """The message as compact JSON text; :class:`InvalidMessage` when it is not a JSON object of
    strict JSON values (no NaN), :class:`MessageTooLarge` over ``max_bytes``."""
    if not isinstance(message, Mapping):
        raise InvalidMessage(
            f"a bus message must be a JSON object, not {type(message).__name__}",
            fix="publish a dict of JSON values",
        )
    if jsontext.depth(dict(message), MAX_MESSAGE_DEPTH) > MAX_MESSAGE_DEPTH:
        raise InvalidMessage(
            f"a bus message nests deeper than {MAX_MESSAGE_DEPTH} levels",
            fix="flatten the message",
        )
    try:
        text = json.dumps(dict(message), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidMessage(
            f"a bus message must hold JSON values only: {exc}",
            fix="convert timestamps to ISO text or epoch numbers, numpy scalars to int/float, "
            "and NaN or infinity to None",
        ) from None
    size = len(text.encode())
    if size > max_bytes:
        raise MessageTooLarge(
            f"a bus message of {size:,} bytes is over the limit of {max_bytes:,}",
            fix="publish references (ids) instead of bulk data, or split the message",
            size=size,
            limit=max_bytes,
        )
    return text


def decode_message(text: str | bytes) -> dict[str, Any]:
    """The message :func:`encode_message` made."""
    value = jsontext.loads(text, max_depth=MAX_MESSAGE_DEPTH)
    if not isinstance(value, dict):
        raise ValueError("a bus entry does not hold a JSON object")
    return value


class Entry(NamedTuple):
    """One stream entry as a consumer gets it: ``(id, message)``."""

    id: str
    message: dict[str, Any]


class GroupNotFound(LookupError):
    """A read, reclaim or pending count on a group that :meth:`Broker.ensure_group` never
    made: a bug in the caller, not bad input."""


# -- the interface ---------------------------------------------------------------------------


@runtime_checkable
class Broker(Protocol):
    """Durable streams with consumer groups (the module docstring states the guarantee)."""

    def publish(self, stream: str, message: Mapping[str, Any]) -> str:
        """Append ``message`` to ``stream`` (made on first use); return the new entry's id."""
        ...

    def ensure_group(self, stream: str, group: str) -> None:
        """Make consumer ``group`` on ``stream`` (and the stream) unless it exists. A new group
        starts at the beginning of the stream: it sees entries published before it existed."""
        ...

    def read(
        self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0
    ) -> list[Entry]:
        """Up to ``count`` entries no consumer of ``group`` has been given yet, oldest first;
        they become pending for ``consumer``. With ``block_ms > 0`` wait up to that long for
        one when there is none (``0``: answer at once)."""
        ...

    def ack(self, stream: str, group: str, ids: Iterable[str]) -> int:
        """Mark entries done for ``group``; return how many were pending (0 for a group never
        made, as ``XACK`` answers)."""
        ...

    def reclaim(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        """Take over up to ``count`` pending entries of ``group`` idle for at least
        ``min_idle_ms`` (their consumer died or hangs): they become ``consumer``'s."""
        ...

    def pending(self, stream: str, group: str) -> int:
        """How many entries of ``group`` are delivered and not acked."""
        ...

    def close(self) -> None:
        """Release connections; the broker is not used after."""
        ...


# -- in process ------------------------------------------------------------------------------


@dataclass
class _Pending:
    consumer: str
    delivered_ms: int
    deliveries: int = 1


@dataclass
class _Group:
    last_delivered: tuple[int, int] = (0, 0)
    pending: dict[str, _Pending] = field(default_factory=dict)


@dataclass
class _Stream:
    entries: dict[str, str] = field(default_factory=dict)  # id -> JSON text, in id order
    keys: list[tuple[int, int]] = field(default_factory=list)  # the ids, parsed, ascending
    groups: dict[str, _Group] = field(default_factory=dict)
    last_id: tuple[int, int] = (0, 0)


def _parse_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _format_id(key: tuple[int, int]) -> str:
    return f"{key[0]}-{key[1]}"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class InProcessBroker:
    """The bus in memory, for one process: the semantics of Redis Streams with consumer groups
    (ids ``<ms>-<seq>`` that increase, a last-delivered id per group, a pending entries list
    with consumer and delivery time, reclaim by idle time). Thread-safe; one lock guards all.

    ``maxlen`` keeps each stream to its newest entries (exactly, where Redis trims about
    there); a pending entry trimmed away is dropped from its group's pending list on reclaim,
    as ``XAUTOCLAIM`` does. ``clock`` (milliseconds) is for tests."""

    def __init__(
        self,
        *,
        maxlen: int | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.maxlen = maxlen
        self.max_message_bytes = max_message_bytes
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._changed = threading.Condition()
        self._closed = False

    def publish(self, stream: str, message: Mapping[str, Any]) -> str:
        text = encode_message(message, max_bytes=self.max_message_bytes)
        with self._changed:
            s = self._streams.setdefault(_check_stream(stream), _Stream())
            ms = self._clock()
            key = (ms, 0) if ms > s.last_id[0] else (s.last_id[0], s.last_id[1] + 1)
            entry_id = _format_id(key)
            s.entries[entry_id] = text
            s.keys.append(key)
            s.last_id = key
            if self.maxlen is not None and len(s.keys) > self.maxlen:
                for old in s.keys[: len(s.keys) - self.maxlen]:
                    del s.entries[_format_id(old)]
                del s.keys[: len(s.keys) - self.maxlen]
            self._changed.notify_all()
        return entry_id

    def ensure_group(self, stream: str, group: str) -> None:
        with self._changed:
            s = self._streams.setdefault(_check_stream(stream), _Stream())
            s.groups.setdefault(_check_name("group", group), _Group())

    def read(
        self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0
    ) -> list[Entry]:
        _check_name("consumer", consumer)
        deadline = time.monotonic() + max(block_ms, 0) / 1000
        with self._changed:
            while True:
                s, g = self._group(stream, group)
                fresh = self._after(s, g.last_delivered, count)
                if fresh or self._closed:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
            now = self._clock()
            out = []
            for key in fresh:
                entry_id = _format_id(key)
                g.pending[entry_id] = _Pending(consumer, now)
                out.append(Entry(entry_id, decode_message(s.entries[entry_id])))
            if fresh:
                g.last_delivered = fresh[-1]
            return out

    def ack(self, stream: str, group: str, ids: Iterable[str]) -> int:
        with self._changed:
            s = self._streams.get(stream)
            g = s.groups.get(group) if s else None
            if g is None:  # as XACK answers
                return 0
            return sum(g.pending.pop(i, None) is not None for i in ids)

    def reclaim(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        _check_name("consumer", consumer)
        with self._changed:
            s, g = self._group(stream, group)
            now = self._clock()
            out: list[Entry] = []
            for entry_id in sorted(g.pending, key=_parse_id):
                if len(out) >= count:
                    break
                p = g.pending[entry_id]
                if now - p.delivered_ms < min_idle_ms:
                    continue
                if entry_id not in s.entries:  # trimmed away: nothing left to deliver
                    del g.pending[entry_id]
                    continue
                g.pending[entry_id] = _Pending(consumer, now, p.deliveries + 1)
                out.append(Entry(entry_id, decode_message(s.entries[entry_id])))
            return out

    def pending(self, stream: str, group: str) -> int:
        with self._changed:
            return len(self._group(stream, group)[1].pending)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _group(self, stream: str, group: str) -> tuple[_Stream, _Group]:
        s = self._streams.get(stream)
        g = s.groups.get(group) if s else None
        if s is None or g is None:
            raise GroupNotFound(f"no consumer group {group!r} on stream {stream!r}")
        return s, g

    @staticmethod
    def _after(s: _Stream, last: tuple[int, int], count: int) -> list[tuple[int, int]]:
        start = bisect_right(s.keys, last)
        return s.keys[start : start + count]


# -- Redis -----------------------------------------------------------------------------------


class InvalidBrokerURL(TradesweepError):
    """A bus URL of a scheme the bus does not know."""

    code = "invalid_broker_url"


class BrokerUnavailable(TradesweepError):
    """A Redis bus that does not answer (or the ``redis`` package missing)."""

    code = "broker_unavailable"


REDIS_SCHEMES = ("redis", "rediss", "unix")
MEMORY_SCHEME = "memory"
URL_FIX = (
    "start redis-server there or correct TRADESWEEP_REDIS_URL "
    "(redis://[:password@]host:6379/0); unset it to run the bus in process"
)


def redact_url(url: str) -> str:
    """``url`` with its password (if any) shown as ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparseable URL>"


T = TypeVar("T")


class RedisBroker:
    """The bus on Redis Streams (redis-py). Each stream entry holds one field, ``json``: the
    message's JSON text. ``maxlen`` trims streams approximately (``XADD MAXLEN ~``).

    The server must answer a ``PING`` when the broker is made, or :class:`BrokerUnavailable`
    names the URL and how to fix it. Each operation retries a lost connection up to
    ``attempts`` times with a short backoff (tenacity), then raises :class:`BrokerUnavailable`.
    A retried ``publish`` whose first try reached the server adds the message twice:
    at-least-once, like a redelivery."""

    def __init__(
        self,
        url: str,
        *,
        maxlen: int | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        attempts: int = 3,
        connect_timeout_s: float = 2.0,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise BrokerUnavailable(
                "the Redis bus needs the redis package",
                fix="pip install 'tradesweep[paper]', or unset TRADESWEEP_REDIS_URL",
                url=redact_url(url),
            ) from None
        self.url = redact_url(url)
        self.maxlen = maxlen
        self.max_message_bytes = max_message_bytes
        self.attempts = attempts
        self._redis = redis
        self._transient = (redis.ConnectionError, redis.TimeoutError)
        try:
            # no socket timeout: a blocking XREADGROUP waits as long as block_ms says
            self._client: Any = redis.Redis.from_url(
                url,
                protocol=2,  # list answers on every redis-py >= 5 (RESP3 maps them to dicts)
                decode_responses=True,
                socket_connect_timeout=connect_timeout_s,
                socket_keepalive=True,
            )
        except ValueError as exc:
            raise InvalidBrokerURL(
                f"bus URL {self.url!r} is not valid: {exc}", fix=URL_FIX, url=self.url
            ) from None
        self._call(self._client.ping)

    def publish(self, stream: str, message: Mapping[str, Any]) -> str:
        text = encode_message(message, max_bytes=self.max_message_bytes)
        _check_stream(stream)
        if self.maxlen is None:
            return str(self._call(lambda: self._client.xadd(stream, {FIELD: text})))
        return str(
            self._call(
                lambda: self._client.xadd(
                    stream, {FIELD: text}, maxlen=self.maxlen, approximate=True
                )
            )
        )

    def ensure_group(self, stream: str, group: str) -> None:
        _check_stream(stream)
        _check_name("group", group)
        try:
            self._call(lambda: self._client.xgroup_create(stream, group, id="0", mkstream=True))
        except self._redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(
        self, stream: str, group: str, consumer: str, *, count: int = 100, block_ms: int = 0
    ) -> list[Entry]:
        _check_name("consumer", consumer)
        block = block_ms if block_ms > 0 else None
        answer = self._grouped(
            stream,
            group,
            lambda: self._client.xreadgroup(group, consumer, {stream: ">"}, count, block),
        )
        if not answer:
            return []
        return [Entry(i, decode_message(fields[FIELD])) for i, fields in answer[0][1]]

    def ack(self, stream: str, group: str, ids: Iterable[str]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        return int(self._grouped(stream, group, lambda: self._client.xack(stream, group, *ids)))

    def reclaim(
        self, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 100
    ) -> list[Entry]:
        _check_name("consumer", consumer)
        out: list[Entry] = []
        cursor = "0-0"
        while len(out) < count:
            left = count - len(out)
            claim = partial(
                self._client.xautoclaim, stream, group, consumer, min_idle_ms, cursor, left
            )
            answer = self._grouped(stream, group, claim)
            cursor, claimed = answer[0], answer[1]
            out += [Entry(i, decode_message(f[FIELD])) for i, f in claimed if f is not None]
            if cursor == "0-0":
                break
        return out

    def pending(self, stream: str, group: str) -> int:
        summary = self._grouped(stream, group, lambda: self._client.xpending(stream, group))
        return int(summary["pending"])

    def close(self) -> None:
        self._client.close()

    def _grouped(self, stream: str, group: str, op: Callable[[], T]) -> T:
        try:
            return self._call(op)
        except self._redis.ResponseError as exc:
            if "NOGROUP" in str(exc):
                raise GroupNotFound(f"no consumer group {group!r} on stream {stream!r}") from None
            raise

    def _call(self, op: Callable[[], T]) -> T:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential,
        )

        retrying = Retrying(
            retry=retry_if_exception_type(self._transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.05, max=1.0),
        )
        try:
            return retrying(op)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            raise BrokerUnavailable(
                f"the Redis bus at {self.url} does not answer "
                f"({type(cause).__name__}: {cause}, {exc.last_attempt.attempt_number} tries)",
                fix=URL_FIX,
                url=self.url,
            ) from None


def broker_from_url(url: str | None, *, maxlen: int | None = None) -> Broker:
    """The bus for ``url`` (what ``TRADESWEEP_REDIS_URL`` holds): unset, empty or
    ``memory://`` gives an :class:`InProcessBroker`; ``redis://``, ``rediss://`` or
    ``unix://`` a :class:`RedisBroker`; any other scheme :class:`InvalidBrokerURL`."""
    if url is None or not url.strip():
        return InProcessBroker(maxlen=maxlen)
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme == MEMORY_SCHEME:
        return InProcessBroker(maxlen=maxlen)
    if scheme in REDIS_SCHEMES:
        return RedisBroker(url, maxlen=maxlen)
    known = (*REDIS_SCHEMES, MEMORY_SCHEME)
    raise InvalidBrokerURL(
        f"bus URL {redact_url(url)!r} has no known scheme",
        fix=f"{did_you_mean(scheme, known)}use redis://host:6379/0 "
        f"(or {', '.join(s + '://' for s in known[1:])})",
        url=redact_url(url),
    )
