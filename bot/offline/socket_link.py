"""A stand-in for Slack's Socket Mode endpoint: accepts the WebSocket handshake and keeps
the connection open, so ``flightvault serve`` (Socket Mode) can be started and stopped
offline. It sends nothing; it only counts who connected."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import threading

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


class SocketLink:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            request += chunk
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.decode().split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        with self._lock:
            self.connections += 1
            self._open.append(conn)
        try:
            while conn.recv(4096):  # pings and the closing frame: read and ignore
                pass
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._server.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.close()
