"""A recording STS stand-in on 127.0.0.1, for what moto cannot show: what the module actually
sends (headers, form fields, the signing scope) and whether it sends anything at all.

It answers every POST with a fixed GetSessionToken response whose expiration has fractional
seconds, and remembers each request.
"""

import http.server
import threading
import urllib.parse

ACCESS_KEY = "ASIAFAKESTSEXAMPLE01"
SECRET_KEY = "fakeSTSsecret/Returned+Key0000000000000"
SESSION_TOKEN = "FwoGZXIvYXdzEFakeSessionTokenFromTheRecordingServer//////////"
EXPIRATION_WIRE = "2031-02-03T04:05:06.789Z"
EXPIRATION = "2031-02-03T04:05:06+00:00"

RESPONSE = f"""<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetSessionTokenResult>
    <Credentials>
      <SessionToken>{SESSION_TOKEN}</SessionToken>
      <SecretAccessKey>{SECRET_KEY}</SecretAccessKey>
      <Expiration>{EXPIRATION_WIRE}</Expiration>
      <AccessKeyId>{ACCESS_KEY}</AccessKeyId>
    </Credentials>
  </GetSessionTokenResult>
  <ResponseMetadata>
    <RequestId>58c5dbae-abef-11e0-8cfe-09039844ac7d</RequestId>
  </ResponseMetadata>
</GetSessionTokenResponse>
""".encode()


class Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.body = method, path, body
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.form = {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    @property
    def credential(self):
        """The Credential= part of the SigV4 Authorization header: (key, date, region, service)."""
        auth = self.headers.get("authorization", "")
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        key, date, region, service, _ = scope.split("/")
        return key, date, region, service


class FakeSTS:
    def __init__(self):
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                recorder.requests.append(Request("POST", self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(RESPONSE)))
                self.send_header("x-amzn-RequestId", "58c5dbae-abef-11e0-8cfe-09039844ac7d")
                self.end_headers()
                self.wfile.write(RESPONSE)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def clear(self):
        self.requests.clear()
