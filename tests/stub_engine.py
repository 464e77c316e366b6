"""A stand-in for a search engine that hangs: answers `ANSWERS` requests on 127.0.0.1:`PORT`, then accepts
connections and never replies (as the local engine did), until it is restarted. With `HUNG_ONCE` (a path),
it hangs in its first life only: the file, written when it hangs, tells its next life to keep answering; that
life opens its port only after `SLOW_START` seconds, as an engine loading its data does."""

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HUNG_ONCE = Path(os.environ["HUNG_ONCE"]) if os.environ.get("HUNG_ONCE") else None
ANSWERS = 10**9 if HUNG_ONCE and HUNG_ONCE.exists() else int(os.environ.get("ANSWERS", "1000000"))
answered = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        global answered
        with lock:
            answered += 1
            hang = answered > ANSWERS
        if hang:
            if HUNG_ONCE:
                HUNG_ONCE.touch()
            time.sleep(3600)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET

    def log_message(self, *_args: object) -> None:
        pass


if HUNG_ONCE and HUNG_ONCE.exists():
    time.sleep(float(os.environ.get("SLOW_START", "0")))
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
