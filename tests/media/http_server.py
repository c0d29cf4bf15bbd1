"""A local HTTP server (127.0.0.1 only) with well-behaved, slow, failing and malicious endpoints.

Shared by tests/media and tests/pipelines/common/test_listing.py; start it with `serving()`.
"""

import contextlib
import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def jpeg_bytes(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def photo_bytes(seed: int, size=(320, 240)) -> bytes:
    """A smooth random picture: different seeds give perceptually different images."""
    import numpy as np

    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), "RGB")
    buffer = io.BytesIO()
    coarse.resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # clients hanging up on slow routes is the point
        pass


class ImageServer:
    """Routes by path; `hits` counts requests per path so tests can check retries."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.events: list[tuple[str, str, float]] = []  # (path, start|end, time): what overlapped what
        self.release_hold = threading.Event()  # /hold answers only once a test sets it
        self.photos_before_slow_ok: int | None = None  # set: /slow-ok answers once this many /photo were asked
        self._photos_asked = threading.Event()
        self.image = jpeg_bytes()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.hits[self.path] += 1
                server.events.append((self.path, "start", time.monotonic()))
                photos = sum(1 for path, kind, _ in server.events if path.startswith("/photo") and kind == "start")
                if server.photos_before_slow_ok is not None and photos >= server.photos_before_slow_ok:
                    server._photos_asked.set()
                name = "route_" + self.path.strip("/").split("?")[0].replace("-", "_").replace(".", "_")
                getattr(server, name, server.route_404)(self, server.hits[self.path])
                server.events.append((self.path, "end", time.monotonic()))

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    # -- routes --

    @staticmethod
    def send(handler, status, body=b"", content_type="image/jpeg", headers=None, length=None):
        handler.send_response(status)
        if content_type:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def route_404(self, h, n):
        self.send(h, 404, b"not found", "text/plain")

    def route_ok_jpg(self, h, n):
        self.send(h, 200, self.image)

    def route_octet(self, h, n):
        self.send(h, 200, self.image, "application/octet-stream")

    def route_flaky(self, h, n):  # two server errors, then the image
        if n <= 2:
            self.send(h, 503, b"busy", "text/plain")
        else:
            self.send(h, 200, self.image)

    def route_always_503(self, h, n):
        self.send(h, 503, b"busy", "text/plain")

    def route_retry_soon(self, h, n):
        if n == 1:
            self.send(h, 429, b"slow down", "text/plain", {"Retry-After": "0"})
        else:
            self.send(h, 200, self.image)

    def route_retry_far(self, h, n):  # molmo issue #39: a Retry-After a day away
        self.send(h, 429, b"slow down", "text/plain", {"Retry-After": "86400"})

    def route_retry_far_date(self, h, n):
        self.send(h, 503, b"maintenance", "text/plain", {"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"})

    def route_html(self, h, n):
        self.send(h, 200, b"<html><body>login</body></html>", "text/html; charset=utf-8")

    def route_jpeg_as_html(self, h, n):  # a real image behind a careless Content-Type
        self.send(h, 200, self.image, "text/html")

    def route_loop(self, h, n):  # redirects to itself forever
        self.send(h, 302, b"", "text/plain", {"Location": "/loop"})

    def route_to_ftp(self, h, n):
        self.send(h, 302, b"", "text/plain", {"Location": "ftp://127.0.0.1/x.jpg"})

    def route_slow_ok(self, h, n):  # a good image after a long silence (2.5 s): must not hold other downloads
        self._photos_asked.wait(2.5)  # ... or, with photos_before_slow_ok, as soon as the photos were asked for
        self.send(h, 200, self.image)

    def route_hold(self, h, n):  # a good image once the test says so (30 s at most): a server that stalls
        self.release_hold.wait(30)
        self.send(h, 200, self.image)

    def route_big_declared(self, h, n):
        self.send(h, 200, b"x" * 10, length=10_000_000)

    def route_big_chunked(self, h, n):  # no Content-Length: the cap must hold on the bytes read
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(64):
            h.wfile.write(b"\xff" * 4096)

    def route_trickle(self, h, n):  # a byte every 0.1 s: each read is quick, the whole is endless
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            try:
                h.wfile.write(b"\xff")
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    def route_hang(self, h, n):  # no response at all for longer than the socket timeout
        time.sleep(3)
        self.send(h, 200, self.image)

    def route_short_body(self, h, n):  # claims 5000 bytes, sends 10, closes
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.send_header("Content-Length", "5000")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(self.image[:10])
        h.close_connection = True

    def route_redirect(self, h, n):
        self.send(h, 302, b"", None, {"Location": "/ok.jpg"})

    def route_photo(self, h, n):  # /photo?seed=N: a different picture for every N
        seed = int(h.path.split("seed=", 1)[1].split("&")[0]) if "seed=" in h.path else 0
        self.send(h, 200, photo_bytes(seed))

    def route_not_image(self, h, n):
        self.send(h, 200, b"this is not an image at all", "application/octet-stream")


@contextlib.contextmanager
def serving():
    server = ImageServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
