"""The agent's configuration: the birth answers and the limits the guardian derives from them.

Stored as JSON (``HOME/config.json``, mode 0600, written atomically)::

    {"version": 1, "peer_id": "12D3KooW...", "created": 1763800000, "language": "en",
     "comm_style": "brief", "autonomy": "always_ask", "spend": "conservative",
     "spend_limit_minor": 1000, "currency": "USD", "share": "nothing", "location": "city",
     "max_h3_res": 5, "home_cell": null, "marketplace": "browse", "categories": ["*"], "platforms": [],
     "owner": "ana", "agent_name": "agent", "auto_block_s": 3600, "payment_methods": ["cash"]}

Mappings (the one place they live):

* location precision -> the finest H3 resolution ever disclosed (:data:`LOCATION_MAX_RES`):
  never -> no location (None), city -> 5, neighborhood -> 7, precise -> 7 (res 7 is the finest ever).
* spending comfort -> a spend limit (:data:`SPEND_LIMITS_USD`): conservative 10, moderate 100,
  flexible 500 (in the config currency's major units), trust -> no limit (None).
* marketplace access -> the actions the agent may publish (:data:`MARKETPLACE_ACTIONS`); every
  level except ``full`` also means each deal needs the human's approval.
* ``owner`` and ``agent_name`` make the agent's display handle ``@owner/agent_name`` (chosen at init, not
  verified; shown in its profile only when ``share`` is ``basic`` or more). ``auto_block_s``: how long
  the firewall blocks a peer that floods this agent (0: never automatically).
* ``payment_methods``: how the human accepts to pay or be paid when a deal is handed over, preferred
  first (``cash``, or methods the human names such as ``venmo``): the agent proposes and confirms only
  these. There are no payment rails in Meta Space; the humans pay each other.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from metaspace.home import read_small_json, write_private_file

CONFIG_VERSION = 1
MAX_CONFIG_BYTES = 64 * 1024

AUTONOMY = ("always_ask", "ask_big", "act_notify", "full")
SPEND = ("conservative", "moderate", "flexible", "trust")
SHARE = ("nothing", "basic", "detailed", "whatever")
LOCATION = ("never", "city", "neighborhood", "precise")
MARKETPLACE = ("browse", "buy_approval", "sell_approval", "full")
COMM_STYLE = ("casual", "professional", "brief", "detailed")

LOCATION_MAX_RES: dict[str, int | None] = {"never": None, "city": 5, "neighborhood": 7, "precise": 7}
SPEND_LIMITS_USD: dict[str, int | None] = {
    "conservative": 10,
    "moderate": 100,
    "flexible": 500,
    "trust": None,
}
MARKETPLACE_ACTIONS: dict[str, frozenset[str]] = {
    "browse": frozenset(),
    "buy_approval": frozenset({"BUY", "SEEK_SERVICE"}),
    "sell_approval": frozenset({"SELL", "OFFER_SERVICE"}),
    "full": frozenset({"SELL", "BUY", "OFFER_SERVICE", "SEEK_SERVICE"}),
}
#: ``categories`` entry meaning "every category"; ``group/*`` allows one group.
ALL_CATEGORIES = "*"
#: An owner or agent name in the handle ``@owner/agent`` (the form ``wire.messages.HANDLE_RE`` accepts).
HANDLE_PART = re.compile(r"[a-z0-9][a-z0-9_.-]{0,30}")
DEFAULT_AGENT_NAME = "agent"
#: How long a flooding peer is blocked by default (seconds); at most a week.
DEFAULT_AUTO_BLOCK_S = 3600
MAX_AUTO_BLOCK_S = 7 * 24 * 3600
#: Payment methods when nothing else was said, and how many a human may list.
DEFAULT_PAYMENT_METHODS = ("cash",)
MAX_PAYMENT_METHODS = 4
#: A payment method's name (the form ``wire.handover.PAYMENT_METHOD_RE`` accepts).
PAYMENT_METHOD = re.compile(r"[a-z0-9][a-z0-9_.-]{0,23}")


class ConfigError(Exception):
    """The config file is missing or invalid (a message for humans)."""


@dataclass(frozen=True)
class AgentConfig:
    """One agent's birth answers and limits. Field meanings: see the module docstring."""

    peer_id: str
    autonomy: str = "always_ask"
    spend: str = "conservative"
    spend_limit_minor: int | None = 1000
    currency: str = "USD"
    share: str = "nothing"
    location: str = "city"
    max_h3_res: int | None = 5
    home_cell: str | None = None
    marketplace: str = "browse"
    categories: list[str] = field(default_factory=lambda: [ALL_CATEGORIES])
    language: str = "en"
    comm_style: str = "brief"
    platforms: list[str] = field(default_factory=list)
    created: int = 0
    version: int = CONFIG_VERSION
    owner: str | None = None
    agent_name: str = DEFAULT_AGENT_NAME
    auto_block_s: int = DEFAULT_AUTO_BLOCK_S
    payment_methods: list[str] = field(default_factory=lambda: list(DEFAULT_PAYMENT_METHODS))

    def __post_init__(self) -> None:
        for name, allowed in (
            ("autonomy", AUTONOMY),
            ("spend", SPEND),
            ("share", SHARE),
            ("location", LOCATION),
            ("marketplace", MARKETPLACE),
            ("comm_style", COMM_STYLE),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"config: {name} must be one of {', '.join(allowed)} (got {value!r})")
        finest = LOCATION_MAX_RES[self.location]
        if finest is None:
            if self.max_h3_res is not None:
                raise ConfigError("config: location 'never' allows no max_h3_res")
        elif not (isinstance(self.max_h3_res, int) and 0 <= self.max_h3_res <= finest):
            raise ConfigError(f"config: max_h3_res must be 0..{finest} for location {self.location!r}")
        if self.spend_limit_minor is not None and not (
            isinstance(self.spend_limit_minor, int) and self.spend_limit_minor >= 0
        ):
            raise ConfigError("config: spend_limit_minor must be a non-negative integer or null")
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isupper()):
            raise ConfigError(f"config: bad currency {self.currency!r}")
        if not isinstance(self.categories, list) or not all(isinstance(c, str) for c in self.categories):
            raise ConfigError("config: categories must be a list of strings")
        for name in ("owner", "agent_name"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and HANDLE_PART.fullmatch(value)):
                raise ConfigError(
                    f"config: {name} must be 1-31 characters of a-z, 0-9, _ . - (starting with a letter or "
                    f"digit), got {value!r}"
                )
        if not (isinstance(self.auto_block_s, int) and 0 <= self.auto_block_s <= MAX_AUTO_BLOCK_S):
            raise ConfigError(f"config: auto_block_s must be 0..{MAX_AUTO_BLOCK_S} seconds")
        methods = self.payment_methods
        if (
            not isinstance(methods, list)
            or not 1 <= len(methods) <= MAX_PAYMENT_METHODS
            or len(set(methods)) != len(methods)
            or not all(isinstance(m, str) and PAYMENT_METHOD.fullmatch(m) for m in methods)
        ):
            raise ConfigError(
                "config: payment_methods must list 1-4 different names of a-z, 0-9, _ . - (e.g. cash, venmo)"
            )

    def allows_category(self, category: str) -> bool:
        """True if the human allowed the agent to deal in ``category`` (``*`` and ``group/*`` patterns)."""
        group = category.split("/", 1)[0]
        return any(c in (ALL_CATEGORIES, category, f"{group}/*") for c in self.categories)

    def allows_action(self, action: str) -> bool:
        """True if the marketplace access allows publishing intents with ``action`` (SELL, BUY, ...)."""
        return action.upper() in MARKETPLACE_ACTIONS[self.marketplace]

    @property
    def deals_need_approval(self) -> bool:
        """Every deal waits for the human unless marketplace access is full and autonomy allows acting."""
        return self.marketplace != "full" or self.autonomy == "always_ask"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> AgentConfig:
        """Build from a parsed config document; unknown keys are ignored (newer versions).

        Raises:
            ConfigError: missing ``peer_id``, unsupported version, or invalid values.
        """
        if not isinstance(doc, dict):
            raise ConfigError("config: not a JSON object")
        if doc.get("version", CONFIG_VERSION) != CONFIG_VERSION:
            raise ConfigError(f"config: unsupported version {doc.get('version')!r}")
        if not isinstance(doc.get("peer_id"), str):
            raise ConfigError("config: missing peer_id")
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in doc.items() if k in known})
        except TypeError as exc:
            raise ConfigError(f"config: {exc}") from exc


def spend_limit_for(spend: str, currency: str, exponent: int) -> int | None:
    """The spend limit in minor units of ``currency`` for a spending-comfort answer (None = no limit)."""
    major = SPEND_LIMITS_USD[spend]
    return None if major is None else major * 10**exponent


def new_config(peer_id: str, **answers: Any) -> AgentConfig:
    """A config for a newborn agent, stamped with the current time."""
    return AgentConfig(peer_id=peer_id, created=int(time.time()), **answers)


def save_config(path: Path, config: AgentConfig) -> None:
    """Write the config atomically (mode 0600).

    Raises:
        OSError: the file could not be written.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private_file(path, (json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8"))


def load_config(path: Path) -> AgentConfig:
    """Read and validate the config file.

    Raises:
        ConfigError: missing, unreadable, too large, not JSON, or invalid.
    """
    doc = read_small_json(
        path, MAX_CONFIG_BYTES, ConfigError, missing="no config at {path}",
        too_large="{path} is too large", not_json="{path} is not valid JSON: {exc}",
    )  # fmt: skip
    return AgentConfig.from_dict(doc)
