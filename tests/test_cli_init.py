"""``metaspace init`` (the birth), homes, and command-line errors. Uses METASPACE_KDF=fast (tests only)."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from metaspace import keystore
from metaspace.cli.birth import BirthError, gather_answers, parse_spend_limit
from metaspace.cli.main import main
from metaspace.config import load_config
from metaspace.home import resolve_home

SAFE = [
    "--autonomy",
    "always_ask",
    "--spend",
    "conservative",
    "--share",
    "nothing",
    "--location",
    "city",
    "--marketplace",
    "browse",
]


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("METASPACE_KDF", "fast")
    monkeypatch.setenv("METASPACE_PASSPHRASE", "test passphrase")
    monkeypatch.delenv("METASPACE_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_yes_takes_safe_defaults(tmp_path: Path, capsys):
    home = tmp_path / "a"
    code, out, err = run(capsys, "--home", str(home), "init", "--yes")
    assert code == 0, err
    conf = load_config(home / "config.json")
    ident = keystore.load_identity(home / "identity.key", "test passphrase")
    assert ident.peer_id == conf.peer_id
    assert f"agent id: {ident.peer_id}" in out
    assert (conf.autonomy, conf.spend, conf.share, conf.location, conf.marketplace) == (
        "always_ask",
        "conservative",
        "nothing",
        "city",
        "browse",
    )
    assert conf.spend_limit_minor == 1000 and conf.currency == "USD" and conf.max_h3_res == 5
    assert conf.language == "en" and conf.categories == ["*"]
    for name in ("identity.key", "config.json"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600


def test_init_flags_set_config(tmp_path: Path, capsys):
    home = tmp_path / "b"
    code, out, err = run(
        capsys,
        "init",
        "--home",
        str(home),
        "--autonomy",
        "act_notify",
        "--spend-limit",
        "100USD",
        "--share",
        "basic",
        "--location",
        "neighborhood",
        "--marketplace",
        "full",
        "--language",
        "es",
        "--style",
        "casual",
        "--categories",
        "vehicles/tires,electronics/*",
        "--lat",
        "19.4326",
        "--lon",
        "-99.1332",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    conf = load_config(home / "config.json")
    assert doc["peer_id"] == conf.peer_id and doc["home"] == str(home)
    assert conf.autonomy == "act_notify" and conf.share == "basic" and conf.marketplace == "full"
    assert conf.spend_limit_minor == 10000 and conf.spend == "moderate"
    assert conf.location == "neighborhood" and conf.max_h3_res == 7
    assert conf.home_cell is not None and conf.home_cell.startswith("87")  # an H3 res-7 cell
    assert conf.language == "es" and conf.comm_style == "casual"
    assert conf.allows_category("vehicles/tires") and conf.allows_category("electronics/phones")
    assert not conf.allows_category("vehicles/cars")


@pytest.mark.parametrize(
    ("location", "res"), [("never", None), ("city", 5), ("neighborhood", 7), ("precise", 7)]
)
def test_location_precision_maps_to_h3_resolution(tmp_path: Path, capsys, location: str, res: int | None):
    flags = [f if f != "city" else location for f in SAFE]
    code, _, err = run(capsys, "--home", str(tmp_path / location), "init", *flags)
    assert code == 0, err
    assert load_config(tmp_path / location / "config.json").max_h3_res == res


@pytest.mark.parametrize(
    ("spend", "limit"), [("conservative", 1000), ("moderate", 10000), ("flexible", 50000), ("trust", None)]
)
def test_spending_comfort_maps_to_limit(tmp_path: Path, capsys, spend: str, limit: int | None):
    flags = [f if f != "conservative" else spend for f in SAFE]
    assert run(capsys, "--home", str(tmp_path / spend), "init", *flags)[0] == 0
    assert load_config(tmp_path / spend / "config.json").spend_limit_minor == limit


def test_rerun_refuses_then_force_keeps_a_backup(tmp_path: Path, capsys):
    home = tmp_path / "a"
    assert run(capsys, "--home", str(home), "init", "--yes")[0] == 0
    first = keystore.stored_peer_id(home / "identity.key")
    assert first is not None
    before = (home / "identity.key").read_bytes()
    code, _, err = run(capsys, "--home", str(home), "init", "--yes")
    assert code == 1
    assert "refusing to overwrite" in err and first in err and "--force" in err
    assert (home / "identity.key").read_bytes() == before
    code, _out, err = run(capsys, "--home", str(home), "init", "--yes", "--force")
    assert code == 0, err
    second = keystore.stored_peer_id(home / "identity.key")
    assert second != first
    backups = sorted(home.glob("identity.key.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert keystore.load_identity(backups[0], "test passphrase").peer_id == first


def test_reconfigure_keeps_identity(tmp_path: Path, capsys):
    home = tmp_path / "a"
    assert run(capsys, "--home", str(home), "init", "--yes")[0] == 0
    key = (home / "identity.key").read_bytes()
    code, _out, err = run(
        capsys, "--home", str(home), "init", "--reconfigure", "--yes", "--marketplace", "full"
    )
    assert code == 0, err
    assert (home / "identity.key").read_bytes() == key
    assert load_config(home / "config.json").marketplace == "full"
    assert list(home.glob("config.json.bak-*"))
    assert run(capsys, "--home", str(tmp_path / "empty"), "init", "--reconfigure", "--yes")[0] == 2


def test_non_interactive_without_answers_names_the_missing_flags(tmp_path: Path, capsys):
    code, _out, err = run(capsys, "--home", str(tmp_path / "a"), "init", "--autonomy", "full")
    assert code == 2
    assert "--spend" in err and "--marketplace" in err and "--autonomy" not in err and "--yes" in err
    assert "Traceback" not in err
    assert not (tmp_path / "a" / "identity.key").exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["init", "--autonomy", "sometimes"], "invalid choice"),
        (["init", "--yes", "--spend-limit", "100XYZ"], "unknown currency"),
        (["init", "--yes", "--spend-limit", "lots"], "expected an amount"),
        (["init", "--yes", "--language", "English!"], "--language"),
        (["init", "--yes", "--categories", "vehicles/tyres"], "vehicles/tires"),
        (["init", "--yes", "--lat", "10"], "both --lat and --lon"),
        (["init", "--yes", "--lat", "100", "--lon", "0"], "out of range"),
        (["init", "--yes", "--location", "never", "--lat", "1", "--lon", "1"], "never"),
        (["init", "--yes", "--lat", "abc", "--lon", "1"], "invalid float"),
        ([], "COMMAND"),
        (["fly"], "invalid choice"),
        (["publish", "--category", "vehicles/tires"], "--action"),
        (["withdraw"], "ID"),
    ],
)
def test_argument_errors_are_one_line_exit_2(tmp_path: Path, capsys, argv: list[str], needle: str):
    code, _out, err = run(capsys, "--home", str(tmp_path / "x"), *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "x" / "identity.key").exists()


def test_no_passphrase_without_terminal(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("METASPACE_PASSPHRASE")
    code, _out, err = run(capsys, "--home", str(tmp_path / "a"), "init", "--yes")
    assert code == 1 and "METASPACE_PASSPHRASE" in err and "Traceback" not in err
    assert not (tmp_path / "a" / "identity.key").exists()


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path, capsys, monkeypatch):
    home = str(tmp_path / "a")
    assert run(capsys, "--home", home, "init", "--yes")[0] == 0
    assert run(capsys, "--home", home, "identity", "--verify")[0] == 0
    monkeypatch.setenv("METASPACE_PASSPHRASE", "not it")
    code, _, err = run(capsys, "--home", home, "identity", "--verify")
    assert code == 1
    assert err.strip() == "error: wrong passphrase (the keystore did not open)"
    code, _out, err = run(capsys, "--home", str(tmp_path / "none"), "identity")
    assert code == 1 and "no identity" in err


def test_two_homes_side_by_side(tmp_path: Path, capsys):
    a, b = tmp_path / "alice", tmp_path / "bob"
    assert run(capsys, "--home", str(a), "init", "--yes", "--marketplace", "sell_approval")[0] == 0
    assert run(capsys, "--home", str(b), "init", "--yes", "--marketplace", "buy_approval")[0] == 0
    ca, cb = load_config(a / "config.json"), load_config(b / "config.json")
    assert ca.peer_id != cb.peer_id
    assert (ca.marketplace, cb.marketplace) == ("sell_approval", "buy_approval")
    assert run(capsys, "--home", str(a), "identity")[1].strip() == ca.peer_id
    assert run(capsys, "identity", "--home", str(b))[1].strip() == cb.peer_id  # --home after the command too
    assert not (tmp_path / "xdg-config").exists()  # nothing leaked to the default home


def test_metaspace_home_env_and_xdg_layout(tmp_path: Path, capsys, monkeypatch):
    assert run(capsys, "init", "--yes")[0] == 0  # no home: XDG directories
    assert (tmp_path / "xdg-config" / "metaspace" / "identity.key").exists()
    assert (tmp_path / "xdg-config" / "metaspace" / "config.json").exists()
    assert (tmp_path / "xdg-data" / "metaspace" / "data").is_dir()
    paths = resolve_home(None)
    assert paths.run_dir == tmp_path / "xdg-data" / "metaspace" / "run" and not paths.explicit
    monkeypatch.setenv("METASPACE_HOME", str(tmp_path / "envhome"))
    assert run(capsys, "init", "--yes")[0] == 0
    assert (tmp_path / "envhome" / "identity.key").exists()
    assert resolve_home(tmp_path / "flag").root == tmp_path / "flag"  # the flag wins over the env


def test_interactive_questionnaire(tmp_path: Path, capsys, monkeypatch):
    # style, autonomy, spend, share, location, marketplace, then the owner name of the handle;
    # "" takes the default, a bad answer is re-asked
    monkeypatch.setattr("sys.stdin", FakeTty("\n2\nflexible\n9\n4\n3\n4\nAna\n"))
    code, out, err = run(capsys, "--home", str(tmp_path / "a"), "init")
    assert code == 0, err
    assert "How much should I do without asking?" in out and "Please answer" in out
    conf = load_config(tmp_path / "a" / "config.json")
    assert (conf.comm_style, conf.autonomy, conf.spend, conf.share, conf.location, conf.marketplace) == (
        "brief",
        "ask_big",
        "flexible",
        "whatever",
        "neighborhood",
        "full",
    )
    assert (conf.owner, conf.agent_name) == ("ana", "agent")


def test_gather_answers_unit():
    a = gather_answers({"spend_limit": "250 eur"}, use_defaults=True, interactive=False)
    assert a["currency"] == "EUR" and a["spend_limit_minor"] == 25000 and a["spend"] == "flexible"
    assert parse_spend_limit("none") == (None, "USD")
    assert parse_spend_limit("12.5") == (1250, "USD")
    with pytest.raises(BirthError):
        gather_answers({"autonomy": "maybe"}, use_defaults=True, interactive=False)


def test_optional_command_modules(monkeypatch, tmp_path: Path, capsys):
    import sys
    import types

    from metaspace.cli import main as cli

    monkeypatch.setattr(cli, "OPTIONAL_COMMAND_MODULES", ("no_such_package.cli", "fakepkg_ms.cli"))
    fake = types.ModuleType("fakepkg_ms.cli")

    def register(sub):
        p = sub.add_parser("hello")
        p.set_defaults(func=lambda args: print(f"hello from {args.home}") or 0)

    fake.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fakepkg_ms", types.ModuleType("fakepkg_ms"))
    monkeypatch.setitem(sys.modules, "fakepkg_ms.cli", fake)
    code, out, _ = run(capsys, "hello", "--home", str(tmp_path))  # --home added to registered commands too
    assert code == 0 and out.strip() == f"hello from {tmp_path}"
    # a module that exists but fails on one of ITS imports is a bug: not skipped silently
    pkg = tmp_path / "broken_ms"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("import a_dependency_that_is_missing_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "OPTIONAL_COMMAND_MODULES", ("broken_ms.cli",))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing_xyz"):
        cli.build_parser()


def test_a_built_in_command_does_not_load_the_optional_packages() -> None:
    """``metaspace deals`` or ``rate`` parse without importing ``sim`` and ``matching`` (their option lists
    took 0.9 s of every such command); ``--help``, no command or an optional command still register all."""
    import subprocess
    import sys

    probe = (
        "import sys; from metaspace.cli.main import build_parser; p = build_parser(sys.argv[1:]); "
        "cmds = p._subparsers._group_actions[0].choices; "
        "print(sorted(m for m in ('sim.cli', 'matching.cli', 'matching.index') if m in sys.modules), "
        "'sim' in cmds, 'understand' in cmds)"
    )

    def loaded(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert loaded("deals") == "[] False False"
    assert loaded("--home", "sim", "rate", "ab", "5") == "[] False False"  # "sim" here is --home's value
    everything = "['matching.cli', 'matching.index', 'sim.cli'] True True"
    assert loaded("sim", "run") == everything
    assert loaded("--help") == everything
    from metaspace.cli.main import _command_word

    # no command, or an unknown one (argparse then lists every command): everything is registered too
    assert _command_word([]) is None and _command_word(["--home", "x", "--help"]) is None
    assert _command_word(["no-such-command"]) == "no-such-command"


def test_reconfigure_keeps_birth_date_and_coarsens_home_cell(tmp_path: Path, capsys):
    home = tmp_path / "a"
    flags = ["--yes", "--location", "precise", "--lat", "19.43", "--lon", "-99.13"]
    assert run(capsys, "--home", str(home), "init", *flags)[0] == 0
    before = load_config(home / "config.json")
    assert before.home_cell is not None and before.home_cell.startswith("87")
    assert run(capsys, "--home", str(home), "init", "--reconfigure", "--yes", "--location", "city")[0] == 0
    after = load_config(home / "config.json")
    assert after.created == before.created and after.max_h3_res == 5
    assert after.home_cell is not None and after.home_cell.startswith("85")
    assert run(capsys, "--home", str(home), "init", "--reconfigure", "--yes", "--location", "never")[0] == 0
    assert load_config(home / "config.json").home_cell is None
