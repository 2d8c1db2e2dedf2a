"""Where an agent keeps its things: identity, config, data, and the running peer's control files.

Two layouts:

* ``--home DIR`` (or ``$METASPACE_HOME``): everything under DIR, so several agents can live side by side
  on one machine::

      DIR/config.json        the birth answers and limits (metaspace.config)
      DIR/identity.key       the encrypted ed25519 keystore (metaspace.keystore)
      DIR/data/              the peer's data (records, deals, ...)
      DIR/run/api.json       written by the running peer: {"url": ..., "pid": ...}
      DIR/run/token          the control API bearer token (mode 0600)

* no home given: the platform (XDG) directories, ``$XDG_CONFIG_HOME/metaspace`` (default
  ``~/.config/metaspace``) for ``config.json`` and ``identity.key``, and ``$XDG_DATA_HOME/metaspace``
  (default ``~/.local/share/metaspace``) for ``data/`` and ``run/``.

This module does no I/O except reading the environment; :meth:`Home.ensure` creates the directories.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOME_ENV = "METASPACE_HOME"
APP_DIR = "metaspace"


@dataclass(frozen=True)
class Home:
    """The resolved paths of one agent.

    Attributes:
        root: the path shown to humans and passed back as ``--home`` (the home dir, or the XDG data dir).
        config_dir: where ``config.json`` and ``identity.key`` live.
        data_dir: the peer's persistent data.
        run_dir: the running peer's ``api.json`` and ``token``.
        explicit: True when the user chose the home (``--home`` or ``$METASPACE_HOME``).
    """

    root: Path
    config_dir: Path
    data_dir: Path
    run_dir: Path
    explicit: bool

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def keystore_file(self) -> Path:
        return self.config_dir / "identity.key"

    @property
    def api_file(self) -> Path:
        return self.run_dir / "api.json"

    @property
    def token_file(self) -> Path:
        return self.run_dir / "token"

    def home_flag(self) -> str:
        """The ``--home`` part of a command line that reaches this agent ('' for the default home)."""
        return f"--home {self.root} " if self.explicit else ""

    def ensure(self) -> None:
        """Create the directories (private: mode 0700 for new ones)."""
        for d in (self.config_dir, self.data_dir, self.run_dir):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)


def _xdg(var: str, fallback: str, env: dict[str, str] | os._Environ[str]) -> Path:
    value = env.get(var, "")
    # The XDG spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or os.path.expanduser("~")) / fallback


def resolve_home(home: Path | str | None = None, env: dict[str, str] | None = None) -> Home:
    """Resolve an agent's paths.

    Args:
        home: the ``--home`` value, or None to use ``$METASPACE_HOME`` and then the XDG directories.
        env: the environment to read (default ``os.environ``), for tests.

    Returns:
        The agent's :class:`Home` (directories not created).
    """
    environ = os.environ if env is None else env
    chosen = home if home not in (None, "") else environ.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser().absolute()
        return Home(root=root, config_dir=root, data_dir=root / "data", run_dir=root / "run", explicit=True)
    config_dir = _xdg("XDG_CONFIG_HOME", ".config", environ) / APP_DIR
    data_root = _xdg("XDG_DATA_HOME", ".local/share", environ) / APP_DIR
    return Home(
        root=data_root,
        config_dir=config_dir,
        data_dir=data_root / "data",
        run_dir=data_root / "run",
        explicit=False,
    )


def home_from_args(args: argparse.Namespace) -> Home:
    """The :class:`Home` of a parsed command line (``metaspace.cli.main`` sets ``args.home_paths``)."""
    paths = getattr(args, "home_paths", None)
    if isinstance(paths, Home):
        return paths
    return resolve_home(getattr(args, "home", None))


def write_private_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically, readable only by its owner.

    The bytes go to a fresh temporary file in the same directory (created with ``mode``, never wider),
    which is fsynced and then renamed over ``path``: a reader sees the old file or the new one, never
    half of one, and a crash leaves no partial key behind.

    Args:
        path: the destination; its directory must exist.
        data: the whole new content.
        mode: permission bits of the new file (default 0600).

    Raises:
        OSError: the file could not be written.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # the umask may have narrowed it; never widen beyond `mode`
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename durable too
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the data itself is already synced
    finally:
        os.close(dir_fd)


def read_small_json(
    path: Path, max_bytes: int, error: type[Exception], *, missing: str, too_large: str, not_json: str
) -> Any:
    """Read and parse a small JSON file of ours, refusing anything over ``max_bytes``.

    Raises:
        error: with ``missing``, ``too_large`` or ``not_json`` (``{path}`` and ``{exc}`` are filled in),
            or "cannot read" for other OS errors.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise error(missing.format(path=path)) from exc
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > max_bytes:
        raise error(too_large.format(path=path))
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(not_json.format(path=path, exc=exc)) from exc
