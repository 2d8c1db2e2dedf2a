"""Parameter sweeps: a grid of configurations x repeats, each one a Ray task (or run inline), one table out.

Theory of operation
-------------------
``parse_grid(["k=10,20", "alpha=3,5", "churn=none,ipfs"])`` gives the axes; ``expand`` makes their
cartesian product, each configuration repeated ``repeats`` times with seeds ``seed, seed+1, ...``
(repeat r of every configuration uses the same seed, so configurations are compared on the same draws).
A grid key is a ``SimConfig`` field (``k``, ``churn``, ``malicious`` ...), a ``DhtConfig`` field
(``get_quorum``, ``rpc_timeout`` ...; also written ``dht.NAME``, which is how a field this core does not
know yet is passed) or an attack option (``attack.per_key``). Values are converted to the field's type.

``run_task`` runs one (configuration, seed) in the calling process and returns a flat row: the grid
columns, ``repeat`` and ``seed``, every scalar figure of the run, and ``error`` — a configuration that
raises (a bad value, a core without a setting) gets its error in its row and the others go on.

``run_sweep`` runs the tasks inline or as Ray tasks (``ray.remote(num_cpus=1)``): on the cluster at
``ray_address`` if given, else on a local Ray started for the sweep (``workers`` CPUs) and stopped after
it; a Ray already initialised in this process is used as it is. A task whose worker dies is an error
row too. Rows come back in task order, whatever order they finished in, so the same seed gives the same
row inline and on Ray (machine figures aside: ``ROW_MACHINE_KEYS``).
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dht.config import DhtConfig
from sim.config import SimConfig
from sim.metrics import MACHINE_KEYS, mean

#: Row keys that depend on the machine or the process, not on the seed.
ROW_MACHINE_KEYS = frozenset(MACHINE_KEYS | {"worker_pid", "task_wall_s", "join_wall_s"})
#: Object store of a local Ray started for a sweep (results are small rows).
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20

_SIM_FIELDS = {f.name: f for f in dataclasses.fields(SimConfig)}
_DHT_FIELDS = {f.name: f for f in dataclasses.fields(DhtConfig)}
_NOT_A_COLUMN = {"join_note", "lookup_outcomes", "series", "churn_model"}


@dataclass(frozen=True)
class Task:
    """One run of a sweep: the grid values of its configuration, its repeat number and seed."""

    index: int
    params: dict[str, Any]
    repeat: int
    seed: int
    base: dict[str, Any] = field(default_factory=dict)


def convert_value(text: str, like: Any) -> Any:
    """``text`` as the type of ``like`` (bool, int, float, str), or guessed when ``like`` is None."""
    if isinstance(like, bool) or (like is None and text.lower() in ("true", "false")):
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {text!r}")
    if isinstance(like, int) and not isinstance(like, bool):
        return int(text)
    if isinstance(like, float):
        return float(text)
    if like is None:
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    return None


def dht_value(name: str, text: str) -> Any:
    """``text`` as a value of ``DhtConfig.name`` (its type when this core has the field, guessed if not)."""
    f = _DHT_FIELDS.get(name)
    return convert_value(text, _default_of(f) if f is not None else None)


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Axes of a grid from ``NAME=v1,v2,...`` items (see the module docstring).

    Raises:
        ValueError: a malformed item, an empty or repeated axis, an unknown name, a bad value.
    """
    axes: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ValueError(f"bad grid item {item!r}: use NAME=v1,v2 (e.g. k=10,20)")
        if name in axes:
            raise ValueError(f"grid axis {name!r} given twice")
        texts = [v.strip() for v in values.split(",") if v.strip()]
        like: Any
        if name.startswith("dht."):
            f = _DHT_FIELDS.get(name[4:])
            like = _default_of(f) if f is not None else None
        elif name.startswith("attack."):
            like = None
        elif name in _SIM_FIELDS:
            if name in ("dht", "region", "attack_options"):
                raise ValueError(f"{name!r} cannot be a grid axis (use dht.NAME or attack.NAME)")
            like = _default_of(_SIM_FIELDS[name])
        elif name in _DHT_FIELDS:
            like = _default_of(_DHT_FIELDS[name])
        else:
            raise ValueError(
                f"unknown grid parameter {name!r}: a SimConfig field (k, alpha, churn, loss, malicious ...), "
                "a DhtConfig field, dht.NAME or attack.NAME"
            )
        try:
            axes[name] = [convert_value(t, like) for t in texts]
        except ValueError as exc:
            raise ValueError(f"grid axis {name!r}: {exc}") from None
    return axes


def expand(axes: dict[str, list[Any]], repeats: int, seed: int, base: dict[str, Any]) -> list[Task]:
    """Every (configuration, repeat) of the grid, configurations in row-major order.

    Raises:
        ValueError: repeats < 1.
    """
    if repeats < 1:
        raise ValueError("--repeats must be >= 1")
    names = list(axes)
    tasks: list[Task] = []
    for combo in itertools.product(*(axes[n] for n in names)):
        params = dict(zip(names, combo, strict=True))
        for r in range(repeats):
            tasks.append(Task(len(tasks), params, r, seed + r, dict(base)))
    return tasks


def config_for(task: Task) -> SimConfig:
    """The ``SimConfig`` of a task: the base values, then the grid values, then the seed."""
    values = dict(task.base)
    dht = dict(values.get("dht") or {})
    options = dict(values.get("attack_options") or {})
    for name, value in task.params.items():
        if value is None:  # "default": leave the setting alone
            continue
        if name.startswith("dht."):
            dht[name[4:]] = value
        elif name.startswith("attack."):
            options[name[7:]] = value
        elif name in _SIM_FIELDS:
            values[name] = value
        else:
            dht[name] = value
    values["dht"] = dht
    values["attack_options"] = options
    values["seed"] = task.seed
    return SimConfig(**values)


