"""A small fake of binance's public REST API on 127.0.0.1: the endpoints ccxt's
``binance.load_markets`` and ``binance.fetch_ohlcv`` call, in binance's shapes.

- ``GET /api/v3/exchangeInfo`` (spot markets: one symbol, ``BTCUSDT``);
  ``/fapi/v1/exchangeInfo`` and ``/dapi/v1/exchangeInfo`` (no futures markets);
- ``GET /api/v3/klines?symbol&interval&startTime&limit``: the candles of :attr:`history`
  from ``startTime`` (or the newest ``limit`` without it), at most ``limit``; an unknown symbol
  gets binance's ``{"code": -1121, "msg": "Invalid symbol."}``;
- :attr:`failures`: statuses answered to the next kline requests (500, 429, ...), one each.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SPOT_MARKET = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "baseAssetPrecision": 8,
    "quoteAsset": "USDT",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"],
    "icebergAllowed": True,
    "ocoAllowed": True,
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False,
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000.00",
            "tickSize": "0.01",
        },
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.0", "stepSize": "0.00001"},
    ],
    "permissions": ["SPOT"],
    "permissionSets": [["SPOT"]],
}


def kline(opened: int, price: float, minute_ms: int = 60_000) -> list[Any]:
    """One binance kline row: open time, OHLCV as text, close time and the rest."""
    p = f"{price:.2f}"
    return [
        opened,
        p,
        f"{price + 1:.2f}",
        f"{price - 1:.2f}",
        p,
        "1.5",
        opened + minute_ms - 1,
        "0",
        1,
        "0",
        "0",
        "0",
    ]


class FakeBinance:
    def __init__(self) -> None:
        self.history: list[list[Any]] = []
        self.failures: list[int] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kline_requests(self) -> int:
        with self.lock:
            return sum("/klines" in path for path in self.requests)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(request.path)
            if parts.path.endswith("/exchangeInfo"):
                symbols = [SPOT_MARKET] if parts.path.startswith("/api/v3") else []
                return _send(
                    request,
                    200,
                    {"timezone": "UTC", "serverTime": 0, "rateLimits": [], "symbols": symbols},
                )
            if parts.path != "/api/v3/klines":
                return _send(request, 404, {"code": -1, "msg": "not faked"})
            if self.failures:
                status = self.failures.pop(0)
                return _send(request, status, {"msg": f"fake failure {status}"})
            if query.get("symbol") != "BTCUSDT":
                return _send(request, 400, {"code": -1121, "msg": "Invalid symbol."})
            limit = int(query.get("limit", 500))
            rows = sorted(self.history, key=lambda row: row[0])
            if "startTime" in query:
                rows = [row for row in rows if row[0] >= int(query["startTime"])][:limit]
            else:
                rows = rows[-limit:]
            return _send(request, 200, rows)

    def start(self) -> FakeBinance:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def _send(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
