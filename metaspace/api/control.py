"""The control API client (stdlib only, so the CLI starts fast) and the peer's run files.

The running agent peer serves its control API on 127.0.0.1 and writes two files under
``HOME/run/``: ``api.json`` = ``{"url": "http://127.0.0.1:PORT", "pid": PID}`` and ``token`` (mode
0600), the bearer token every request must carry. :class:`ControlClient` reads both, refuses any URL
that is not loopback (the token must never leave the machine), and turns the API's JSON errors into
:class:`ControlError`.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import urllib.parse
from pathlib import Path
from typing import Any

from metaspace.home import Home, write_private_file

#: Seconds to wait for the local peer (search and negotiate may take a few network round trips).
DEFAULT_TIMEOUT_S = 30.0
#: Largest reply body the client reads.
MAX_REPLY_BYTES = 8 * 1024 * 1024
MAX_RUN_FILE_BYTES = 4096
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ControlError(Exception):
    """A control API request failed. ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class PeerNotRunning(ControlError):
    """No agent peer is serving this home."""


def not_running_message(home: Home) -> str:
    return f"no agent peer is running for {home.root}; start it with `metaspace {home.home_flag()}peer`"


def new_token() -> str:
    """A fresh control API bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def write_run_files(home: Home, url: str, token: str, pid: int | None = None) -> None:
    """Publish the running peer's control API address and token (called by the peer once it listens).

    Args:
        home: the agent's home.
        url: ``http://127.0.0.1:PORT``.
        token: from :func:`new_token`.
        pid: the peer's process id (default: this process).
    """
    home.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private_file(home.token_file, token.encode("ascii"))
    info = {"url": url, "pid": os.getpid() if pid is None else pid}
    write_private_file(home.api_file, json.dumps(info).encode("utf-8"))


def remove_run_files(home: Home) -> None:
    """Remove ``api.json`` and ``token`` (called by the peer when it stops)."""
    for path in (home.api_file, home.token_file):
        path.unlink(missing_ok=True)


def _read_small(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_RUN_FILE_BYTES).decode("utf-8", "replace").strip()
    except FileNotFoundError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ControlClient:
    """A client of one agent peer's control API.

    Args:
        home: the agent's home (where ``run/api.json`` and ``run/token`` are).
        timeout: seconds per request.

    Raises (from every request):
        PeerNotRunning: no run files, a dead pid, or the connection was refused.
        ControlError: the API answered an error (``status``, ``code``, ``message`` from its JSON).
    """

    def __init__(self, home: Home, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.home = home
        self.timeout = timeout
        self._endpoint: tuple[str, int, str] | None = None

    def endpoint(self) -> tuple[str, int, str]:
        """``(host, port, token)`` of the running peer's control API.

        Raises:
            PeerNotRunning, ControlError: as for a request.
        """
        return self._connect_info()

    def _connect_info(self) -> tuple[str, int, str]:
        if self._endpoint is not None:
            return self._endpoint
        raw = _read_small(self.home.api_file)
        token = _read_small(self.home.token_file)
        if raw is None or not token:
            raise PeerNotRunning(not_running_message(self.home))
        try:
            info = json.loads(raw)
            url = urllib.parse.urlsplit(str(info["url"]))
            pid = info.get("pid")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ControlError(f"{self.home.api_file} is corrupted; restart the peer") from exc
        if isinstance(pid, int) and pid > 0 and not _pid_alive(pid):
            raise PeerNotRunning(
                not_running_message(self.home) + f" (stale {self.home.api_file}, pid {pid} is gone)"
            )
        if url.scheme != "http" or url.hostname not in LOOPBACK_HOSTS or url.port is None:
            raise ControlError(f"refusing a control API that is not on this machine: {info.get('url')!r}")
        self._endpoint = (url.hostname, url.port, token)
        return self._endpoint

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        *,
        as_bytes: bool = False,
    ) -> Any:
        """Send one request and return the decoded JSON reply.

        Args:
            method: GET, POST, DELETE.
            path: ``/api/v1/...``.
            body: JSON body (POST).
            query: query parameters; None values are left out.
            as_bytes: return a successful reply's body as bytes (a calendar file), not parsed JSON.

        Returns:
            The parsed JSON body (or the bytes).
        """
        host, port, token = self._connect_info()
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(MAX_REPLY_BYTES + 1)
        except ConnectionRefusedError as exc:
            raise PeerNotRunning(not_running_message(self.home)) from exc
        except TimeoutError as exc:
            raise ControlError(f"the agent peer did not answer within {self.timeout:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ControlError(f"talking to the agent peer failed: {exc}") from exc
        finally:
            conn.close()
        if len(raw) > MAX_REPLY_BYTES:
            raise ControlError("the agent peer's reply is too large")
        if as_bytes and resp.status < 400:
            return raw
        try:
            doc = json.loads(raw) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ControlError(f"the agent peer sent a reply that is not JSON (HTTP {resp.status})") from exc
        if resp.status >= 400:
            if isinstance(doc, dict) and isinstance(doc.get("message"), str):
                raise ControlError(doc["message"], status=resp.status, code=str(doc.get("error", "error")))
            raise ControlError(f"the agent peer answered HTTP {resp.status}", status=resp.status)
        return doc

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, query=query or None)

    def get_bytes(self, path: str) -> bytes:
        """A non-JSON resource (e.g. ``.ics``); errors still come back as :class:`ControlError`."""
        return bytes(self.request("GET", path, as_bytes=True))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body=body if body is not None else {})

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
