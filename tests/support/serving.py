"""The real app behind a real waitress server, for tests that need sockets (concurrency, a browser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def served(app, **options) -> Iterator[str]:
    """`app` in a waitress server on a free port of 127.0.0.1 (waitress `options` as given); yields
    its base URL, and stops the server afterwards."""
    import waitress
    from waitress import wasyncore

    server = waitress.create_server(app, host="127.0.0.1", port=0, **options)
    stop = threading.Event()

    def serve():  # waitress's own loop, a tenth of a second at a time, until told to stop; then close
        while not stop.is_set():
            wasyncore.loop(timeout=0.1, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=serve, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=30)
