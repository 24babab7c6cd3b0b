"""A minimal Lambda Runtime API server for one function process.

Serves the four endpoints a custom runtime (``provided.al2023``) uses:

    GET  /2018-06-01/runtime/invocation/next
    POST /2018-06-01/runtime/invocation/{request_id}/response
    POST /2018-06-01/runtime/invocation/{request_id}/error
    POST /2018-06-01/runtime/init/error

One server belongs to exactly one child process, so a long poll left behind by a dead process can
never swallow an invocation meant for its successor.
"""

import json
import logging
import queue
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger(__name__)

PREFIX = "/2018-06-01/runtime"
POLL_SECONDS = 0.2


@dataclass
class Invocation:
    """One request handed to the runtime, and its outcome once known."""

    request_id: str
    payload: bytes
    headers: dict[str, str]
    done: threading.Event = field(default_factory=threading.Event)
    is_error: bool = False
    result: bytes = b""
    log_lines: list[str] = field(default_factory=list)

    def finish(self, is_error: bool, result: bytes) -> bool:
        """Record the outcome; the first caller wins (response vs. crash vs. timeout)."""
        if self.done.is_set():
            return False
        self.is_error = is_error
        self.result = result
        self.done.set()
        return True


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A function process dying mid-request resets its connection: not worth a traceback.
        if isinstance(sys.exception(), ConnectionError):
            LOG.debug("runtime api client %s went away", client_address)
        else:
            LOG.exception("runtime api: error while serving %s", client_address)


class RuntimeApi:
    """State shared between the HTTP handler threads and the executor."""

    def __init__(self, on_change: threading.Event):
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.current: Invocation | None = None
        self.next_requested = threading.Event()
        self.init_error: bytes | None = None
        self.closed = threading.Event()
        self._on_change = on_change
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.runtime_api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"lambda-runtime-api-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def submit(self, invocation: Invocation) -> None:
        with self._lock:
            self.current = invocation
        self.pending.put(invocation)

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self._server.shutdown()
        self._server.server_close()

    # Called from handler threads.

    def wait_for_invocation(self) -> Invocation | None:
        self.next_requested.set()
        self._on_change.set()
        while not self.closed.is_set():
            try:
                return self.pending.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
        return None

    def requeue(self, invocation: Invocation) -> None:
        # The long poll's connection died before the event got out; keep it for the next poll.
        if not invocation.done.is_set():
            self.pending.put(invocation)

    def complete(self, request_id: str, is_error: bool, body: bytes) -> bool:
        with self._lock:
            invocation = self.current
            if invocation is None or invocation.request_id != request_id:
                return False
            self.current = None
        return invocation.finish(is_error, body)

    def record_init_error(self, body: bytes) -> None:
        if self.init_error is None:
            self.init_error = body
        self._on_change.set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "notifier-localstack-runtime-api"

    @property
    def api(self) -> RuntimeApi:
        return self.server.runtime_api

    def log_message(self, format, *args):  # noqa: A002 - signature set by the base class
        LOG.debug("runtime api %s: " + format, self.client_address, *args)

    def do_GET(self):
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND, error_body("NotFound", self.path))
            return
        invocation = self.api.wait_for_invocation()
        if invocation is None:
            self._reply(HTTPStatus.GONE, error_body("Shutdown", "execution environment stopped"))
            self.close_connection = True
            return
        try:
            self.send_response(HTTPStatus.OK)
            for name, value in invocation.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(invocation.payload)))
            self.end_headers()
            self.wfile.write(invocation.payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            self.api.requeue(invocation)

    def do_POST(self):
        body = self._read_body()
        parts = self.path.removeprefix(PREFIX).strip("/").split("/")
        if parts == ["init", "error"]:
            self.api.record_init_error(self._error_payload(body))
            self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            return
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            is_error = parts[2] == "error"
            payload = self._error_payload(body) if is_error else body
            if self.api.complete(parts[1], is_error, payload):
                self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            else:
                self._reply(
                    HTTPStatus.BAD_REQUEST,
                    error_body("InvalidRequestID", f"no invocation in flight with id {parts[1]}"),
                )
            return
        self._reply(HTTPStatus.NOT_FOUND, error_body("NotFound", self.path))

    def _error_payload(self, body: bytes) -> bytes:
        if body.strip():
            return body
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
        return error_body(error_type, "")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers (a streamed response may send some) end with an empty line.
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: HTTPStatus, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True
