"""Request heads over the limits (``MAX_HEADER_COUNT`` headers, ``MAX_HEADER_BYTES`` of names and
values together) answer 431 ``headers_too_large`` before anything reads them."""

from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.core.errors import problem_response


class HeaderLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", ())
            size = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                response = problem_response(
                    431,
                    "headers_too_large",
                    f"The request has more than {self.max_count} headers or {self.max_bytes} bytes of them.",
                    title="Request header fields too large",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