def flat_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """The scalar figures of a run (dicts flattened one level as ``name.key``; lists left out)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if key in _NOT_A_COLUMN or isinstance(value, list):
            continue
        if isinstance(value, dict):
            for sub, v in value.items():
                if not isinstance(v, dict | list):
                    out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out


def run_task(task: Task) -> dict[str, Any]:
    """Run one task here and return its row (never raises for a bad configuration: see ``error``)."""
    from sim.runner import run_simulation

    t0 = time.perf_counter()
    row: dict[str, Any] = {**task.params, "repeat": task.repeat, "seed": task.seed}
    try:
        figures = run_simulation(config_for(task)).to_dict()
    except Exception as exc:  # a failing configuration is a row with its error, never a failed sweep
        row["error"] = f"{type(exc).__name__}: {exc}"
    else:
        for key, value in flat_figures(figures).items():
            row.setdefault(key, value)
        row["error"] = ""
    row["worker_pid"] = os.getpid()
    row["task_wall_s"] = round(time.perf_counter() - t0, 3)
    return row


Progress = Callable[[str, int, int], None]


def run_sweep(
    tasks: Sequence[Task],
    use_ray: bool = True,
    ray_address: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run every task and return the rows in task order.

    Args:
        tasks: from ``expand``.
        use_ray: False runs them one after another in this process.
        ray_address: a Ray cluster (``ray://host:10001`` or ``host:6379``, or "auto"); None starts a local
            Ray for the sweep unless one is already initialised in this process.
        workers: CPUs of a local Ray (default: all).
        progress: ``progress("sweep", done, total)``.
    Raises:
        RuntimeError: Ray is not installed (install the ``sim`` extra) or cannot start.
    """
    total = len(tasks)
    if not use_ray:
        done_rows: list[dict[str, Any]] = []
        for task in tasks:
            done_rows.append(run_task(task))
            if progress is not None:
                progress("sweep", len(done_rows), total)
        return done_rows
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("sweeps on Ray need the sim extra: pip install 'metaspace-net[sim]'") from exc
    started = False
    if not ray.is_initialized():
        try:
            if ray_address:
                ray.init(address=ray_address, log_to_driver=False)
            else:
                ray.init(
                    num_cpus=workers or os.cpu_count() or 1,
                    include_dashboard=False,
                    log_to_driver=False,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                )
        except Exception as exc:  # Ray's start-up errors have many types; report the one we got
            raise RuntimeError(f"cannot start Ray ({type(exc).__name__}: {exc})") from exc
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        refs = [remote.remote(task) for task in tasks]
        where = {ref: j for j, ref in enumerate(refs)}
        rows: list[dict[str, Any] | None] = [None] * total
        pending = list(refs)
        done = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                j = where[ref]
                try:
                    rows[j] = ray.get(ref)
                except Exception as exc:  # the worker died (killed, out of memory): an error row
                    task = tasks[j]
                    rows[j] = {
                        **task.params,
                        "repeat": task.repeat,
                        "seed": task.seed,
                        "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    }
                done += 1
                if progress is not None:
                    progress("sweep", done, total)
        return [r for r in rows if r is not None]
    finally:
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------------------------- output


def columns(rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> list[str]:
    """Column order: grid axes, repeat, seed, error, then every other key in first-seen order."""
    head = [*axes, "repeat", "seed", "error"]
    rest: list[str] = []
    seen = set(head)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                rest.append(key)
    return head + rest


def write_table(rows: Sequence[dict[str, Any]], axes: Sequence[str], path: Path) -> Path:
    """Write the rows as CSV (``.csv``) or Parquet (``.parquet``, needs pyarrow). Returns the path.

    Raises:
        ValueError: another file extension.
        RuntimeError: Parquet without pyarrow.
    """
    cols = columns(rows, axes)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in cols})
        return path
    if suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise RuntimeError("Parquet output needs pyarrow: pip install 'metaspace-net[sim]'") from exc
        data = {c: [row.get(c) for row in rows] for c in cols}
        pq.write_table(pa.table({c: _column(v) for c, v in data.items()}), path)
        return path
    raise ValueError(f"unknown table format {path.suffix!r}: use .csv or .parquet")


def _column(values: list[Any]) -> Any:
    """A pyarrow array; a column mixing types (e.g. an int axis and None) is stored as strings."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values])


SUMMARY_METRICS = (
    "lookup_success",
    "record_availability",
    "availability_mean",
    "latency_ms_p50",
    "latency_ms_p90",
    "publish_latency_ms_p50",
    "msgs_per_lookup",
    "msgs_per_node_h",
)


def summarize(rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> list[dict[str, Any]]:
    """One row per configuration: its grid values, runs, errors, and the mean of each summary metric."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(a) for a in axes), []).append(row)
    out = []
    for key, members in groups.items():
        ok = [m for m in members if not m.get("error")]
        summary: dict[str, Any] = dict(zip(axes, key, strict=True))
        summary["runs"] = len(members)
        summary["errors"] = len(members) - len(ok)
        if len(ok) < len(members):
            summary["error"] = next(m["error"] for m in members if m.get("error"))
        for metric in SUMMARY_METRICS:
            values = [float(m[metric]) for m in ok if isinstance(m.get(metric), int | float)]
            avg = mean(values)
            summary[metric] = None if avg is None else round(avg, 6)
        out.append(summary)
    return out
