"""A product viewer without a browser: a Socket.IO client connected as a wall page connects (Engine.IO 4
over a WebSocket, permessage-deflate offered as Chromium offers it), each message and its bytes on the
wire recorded."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Request
from wsproto.extensions import PerMessageDeflate

from harness.workload import PROBE_CELL

SIO_TARGET = "/socket.io/?EIO=4&transport=websocket"


class SioListener(threading.Thread):
    """A Socket.IO client as a page connects (Engine.IO 4 over a WebSocket; wsproto on a plain socket, no
    client library in between): records (time, bytes on the wire, event name, payload) per message.

    With ``compress`` (the default) it offers permessage-deflate as Chromium does, and the server's
    WebSocket (simple-websocket, wsproto) accepts it, so the bytes are what a browser receives. The bytes
    of each read from the socket are shared among the messages it completed, in proportion to their
    length (the total is exact); ``raw`` keeps each message's uncompressed length."""

    def __init__(
        self, base_url: str, keep_payload: bool = True, pathname: str = "/", compress: bool = True
    ) -> None:
        """Connect to ``base_url``'s /socket.io when started, as the page at ``pathname`` does
        (assets/js/socket.js sends ``{"pathname", "view"}`` as the connect auth; the server may put it in a
        room)."""
        super().__init__(daemon=True, name="bench-sio")
        hostport = base_url.removeprefix("http://").rstrip("/")
        host, port = hostport.rsplit(":", 1)
        self.addr = (host, int(port))
        self.keep_payload = keep_payload
        self.compress = compress
        self.auth = {"pathname": pathname}
        self.frames: list[tuple[float, int, str, Any]] = []
        self.raw: list[int] = []  # uncompressed length of each message in ``frames``
        self.compressed = False  # permessage-deflate was agreed
        self.connected = threading.Event()
        self.halt = threading.Event()
        self.error: str | None = None
        self._parts: list[str] = []  # the fragments of a message not finished yet

    def run(self) -> None:
        """Handshake, then read messages until stopped; answer the handshake and pings."""
        try:
            with socket.create_connection(self.addr, timeout=5) as sock:
                ws = self._handshake(sock)
                while not self.halt.is_set():
                    try:
                        data = sock.recv(65536)
                    except TimeoutError:
                        continue
                    if not data:
                        break
                    for out in self._received(ws, data, time.time()):
                        sock.sendall(ws.send(Message(data=out)))
        except Exception as err:  # reported by the benchmark, which then says what it could not measure
            self.error = f"{type(err).__name__}: {err}"
            self.connected.set()

    def _handshake(self, sock: socket.socket) -> WSConnection:
        """Send the WebSocket upgrade request (offering permessage-deflate if ``compress``)."""
        ws = WSConnection(ConnectionType.CLIENT)
        exts = [PerMessageDeflate()] if self.compress else []
        host = f"{self.addr[0]}:{self.addr[1]}"
        sock.sendall(ws.send(Request(host=host, target=SIO_TARGET, extensions=exts)))
        sock.settimeout(0.5)
        return ws

    def _received(self, ws: WSConnection, data: bytes, t: float) -> list[str]:
        """Take one read's bytes: record the messages they completed (sharing the bytes among them in
        proportion to their length); return what to answer."""
        ws.receive_data(data)
        done: list[str] = []
        for ev in ws.events():
            if isinstance(ev, AcceptConnection):
                self.compressed = any(isinstance(x, PerMessageDeflate) for x in ev.extensions)
            elif isinstance(ev, Message):
                self._parts.append(
                    ev.data if isinstance(ev.data, str) else ev.data.decode("utf-8", "replace")
                )
                if ev.message_finished:
                    done.append("".join(self._parts))
                    self._parts = []
            elif isinstance(ev, CloseConnection):
                self.halt.set()
        total = sum(len(m) for m in done) or 1
        answers = [self._message(msg, t, round(len(data) * len(msg) / total)) for msg in done]
        return [a for a in answers if a]

    def _message(self, msg: str, t: float, n: int) -> str | None:
        """Record one Engine.IO message; return what to answer (the handshake, a pong) or None."""
        self.raw.append(len(msg.encode()))
        if msg.startswith("0"):  # the Engine.IO open packet: connect to the default namespace
            self.frames.append((t, n, "other", None))
            return "40" + json.dumps(self.auth)
        if msg == "2":
            self.frames.append((t, n, "ping", None))
            return "3"
        if msg.startswith("40"):
            self.connected.set()
            self.frames.append((t, n, "connect", None))
        elif msg.startswith("42"):
            body = json.loads(msg[2:])
            self.frames.append((t, n, body[0], body[1] if self.keep_payload and len(body) > 1 else None))
        else:
            self.frames.append((t, n, "other", None))
        return None

    def stop(self) -> None:
        """Disconnect."""
        self.halt.set()
        self.join(5)


def probe_in(payload: Any) -> bool:
    """Whether a pushed delta changes the probe cell's open count."""
    if not isinstance(payload, dict):
        return False
    return PROBE_CELL in ((payload.get("set") or {}).get("cells") or {})
