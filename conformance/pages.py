"""The one pagination walker: follow `nextCursor` through a list method, bounded.

Every caller (connect.list_tools, the conformance listing walk, the security listing, the
workflow engine) walks through here, so every walk stops for the same reasons: the last page (no
`nextCursor`), a failed or malformed page, a cursor that came back (a loop: the conformance
campaign's pagination finding), or the page bound. Time is bounded by each request's timeout
and by the run's --max-time (the session raises budget.OutOfTime when it is used up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

MAX_PAGES = 50

Stop = Literal["end", "error", "loop", "limit"]
Request = Callable[[str, dict[str, Any]], Awaitable[Any]]  # (method, params) -> Exchange


@dataclass
class Walk:
    """What one walk saw: every page's exchange, the items in order, and why it stopped."""

    method: str
    key: str
    pages: list[Any] = field(default_factory=list)  # session.Exchange per page
    items: list[dict[str, Any]] = field(default_factory=list)
    stop: Stop = "end"
    loop: str | None = None  # the cursor that came back (stop == "loop")

    @property
    def limit_hit(self) -> bool:
        return self.stop == "limit"

    def unique(self, by: str = "name") -> list[dict[str, Any]]:
        """The items with duplicates (same `by` value) dropped, first one kept."""
        seen: set[Any] = set()
        out = []
        for item in self.items:
            k = item.get(by)
            if isinstance(k, (str, int)) and k in seen:
                continue
            seen.add(k)
            out.append(item)
        return out


async def walk(
    request: Request | Any,
    method: str,
    key: str,
    *,
    max_pages: int = MAX_PAGES,
    empty_cursor_ends: bool = True,
) -> Walk:
    """Walk `method` page by page. `request` is a Session (its .request is used) or an async
    callable (method, params) -> Exchange. An empty-string nextCursor ends the walk unless
    empty_cursor_ends=False (the conformance campaign judges it as a cursor)."""
    send = request.request if hasattr(request, "request") else request
    w = Walk(method, key)
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        ex = await send(method, {"cursor": cursor} if cursor is not None else {})
        w.pages.append(ex)
        if not ex.ok or not isinstance(ex.result, dict):
            w.stop = "error"
            return w
        page = ex.result.get(key)
        if isinstance(page, list):
            w.items.extend(x for x in page if isinstance(x, dict))
        nxt = ex.result.get("nextCursor")
        if not isinstance(nxt, str) or (empty_cursor_ends and not nxt):
            w.stop = "end"
            return w
        if nxt in seen:
            w.stop, w.loop = "loop", nxt
            return w
        seen.add(nxt)
        cursor = nxt
        if len(w.pages) >= max_pages:
            w.stop = "limit"
            return w
