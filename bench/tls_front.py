"""A TLS front for a local HTTP server: `python tls_front.py PORT CERT KEY UPSTREAM_PORT`.

Accepts TLS on 127.0.0.1:PORT with the given certificate and pipes each connection to the plain
HTTP server on 127.0.0.1:UPSTREAM_PORT. Used by the benchmark because moto's own TLS server (the
werkzeug development server) takes about 12 ms longer per request over TLS than over HTTP, all of
it on the server side: that would be measured as the client's TLS cost. One asyncio event loop,
no threads; prints "ready" once it listens.
"""

import asyncio
import ssl
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, ssl.SSLError, RuntimeError):
            pass


async def main(port, cert, key, upstream):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])))
