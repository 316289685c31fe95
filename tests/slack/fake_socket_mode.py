"""A fake Socket Mode endpoint: the websocket a Slack app opens with the URL `apps.connections.open`
returns. Plain RFC 6455 over the standard library (handshake, framing, ping/pong, close), enough for
slack_sdk's builtin client. Tests push envelopes the way Slack does and read the app's acks."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A single unmasked frame with FIN set: servers never mask what they send."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the client closed the connection")
        buf += chunk
    return buf


def read_frame(sock: socket.socket) -> tuple[bool, int, bytes]:
    """(fin, opcode, unmasked payload) of the next frame a client sent."""
    b0, b1 = _read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", _read_exact(sock, 2))
    elif n == 127:
        (n,) = struct.unpack("!Q", _read_exact(sock, 8))
    mask = _read_exact(sock, 4) if b1 & 0x80 else b""
    data = _read_exact(sock, n)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return bool(b0 & 0x80), b0 & 0x0F, data


class FakeSocketMode:
    """Listens on 127.0.0.1; the latest client to connect is the one messages go to."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self._cond = threading.Condition()
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        self.connections = 0  # handshakes completed
        self.paths: list[str] = []  # the request path of each handshake
        self.received: list[tuple[float, dict]] = []  # (monotonic time, message) of each text frame
        self.pings = 0
        self._ids = itertools.count(1)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True)

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closed = True
        self._listener.close()
        with self._cond:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # ---- the server side -------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            request += chunk
        lines = request.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        key = headers.get("sec-websocket-key")
        if headers.get("upgrade", "").lower() != "websocket" or not key:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        with self._cond:
            self.paths.append(lines[0].split(" ")[1])
            self._conn = conn
            self.connections += 1
            self._cond.notify_all()
        return True

    def _serve(self, conn: socket.socket) -> None:
        try:
            if not self._handshake(conn):
                conn.close()
                return
            message = b""
            while True:
                fin, opcode, data = read_frame(conn)
                if opcode == PING:
                    # slack_sdk judges a connection stale when its pings go unanswered.
                    self._send_on(conn, PONG, data)
                    with self._cond:
                        self.pings += 1
                elif opcode == CLOSE:
                    self._send_on(conn, CLOSE, data[:2])
                    break
                elif opcode in (TEXT, CONTINUATION):
                    message += data
                    if fin:
                        with self._cond:
                            self.received.append((time.monotonic(), json.loads(message)))
                            self._cond.notify_all()
                        message = b""
        except (ConnectionError, OSError):
            pass
        finally:
            with self._cond:
                if self._conn is conn:
                    self._conn = None
                self._cond.notify_all()
            conn.close()

    def _send_on(self, conn: socket.socket, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            conn.sendall(encode_frame(opcode, payload))

    # ---- what tests use --------------------------------------------------------------------

    def wait_connected(self, timeout: float = 30.0, *, alive=lambda: True) -> None:
        """Block until a client has completed the handshake; `alive()` False stops waiting early."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._conn is None:
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    raise AssertionError("no Socket Mode client connected")
                self._cond.wait(min(left, 0.2))

    def wait_disconnected(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._conn is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the Socket Mode client is still connected")
                self._cond.wait(left)

    def send(self, message: dict) -> float:
        """Send a JSON text frame to the connected client; returns when it was sent (monotonic)."""
        with self._cond:
            conn = self._conn
        if conn is None:
            raise AssertionError("no Socket Mode client is connected")
        self._send_on(conn, TEXT, json.dumps(message).encode())
        return time.monotonic()

    def hello(self) -> float:
        return self.send({"type": "hello", "num_connections": 1,
                          "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 3600},
                          "connection_info": {"app_id": "AGAUNTLET"}})

    def deliver(self, kind: str, payload: dict, *, retry_attempt: int = 0) -> tuple[str, float]:
        """Deliver an envelope (`events_api`, `slash_commands`, `interactive`); its id and send time."""
        envelope_id = f"env-{next(self._ids):06d}"
        sent = self.send({"envelope_id": envelope_id, "type": kind, "payload": payload,
                          "accepts_response_payload": kind != "events_api",
                          "retry_attempt": retry_attempt, "retry_reason": ""})
        return envelope_id, sent

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> tuple[float, dict]:
        """The (arrival time, message) of the client's ack for `envelope_id`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, message in self.received:
                    if message.get("envelope_id") == envelope_id:
                        return at, message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ack for {envelope_id}; received {self.received}")
                self._cond.wait(left)
