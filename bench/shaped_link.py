"""A slow network link between the controller and a managed host, on loopback: a TCP relay that
gives each direction a bottleneck rate and a one-way delay.

    python shaped_link.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT RATE_MBIT DELAY_MS

Prints "ready" once it listens on 127.0.0.1:LISTEN_PORT. Every byte read from one side leaves the
bottleneck at the link's rate (first come, first served, no loss) and reaches the other side
DELAY_MS later; so a request and its answer take at least two delays (the round trip), and a
large upload takes its size over the rate. This is the link at the level of the byte stream (ssh
runs one TCP connection through it), not of packets: TCP's own slow start and acknowledgements
travel on loopback, so a transfer reaches the full rate at once, as on a link with a large
window. Used by bench.py for the remote-host rows; it runs until killed.
"""

import asyncio
import sys
import time

CHUNK = 16 * 1024


class Direction:
    """One direction of the link: a bottleneck of `rate` bytes per second, then `delay` seconds."""

    def __init__(self, rate_bytes, delay):
        self.rate = rate_bytes
        self.delay = delay
        self.free_at = 0.0  # when the bottleneck has sent everything queued so far

    def arrival(self, n):
        now = time.monotonic()
        start = max(now, self.free_at)
        self.free_at = start + (n / self.rate if self.rate else 0.0)
        return self.free_at + self.delay


async def pump(reader, writer, direction):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            item = await queue.get()
            if item is None:
                break
            due, data = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except OSError:
            pass

    delivery = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            queue.put_nowait((direction.arrival(len(data)), data))
    except OSError:
        pass
    queue.put_nowait(None)
    try:
        await delivery
    except OSError:
        pass


async def main(listen_port, host, port, rate_mbit, delay_ms):
    rate = rate_mbit * 1_000_000 / 8
    delay = delay_ms / 1000

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        up, down = Direction(rate, delay), Direction(rate, delay)
        await asyncio.gather(pump(client_reader, server_writer, up), pump(server_reader, client_writer, down))
        for w in (client_writer, server_writer):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, host, port, rate_mbit, delay_ms = sys.argv[1:6]
    asyncio.run(main(int(listen), host, int(port), float(rate_mbit), float(delay_ms)))
