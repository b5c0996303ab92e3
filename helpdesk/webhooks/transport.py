"""One HTTP POST to a checked address: no redirects followed, a timeout, a bounded read.

Standard library only (http.client): it never follows redirects, and the connection goes to the
IP address the guard checked while TLS still verifies the certificate for the host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl

from .guard import Target

MAX_READ = 2048


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """(status, start of the response body); network errors raise OSError."""
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target.host, target.port, target.address, timeout)
    else:
        conn = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    try:
        conn.request(
            "POST", target.path, body=body, headers={**headers, "Host": target.host_header}
        )
        response = conn.getresponse()
        text = response.read(MAX_READ).decode("utf-8", "replace")
        location = response.getheader("Location")
        if location and 300 <= response.status < 400:
            text = f"Location: {location[:300]}"
        return response.status, text
    finally:
        conn.close()
