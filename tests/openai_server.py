"""A real HTTP server on loopback that speaks the OpenAI chat-completions API (and Ollama's
/api/chat).

Tests script its behaviour per request, so litellm's own HTTP client is exercised end to end:
streamed answers, error statuses, a server that hangs, and a stream that breaks mid-way.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server does with one request."""

    text: str = "A grounded answer [@cdpruner]."
    status: int = 200
    hang: bool = False
    break_after: int | None = None  # chunks sent before the connection is dropped
    prompt_tokens: int = 42


@dataclass
class OpenAIServer:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/api/tags":
                    self._send_json(200, {"models": [{"name": "llama3.2"}]})
                else:
                    self._send_json(200, {"object": "list", "data": [{"id": "stub"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received = time.monotonic()
                server.requests.append(
                    {
                        "path": self.path,
                        "body": body,
                        "authorization": self.headers.get("Authorization"),
                        "received_at": received,
                    }
                )
                reply = server.replies.popleft() if server.replies else Reply()
                if reply.hang:
                    server.release.wait(60)
                    return
                if reply.status != 200:
                    self._send_json(
                        reply.status,
                        {
                            "error": {
                                "message": f"status {reply.status}",
                                "type": "error",
                                "code": None,
                            }
                        },
                    )
                    return
                if self.path == "/api/chat":
                    self._ollama(reply, body)
                elif body.get("stream"):
                    self._stream(reply, body)
                else:
                    self._send_json(200, _completion(reply))

            def _send_json(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [reply.text[i : i + 7] for i in range(0, len(reply.text), 7)]
                for number, piece in enumerate(pieces):
                    if reply.break_after is not None and number >= reply.break_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self._event(_chunk({"content": piece}))
                self._event(_chunk({}, finish="stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event(
                        {
                            "id": "c",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": "stub",
                            "choices": [],
                            "usage": _usage(reply),
                        }
                    )
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _ollama(self, reply: Reply, body: dict[str, Any]) -> None:
                """Ollama's /api/chat: newline-delimited JSON, usage in the last line."""
                pieces = [reply.text[i : i + 7] for i in range(0, len(reply.text), 7)]
                lines = [
                    {
                        "model": body["model"],
                        "message": {"role": "assistant", "content": piece},
                        "done": False,
                    }
                    for piece in pieces
                ]
                lines.append(
                    {
                        "model": body["model"],
                        "done": True,
                        "done_reason": "stop",
                        "message": {"role": "assistant", "content": ""},
                        "prompt_eval_count": reply.prompt_tokens,
                        "eval_count": len(pieces),
                    }
                )
                if not body.get("stream", True):
                    lines = [{**lines[-1], "message": {"role": "assistant", "content": reply.text}}]
                payload = "".join(json.dumps(line) + "\n" for line in lines).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _event(self, data: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _usage(reply: Reply) -> dict[str, int]:
    completion = max(1, len(reply.text) // 4)
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.prompt_tokens + completion,
    }


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(reply: Reply) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": reply.text},
            }
        ],
        "usage": _usage(reply),
    }


def unused_port() -> int:
    """A loopback port that nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_service(command: list[str], probe_url: str, timeout_s: float) -> Iterator[None]:
    """Start a real server process (llama.cpp, Chroma), wait until ``probe_url`` answers, and
    stop it afterwards; fail the test if it never comes up."""
    import pytest

    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(probe_url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command[0]} did not come up at {probe_url}")
                time.sleep(0.3)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
