"""The birth questionnaire (spec section 1.2): how an agent learns its human's limits.

Each question has a command-line flag, a set of answers, and a safe default. An answer comes from its
flag if given; else from the default when ``--yes`` is given; else from an interactive prompt when
stdin is a terminal; else init stops and names the missing flags. The spec's social-integration
question (``platform_connect``) is not asked: no platform is connected ("None for now").

Safe defaults (``--yes``): always ask first, conservative spending (10 USD), share nothing, city-level
location, browse only, brief communication, language from ``$LANG`` (else ``en``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metaspace import config as cfg


class BirthError(Exception):
    """A bad or missing answer (a message for humans)."""


@dataclass(frozen=True)
class Question:
    """One birth question.

    Attributes:
        id: the spec's question id.
        key: the config field the answer sets.
        question: what the human is asked.
        options: ``(value, label)`` pairs, in the spec's order.
        default: the safe default value.
        flag: the ``metaspace init`` flag that answers it.
        required: without a terminal and without ``--yes``, init stops if this one is unanswered
            (the others silently take their default).
    """

    id: str
    key: str
    question: str
    options: tuple[tuple[str, str], ...]
    default: str
    flag: str
    required: bool = True

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.options)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "comm_style",
        "comm_style",
        "How should I communicate with you?",
        (
            ("casual", "Casual & friendly"),
            ("professional", "Professional"),
            ("brief", "Brief & efficient"),
            ("detailed", "Detailed & thorough"),
        ),
        "brief",
        "--style",
        required=False,
    ),
    Question(
        "autonomy_level",
        "autonomy",
        "How much should I do without asking?",
        (
            ("always_ask", "Always ask first"),
            ("ask_big", "Ask for big decisions"),
            ("act_notify", "Act freely, notify me"),
            ("full", "Full autonomy"),
        ),
        "always_ask",
        "--autonomy",
    ),
    Question(
        "risk_tolerance",
        "spend",
        "For financial transactions, what's your comfort level?",
        (
            ("conservative", "Very conservative (<$10)"),
            ("moderate", "Moderate (<$100)"),
            ("flexible", "Flexible (<$500)"),
            ("trust", "Trust my judgment"),
        ),
        "conservative",
        "--spend",
    ),
    Question(
        "data_sharing",
        "share",
        "What can other AIs know about you?",
        (
            ("nothing", "Nothing (anonymous)"),
            ("basic", "Basic interests"),
            ("detailed", "Detailed profile"),
            ("whatever", "Whatever helps"),
        ),
        "nothing",
        "--share",
    ),
    Question(
        "location_access",
        "location",
        "Can I use your location for local deals?",
        (
            ("never", "Never"),
            ("city", "City level only"),
            ("neighborhood", "Neighborhood"),
            ("precise", "Precise when needed (still never finer than ~5 km²)"),
        ),
        "city",
        "--location",
    ),
    Question(
        "marketplace_access",
        "marketplace",
        "Can I buy/sell on marketplaces for you?",
        (
            ("browse", "Browse only"),
            ("buy_approval", "Buy with approval"),
            ("sell_approval", "Sell with approval"),
            ("full", "Full access"),
        ),
        "browse",
        "--marketplace",
    ),
)

_SPEND_LIMIT = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,4})?)\s*([A-Za-z]{3})?\s*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def default_language(env: dict[str, str] | None = None) -> str:
    """The language of ``$LC_ALL``/``$LANG`` (``es_MX.UTF-8`` -> ``es``), else ``en``."""
    environ = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        code = value.split(".", 1)[0].split("_", 1)[0].lower()
        if code and code not in ("c", "posix") and _LANG.match(code):
            return code
    return "en"


def parse_spend_limit(text: str, default_currency: str = "USD") -> tuple[int | None, str]:
    """Parse ``100USD``, ``100 usd``, ``12.50 EUR``, ``100`` (default currency) or ``none``.

    Returns:
        ``(amount in minor units or None for no limit, currency)``.

    Raises:
        BirthError: not an amount, or an unknown currency.
    """
    from wire.currency import is_currency, to_minor

    if text.strip().lower() in ("none", "unlimited", "no-limit"):
        return None, default_currency
    m = _SPEND_LIMIT.match(text)
    if not m:
        raise BirthError(f"--spend-limit: expected an amount and currency like 100USD (got {text!r})")
    currency = (m.group(2) or default_currency).upper()
    if not is_currency(currency):
        raise BirthError(f"--spend-limit: unknown currency {currency!r} (an ISO-4217 code such as USD, EUR)")
    return to_minor(float(m.group(1)), currency), currency


def _ask_choice(q: Question, ask: Callable[[str], str], say: Callable[[str], None]) -> str:
    say("")
    say(q.question)
    for i, (value, label) in enumerate(q.options, 1):
        mark = " (default)" if value == q.default else ""
        say(f"  {i}. {label} [{value}]{mark}")
    for _ in range(5):
        reply = ask(f"Choose 1-{len(q.options)} [{q.values.index(q.default) + 1}]: ").strip().lower()
        if not reply:
            return q.default
        if reply.isdigit() and 1 <= int(reply) <= len(q.options):
            return q.values[int(reply) - 1]
        if reply in q.values:
            return reply
        say(f"Please answer with a number from 1 to {len(q.options)}.")
    raise BirthError(f"no valid answer to {q.question!r}")


def gather_answers(
    flags: dict[str, Any],
    *,
    use_defaults: bool,
    interactive: bool,
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Answer the birth questionnaire and turn the answers into config fields.

    Args:
        flags: values from the command line keyed by config field (``autonomy``, ``spend``, ``share``,
            ``location``, ``marketplace``, ``comm_style``; plus ``spend_limit`` text, ``currency``,
            ``language``, ``categories`` list); None for "not given".
        use_defaults: ``--yes``: take the safe default for every question not given by a flag.
        interactive: ask the remaining questions with ``ask``.
        ask: reads one answer (``input``).
        say: shows one line (``print``).

    Returns:
        Keyword arguments for :func:`metaspace.config.new_config` (without ``peer_id``).

    Raises:
        BirthError: an answer is missing (non-interactive, no ``--yes``) or invalid.
    """
    from wire.currency import exponent

    answers: dict[str, Any] = {}
    missing: list[str] = []
    for q in QUESTIONS:
        given = flags.get(q.key)
        if given is not None:
            if given not in q.values:
                raise BirthError(f"{q.flag} must be one of {'|'.join(q.values)} (got {given!r})")
            answers[q.key] = given
        elif q.key == "spend" and flags.get("spend_limit") is not None:
            answers[q.key] = None  # decided below from the explicit limit
        elif use_defaults or (not interactive and not q.required):
            answers[q.key] = q.default
        elif interactive:
            answers[q.key] = _ask_choice(q, ask, say)
        else:
            missing.append(q.flag)
    if missing:
        raise BirthError(
            f"missing answers: {', '.join(missing)} (give them as flags, run in a terminal, "
            "or use --yes for the safe defaults)"
        )
    currency = str(flags.get("currency") or "USD").upper()
    limit_text = flags.get("spend_limit")
    if limit_text is not None:
        limit, currency = parse_spend_limit(str(limit_text), currency)
        if answers["spend"] is None:
            answers["spend"] = _comfort_for(limit, currency)
    else:
        from wire.currency import is_currency

        if not is_currency(currency):
            raise BirthError(f"--currency: unknown currency {currency!r}")
        limit = cfg.spend_limit_for(answers["spend"], currency, exponent(currency))
    answers["spend_limit_minor"] = limit
    answers["currency"] = currency
    answers["max_h3_res"] = cfg.LOCATION_MAX_RES[answers["location"]]
    language = str(flags.get("language") or default_language())
    if not _LANG.match(language):
        raise BirthError(f"--language must be a language code such as en, es, pt-BR (got {language!r})")
    answers["language"] = language
    answers["categories"] = _categories(flags.get("categories"))
    answers["platforms"] = []
    owner = flags.get("owner")
    if owner is None and interactive and not use_defaults:
        say("")
        owner = (
            ask(
                "A name for your agent's handle @NAME/agent (optional, not verified; other agents see "
                "it only if you share basic interests or more) []: "
            )
            .strip()
            .lower()
            or None
        )
    answers["owner"] = _handle_part(owner, "--owner")
    answers["agent_name"] = _handle_part(flags.get("agent_name"), "--agent-name") or cfg.DEFAULT_AGENT_NAME
    answers["auto_block_s"] = _auto_block(flags.get("auto_block"))
    answers["payment_methods"] = _payments(flags.get("payment"))
    return answers


