"""Paper trading: strategies run bar by bar on a live or replayed candle stream, with risk
checks, paper fills and a portfolio (docs/paper.md). Candles come from
:mod:`tradesweep.paper.sources` (a replayed dataset, or an exchange through ccxt) and are kept
by :mod:`tradesweep.paper.candles`.

The roles talk over the event bus (:mod:`tradesweep.paper.bus`): in process by default, on
Redis Streams when the edge passes a ``TRADESWEEP_REDIS_URL``::

    broker = broker_from_url(os.environ.get("TRADESWEEP_REDIS_URL"))
    broker.ensure_group(candles_stream("GOOGL"), "engine")
    broker.publish(candles_stream("GOOGL"), {"time": "2024-01-02T00:00:00Z", "close": 140.1})
"""

from tradesweep.paper.bus import (
    FILLS,
    ORDERS,
    SIGNALS,
    SNAPSHOTS,
    Broker,
    BrokerUnavailable,
    Entry,
    GroupNotFound,
    InProcessBroker,
    InvalidBrokerURL,
    InvalidMessage,
    InvalidStreamName,
    MessageTooLarge,
    RedisBroker,
    broker_from_url,
    candles_stream,
)

__all__ = [
    "FILLS",
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
]
