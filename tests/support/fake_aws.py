"""The base of the recording stand-ins on 127.0.0.1 (fake STS, fake IAM, an OpenID Connect
issuer, a container credentials endpoint): what moto cannot show, such as what a module sends
(headers, form fields, the key it signed with, each retried attempt) and answers AWS gives only
on a bad day.

A stand-in is a subclass of FakeAWS that answers requests in ``answer(request)``, returning
``(status, headers, body)``; the ``xml``, ``xml_result``, ``xml_error`` and ``json`` methods
build those for STS/IAM-style (query protocol) and JSON services. The server listens on a free
port of 127.0.0.1 from construction on, serves from ``__enter__`` (or ``start()``) in a thread
until ``__exit__`` (or ``close()``), and records every request it answers as a ``Request`` in
``requests`` (``clear()`` forgets them).
"""

import http.server
import json as _json
import threading
import urllib.parse
from xml.sax.saxutils import escape

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


class Request:
    """One request as the server received it."""

    def __init__(self, method, path, headers, body, peer=None):
        self.method, self.path, self.body = method, path, body
        self.peer = peer  # the client's (address, port): one per connection
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.form = {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    @property
    def query(self):
        """The fields of the path's query string."""
        return {k: v[-1] for k, v in
                urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True).items()}

    @property
    def action(self):
        """The query protocol's Action (the form's, else the query string's)."""
        return self.form.get("Action") or self.query.get("Action")

    @property
    def signed(self):
        return "authorization" in self.headers

    @property
    def credential(self):
        """The Credential= part of the SigV4 Authorization header: (key, date, region, service),
        or None for an unsigned request."""
        auth = self.headers.get("authorization", "")
        if "Credential=" not in auth:
            return None
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        key, date, region, service, _ = scope.split("/")
        return key, date, region, service

    @property
    def access_key(self):
        """The key of the SigV4 Authorization header, or None for an unsigned request."""
        credential = self.credential
        return credential[0] if credential else None

    @property
    def scope(self):
        """region/service of the signature's credential scope, or None."""
        credential = self.credential
        return f"{credential[2]}/{credential[3]}" if credential else None

    def _sdk_request(self, name):
        for part in self.headers.get("amz-sdk-request", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name and value.isdigit():
                return int(value)
        return None

    @property
    def attempt(self):
        """k of the SDK's ``amz-sdk-request: attempt=<k>; max=<m>`` header."""
        return self._sdk_request("attempt")

    @property
    def max_attempts(self):
        return self._sdk_request("max")

    def __repr__(self):
        if self.action:
            return f"<{self.action} attempt={self.attempt} form={self.form}>"
        return f"<{self.method} {self.path}>"


def element(name, value):
    """<name>value</name>, the value escaped."""
    return f"<{name}>{escape(str(value))}</{name}>"


class FakeAWS:
    """A recording HTTP server on 127.0.0.1; subclasses override answer()."""

    methods = ("POST",)  # anything else: 501, not recorded
    protocol_version = "HTTP/1.1"
    namespace = STS_NS  # of the XML answers
    request_id = "fake-request-id-0001"  # in the XML answers and their x-amzn-RequestId header

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- life

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # --- the test's side

    def clear(self):
        """Forgets the requests recorded so far."""
        with self.lock:
            self.requests.clear()

    def actions(self):
        with self.lock:
            return [r.action for r in self.requests]

    def paths(self):
        with self.lock:
            return [r.path for r in self.requests]

    # --- answers

    def answer(self, request):
        """(status, headers, body) for one request; body is str or bytes."""
        return self.xml_error(400, "InvalidAction", f"Could not find operation {request.action}")

    def headers(self, content_type="text/xml"):
        return {"Content-Type": content_type, "x-amzn-RequestId": self.request_id}

    def xml(self, status, text):
        return status, self.headers(), text

    def xml_result(self, action, result, status=200, request_id=None, namespace=None):
        """<ActionResponse><ActionResult>result</ActionResult><ResponseMetadata>...: the query
        protocol's answer (no Result element when result is None)."""
        inner = f"<{action}Result>{result}</{action}Result>" if result is not None else ""
        return self.xml(status, (
            f'<{action}Response xmlns="{namespace or self.namespace}">{inner}<ResponseMetadata>'
            f"<RequestId>{request_id or self.request_id}</RequestId></ResponseMetadata></{action}Response>"))

    def xml_error(self, status, code, message, kind=None, request_id=None, namespace=None):
        """The query protocol's error body; kind (Sender/Receiver) follows the status unless given."""
        kind = kind or ("Receiver" if status >= 500 else "Sender")
        return self.xml(status, (
            f'<ErrorResponse xmlns="{namespace or self.namespace}"><Error><Type>{kind}</Type>{element("Code", code)}'
            f'{element("Message", message)}</Error><RequestId>{request_id or self.request_id}</RequestId>'
            "</ErrorResponse>"))

    def json(self, status, value, content_type="application/json"):
        return status, {"Content-Type": content_type}, _json.dumps(value)

    # --- the server's side

    def record(self, request):
        with self.lock:
            self.requests.append(request)

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = fake.protocol_version

            def _serve(self):
                if self.command not in fake.methods:
                    self.send_error(501)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                request = Request(self.command, self.path, dict(self.headers), body, self.client_address)
                fake.record(request)
                status, headers, data = fake.answer(request)
                if isinstance(data, str):
                    data = data.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

            def log_message(self, *args):
                pass

        return Handler