def _payments(value: object) -> list[str]:
    """``--payment cash,venmo`` -> ``["cash", "venmo"]`` (default: cash only)."""
    if value is None:
        return list(cfg.DEFAULT_PAYMENT_METHODS)
    methods = [m.strip().lower() for m in str(value).split(",") if m.strip()]
    if (
        not 1 <= len(methods) <= cfg.MAX_PAYMENT_METHODS
        or len(set(methods)) != len(methods)
        or not all(cfg.PAYMENT_METHOD.fullmatch(m) for m in methods)
    ):
        raise BirthError(
            f"--payment: 1-4 different payment methods such as cash,venmo (a-z, 0-9, _ . -; got {value!r})"
        )
    return methods


def _handle_part(value: object, flag: str) -> str | None:
    """An owner or agent name for the handle ``@owner/agent`` (lowercased), or None."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower().lstrip("@")
    if not cfg.HANDLE_PART.fullmatch(text):
        raise BirthError(
            f"{flag}: 1-31 characters of a-z, 0-9, _ . - starting with a letter or digit (got {value!r})"
        )
    return text


def _auto_block(value: object) -> int:
    """``--auto-block 1h`` / ``30m`` / ``3600`` / ``off`` -> seconds (default DEFAULT_AUTO_BLOCK_S)."""
    if value is None:
        return cfg.DEFAULT_AUTO_BLOCK_S
    text = str(value).strip().lower()
    if text in ("off", "0", "no", "never"):
        return 0
    m = re.fullmatch(r"(\d{1,9})\s*([smhd]?)", text)
    if not m:
        raise BirthError(f"--auto-block: a duration such as 1h, 30m, 2d or off (got {value!r})")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds > cfg.MAX_AUTO_BLOCK_S:
        raise BirthError("--auto-block: at most 7d")
    return seconds


def _comfort_for(limit_minor: int | None, currency: str) -> str:
    """The spending-comfort answer that an explicit limit corresponds to (the smallest that covers it)."""
    from wire.currency import exponent

    if limit_minor is None:
        return "trust"
    major = limit_minor / 10 ** exponent(currency)
    for name in cfg.SPEND:
        cap = cfg.SPEND_LIMITS_USD[name]
        if cap is None or major <= cap:
            return name
    return "trust"


def _categories(value: object) -> list[str]:
    from metaspace.api.contract import BadRequest, check_category

    if value is None:
        return [cfg.ALL_CATEGORIES]
    items = [c.strip() for c in value if c.strip()] if isinstance(value, list) else []
    if not items:
        raise BirthError("--categories: give at least one category (or * for all)")
    out: list[str] = []
    for item in items:
        if item == cfg.ALL_CATEGORIES:
            out.append(item)
            continue
        if item.endswith("/*"):
            from wire.taxonomy import category_codes

            group = item[:-2]
            if not any(c.startswith(group + "/") for c in category_codes()):
                raise BirthError(f"--categories: unknown category group {group!r}")
            out.append(item)
            continue
        try:
            out.append(check_category(item))
        except BadRequest as exc:
            raise BirthError(f"--categories: {exc.message}") from exc
    return out


def home_cell(lat: float | None, lon: float | None, max_res: int | None) -> str | None:
    """The agent's default location: the H3 cell of ``lat, lon`` at the allowed resolution.

    Raises:
        BirthError: coordinates given although location is ``never``, only one given, or out of range.
    """
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise BirthError("give both --lat and --lon")
    if max_res is None:
        raise BirthError("--lat/--lon given but location is 'never'; no location is ever stored or shared")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BirthError(f"coordinates out of range: {lat}, {lon}")
    from wire.geo import cell_at

    return cell_at(lat, lon, max_res)


def run_init(args: Any) -> int:
    """``metaspace init``: create the identity, ask the birth questions, write the config.

    Args:
        args: the parsed command line (see ``metaspace.cli.main``); ``args.home_paths`` is set.

    Returns:
        0 on success, 1 if an identity exists and neither ``--force`` nor ``--reconfigure`` was given,
        2 for bad or missing answers.

    Raises:
        metaspace.keystore.KeystoreError: no passphrase, or passphrases differ.
        OSError: files could not be written.
    """
    import sys

    from metaspace import keystore
    from metaspace.cli.output import render_mapping, to_json
    from metaspace.home import home_from_args, write_private_file

    home = home_from_args(args)
    exists = home.keystore_file.exists()
    if exists and not (args.force or args.reconfigure):
        who = keystore.stored_peer_id(home.keystore_file) or "unknown id"
        print(
            f"error: an agent already lives in {home.root} (agent {who}); "
            "refusing to overwrite its identity.\n"
            "  --reconfigure  answer the birth questions again and keep the identity\n"
            "  --force        create a NEW identity (the old key file is kept as a backup)",
            file=sys.stderr,
        )
        return 1
    if args.reconfigure and not exists:
        print(f"error: no agent in {home.root} to reconfigure; run `metaspace init` first", file=sys.stderr)
        return 2
    interactive = sys.stdin.isatty() and not args.yes
    flags = {
        "autonomy": args.autonomy,
        "spend": args.spend,
        "spend_limit": args.spend_limit,
        "currency": args.currency,
        "share": args.share,
        "location": args.location,
        "marketplace": args.marketplace,
        "comm_style": args.comm_style,
        "language": args.language,
        "categories": args.categories.split(",") if args.categories is not None else None,
        "owner": getattr(args, "owner", None),
        "agent_name": getattr(args, "agent_name", None),
        "auto_block": getattr(args, "auto_block", None),
        "payment": getattr(args, "payment", None),
    }
    try:
        if interactive:
            print("Hello. I am your new Meta Space agent. A few questions so I know your limits.")
        answers = gather_answers(flags, use_defaults=args.yes, interactive=interactive)
        cell = home_cell(args.lat, args.lon, answers["max_h3_res"])
    except BirthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    home.ensure()
    backups: list[str] = []
    if args.reconfigure:
        peer_id = keystore.stored_peer_id(home.keystore_file)
        if peer_id is None:
            raise keystore.KeystoreError(f"cannot read the agent id from {home.keystore_file}")
    else:
        passphrase = keystore.ask_passphrase(confirm=True, purpose="your agent's identity")
        doc = keystore.encrypt_seed(keystore.new_seed(), passphrase)
        backup = keystore.save_keystore(home.keystore_file, doc, force=args.force)
        if backup is not None:
            backups.append(str(backup))
        peer_id = str(doc["peer_id"])
    if home.config_file.exists():
        old = keystore.backup_path(home.config_file)
        write_private_file(old, home.config_file.read_bytes())
        backups.append(str(old))
    conf = cfg.new_config(peer_id, home_cell=cell, **answers)
    if args.reconfigure:
        with contextlib.suppress(cfg.ConfigError):  # an unreadable old config is just replaced (backed up)
            conf = _keep_from(cfg.load_config(home.config_file), conf, flags)
    cfg.save_config(home.config_file, conf)
    if args.json:
        print(
            to_json(
                {"peer_id": peer_id, "home": str(home.root), "config": conf.to_dict(), "backups": backups}
            )
        )
        return 0
    print("Your agent is ready." if not args.reconfigure else "Your agent's limits are updated.")
    print(f"agent id: {peer_id}")
    print(f"home:     {home.root}")
    for b in backups:
        print(f"backup:   {b}")
    print(render_mapping(describe(conf), indent=2))
    print(f"Start it with: metaspace {home.home_flag()}peer")
    return 0


def describe(conf: cfg.AgentConfig) -> dict[str, Any]:
    """The config as a human reads it (spend limit as money, location with its H3 resolution)."""
    limit: object = "none"
    if conf.spend_limit_minor is not None:
        limit = {"amount_minor": conf.spend_limit_minor, "currency": conf.currency, "per_unit": False}
    return {
        "autonomy": conf.autonomy,
        "spend_limit": limit,
        "share": conf.share,
        "location": conf.location
        + ("" if conf.max_h3_res is None else f" (H3 res {conf.max_h3_res} at most)"),
        "home_cell": conf.home_cell,
        "marketplace": conf.marketplace,
        "categories": conf.categories,
        "language": conf.language,
        "style": conf.comm_style,
        "handle": f"@{conf.owner}/{conf.agent_name}" if conf.owner else "none",
        "auto_block": f"{conf.auto_block_s} s" if conf.auto_block_s else "off",
        "payment": ", ".join(conf.payment_methods),
    }


def _keep_from(old: cfg.AgentConfig, new: cfg.AgentConfig, flags: dict[str, Any]) -> cfg.AgentConfig:
    """On ``--reconfigure``: keep the birth date, the home cell (coarsened) if none given, and the handle
    and auto-block time unless their flags were given."""
    from wire.geo import coarsen

    keep: dict[str, Any] = {"created": old.created}
    for key, flag in (("owner", "owner"), ("agent_name", "agent_name"), ("auto_block_s", "auto_block"),
                      ("payment_methods", "payment")):  # fmt: skip
        if flags.get(flag) is None:
            keep[key] = getattr(old, key)
    if new.home_cell is None and old.home_cell is not None and new.max_h3_res is not None:
        keep["home_cell"] = coarsen(old.home_cell, new.max_h3_res)
    return dataclasses.replace(new, **keep)
