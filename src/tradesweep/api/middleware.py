"""ASGI middleware: refuse request bodies over the size limit before reading them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradesweep.api.errors import InvalidBody, PayloadTooLarge, domain_error_response


class BodyLimit:
    """413 for a body over ``max_bytes``: at once when ``Content-Length`` says so (nothing is
    read), else as soon as the chunks received pass the limit (a chunked upload)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body of {size} is over the limit of {self.max_bytes:,} bytes",
            fix="send a smaller body: a sweep request is a few hundred bytes",
            limit_bytes=self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                error: Exception = InvalidBody(
                    f"invalid Content-Length header {declared[:40]!r}",
                    fix="send the body's size in bytes",
                )
                await domain_error_response(error)(scope, receive, send)  # type: ignore[arg-type]
                return
            if length > self.max_bytes:
                too_large = self._too_large(f"{length:,} bytes")
                await domain_error_response(too_large)(scope, receive, send)
                return

        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large(f"more than {received:,} bytes")
            return message

        await self.app(scope, limited, send)
