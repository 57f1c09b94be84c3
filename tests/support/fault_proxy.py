"""A fault-injecting HTTP proxy on 127.0.0.1, between a module and moto (or any local upstream).

Each request the proxy receives is one attempt of the module; the proxy answers it according
to the current plan: a list of faults used one per request, the last one repeating. Faults:

- ``pass``: forward the request to the upstream and relay its answer;
- ``reset``: forward, then relay only the first half of the upstream's answer and reset the
  connection (TCP RST);
- ``status:<code>``: answer ``<code>`` with an AWS-style XML error body (``status:500``,
  ``status:503``); ``status:503:empty`` answers with no body;
- ``throttle``: answer ``400`` with the STS error code ``Throttling``; ``throttle:<Code>``
  uses another code (``ThrottlingException``, ``RequestLimitExceeded``, ...);
- ``throttle_attempts:<n>``: throttle the first ``n`` attempts of each module run (the SDK's
  ``amz-sdk-request: attempt=<k>; max=<m>`` header says which attempt a request is) and pass
  the later ones: deterministic under any concurrency;
- ``silent``: read the request and never answer (the connection stays open until the proxy
  stops);
- ``stall_body``: send the status line and headers of a 200 answer and a few bytes of its body,
  then nothing more;
- ``trickle``: like ``stall_body``, then one more byte of the body every half second;
- ``close``: read the request and close the connection without a byte of answer.

``FaultProxy.requests`` counts the attempts (requests read); ``connections`` counts accepted
connections (an attempt that never sends a whole request, such as a TLS handshake, counts
there only); ``times`` holds the requests' arrival times. Only
127.0.0.1 is used, for listening and for the upstream.

Also here: ``BacklogFull``, a listening socket whose accept queue is full, so that new
connections hang in the TCP handshake (for connect timeouts), and ``closed_port()``.
"""

import socket
import struct
import threading
import time
import urllib.parse

THROTTLE_BODY = (
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
    "<Code>{code}</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>fault-proxy-throttle</RequestId></ErrorResponse>"
)
SERVER_ERROR_BODY = (
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Receiver</Type>"
    "<Code>{code}</Code><Message>injected by the fault proxy</Message></Error>"
    "<RequestId>fault-proxy-{status}</RequestId></ErrorResponse>"
)
SERVER_ERROR_CODES = {500: "InternalFailure", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
REASONS = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _read_request(conn):
    """One HTTP/1.1 request (head and Content-Length body) as bytes, or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _attempt(request):
    """The attempt number the AWS SDK puts in its amz-sdk-request header (1 if none)."""
    head = request.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "amz-sdk-request":
            for part in value.split(";"):
                key, _, number = part.strip().partition("=")
                if key == "attempt" and number.isdigit():
                    return int(number)
    return 1


def _with_connection_close(request):
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body


def _answer(status, body, content_type="text/xml"):
    body = body.encode() if isinstance(body, str) else body
    return (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nx-amzn-RequestId: fault-proxy-{status}\r\n"
            "Connection: close\r\n\r\n").encode() + body


def _reset(conn):
    """Close with a TCP RST instead of a FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        conn.close()


class FaultProxy:
    def __init__(self, upstream):
        parts = urllib.parse.urlsplit(upstream)
        assert parts.hostname == "127.0.0.1", f"the upstream must be local, got {upstream}"
        self.upstream = (parts.hostname, parts.port)
        self.plan = ["pass"]
        self.requests = 0
        self.connections = 0
        self.throttled = 0
        self.times = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.held = []  # connections kept open by 'silent' and 'stall_body'
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the serving thread
        except OSError:
            pass
        self.sock.close()
        self.release()
        self.thread.join(timeout=5)

    def set(self, *plan):
        """The faults for the next requests, one per request; the last one repeats."""
        with self.lock:
            self.plan = list(plan) or ["pass"]
            self.requests = 0
            self.connections = 0
            self.throttled = 0
            self.times = []
        self.release()

    def release(self):
        """Closes the connections that 'silent' and 'stall_body' hold open."""
        with self.lock:
            held, self.held = self.held, []
        for conn in held:
            try:
                conn.close()
            except OSError:
                pass

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _next_fault(self):
        with self.lock:
            fault = self.plan[min(self.requests, len(self.plan) - 1)]
            self.requests += 1
            self.times.append(time.monotonic())
            return fault

    def _forward(self, request):
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(_with_connection_close(request))
            chunks = []
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    def _handle(self, conn):
        keep = False
        try:
            conn.settimeout(60)
            request = _read_request(conn)
            if request is None:
                return
            fault = self._next_fault()
            kind, _, arg = fault.partition(":")
            if kind == "pass":
                conn.sendall(self._forward(request))
            elif kind == "reset":
                answer = self._forward(request)
                conn.sendall(answer[: len(answer) // 2])
                time.sleep(0.05)
                _reset(conn)
                return
            elif kind == "status":
                code, _, variant = arg.partition(":")
                status = int(code)
                body = "" if variant == "empty" else SERVER_ERROR_BODY.format(
                    code=SERVER_ERROR_CODES.get(status, "InternalFailure"), status=status)
                conn.sendall(_answer(status, body))
            elif kind == "throttle":
                conn.sendall(_answer(400, THROTTLE_BODY.format(code=arg or "Throttling")))
            elif kind == "throttle_attempts":
                if _attempt(request) <= int(arg):
                    with self.lock:
                        self.throttled += 1
                    conn.sendall(_answer(400, THROTTLE_BODY.format(code="Throttling")))
                else:
                    conn.sendall(self._forward(request))
            elif kind == "silent":
                keep = True
            elif kind == "stall_body":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<GetSess")
                keep = True
            elif kind == "trickle":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<GetSess")
                while not self.stopping.is_set() and conn.fileno() >= 0:
                    time.sleep(0.5)
                    conn.sendall(b" ")
            elif kind == "close":
                pass
            else:
                raise ValueError(f"unknown fault {fault!r}")
        except OSError:
            pass
        finally:
            if keep:
                with self.lock:
                    self.held.append(conn)
            else:
                try:
                    conn.close()
                except OSError:
                    pass


class BacklogFull:
    """A port on 127.0.0.1 that is listened on but never accepts, with its accept queue filled,
    so that a new connection's handshake gets no answer: the client's connect hangs until its
    own timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.fillers = []

    def __enter__(self):
        # Fill the accept queue; the connects that do not complete are the proof it is full.
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(s)
        time.sleep(0.2)
        return self

    def hangs(self, seconds=0.5):
        """True when a new connection does not complete within `seconds`."""
        with socket.socket() as s:
            s.settimeout(seconds)
            try:
                s.connect(("127.0.0.1", self.port))
            except (socket.timeout, TimeoutError):
                return True
            except OSError:
                return False
            return False

    def __exit__(self, *exc):
        for s in self.fillers:
            s.close()
        self.sock.close()


def closed_port():
    """A port on 127.0.0.1 that refuses connections: bound, never listened on. Keep the
    returned socket open as long as the port is used."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
