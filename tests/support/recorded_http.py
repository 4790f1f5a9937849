"""A local HTTP server's scripted answers from recorded-format fixtures (tests/fixtures/)."""

from __future__ import annotations

from pathlib import Path

from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Script:
    """A request handler answering `answer(request, n)` -> (status, body, headers), recording requests."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        status, body, headers = self.answer(request, len(self.requests))
        return Response(body, status=status, headers=headers)


def serve(httpserver, path: str, answer) -> Script:
    """Answer every request to `path` on the pytest-httpserver with `answer`."""
    script = Script(answer)
    httpserver.expect_request(path).respond_with_handler(script)
    return script


def arxiv_answer(request: Request, n: int):
    if request.args["max_results"] == "1":
        return 200, fixture("arxiv/page1.xml"), {"Content-Type": "application/atom+xml"}
    page = "arxiv/page1.xml" if request.args["start"] == "0" else "arxiv/page2.xml"
    return 200, fixture(page), {"Content-Type": "application/atom+xml"}
