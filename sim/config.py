"""The parameters of one simulation run, and their checks (bad input fails before any work starts)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from dht.config import DhtConfig
from sim.churn import HOUR, SessionModel, parse_churn
from sim.workload import DEFAULT_REGION

JOIN_NOTES = {
    "protocol": "protocol join: every node bootstraps through random joined nodes with real lookups",
    "fast": "fast join: converged routing tables built from global knowledge (sim.prefill, an oracle: "
    "min(k, n_i) uniform members per bucket), then a sample of nodes bootstraps with real lookups",
}

#: Memory a simulated node costs, bytes (9.4 KiB measured at 10k nodes, with headroom for records).
BYTES_PER_NODE = 12 * 1024
#: Memory one stored replica of a record costs, bytes (the record bytes are shared, the entry is not).
BYTES_PER_REPLICA = 400
#: A session must last at least this many median RTTs (a join alone takes several round trips).
MIN_SESSION_RTTS = 10


@dataclass(frozen=True)
class SimConfig:
    """Parameters of one run (see ``metaspace sim run --help``).

    Attributes:
        nodes, publishes, lookups: population and workload sizes (with churn: publishes and lookups are
            spread over the run).
        seed: the run's seed (every RNG is derived from it).
        loss: probability that one message (request or reply) is lost.
        fail_fraction: share of nodes that die after publishing, before the lookups (runs without churn).
        rtt_ms: median round-trip time (0 = instantaneous network); jitter: log-normal sigma per message.
        k, alpha: Kademlia parameters handed to ``DhtConfig``.
        join: "protocol" or "fast"; seeds: bootstrap seeds per joining node.
        join_interval, publish_interval, lookup_interval: virtual seconds between two starts.
        publishers: nodes with a real identity that publish (0 = min(nodes, publishes)).
        fast_fill: contacts per bucket in a fast join (0 = k); fast_bootstraps: nodes that then bootstrap
            (0 = min(100, max(10, nodes // 100))).
        dead_mode: "refused" (a request to a dead node fails after one RTT) or "silent" (core timeout).
        unreachable: a dial to a contact nobody runs or to bogus addresses (a liar's): "silent" (the core's
            timeout: the attacker chose addresses that black-hole it) or "refused" (after one median RTT).
        use_action: lookups ask with the intent's action as the server-side filter.
        extra_share: share of the intents that name one ``extra_groups`` entry (an agent unsure of the
            category files it under a second, random group too): the DHT stores each such intent under two
            keys, and a lookup of it asks one of them, drawn uniformly. 0 (default) draws nothing.
        dht: extra ``DhtConfig`` fields (e.g. {"get_quorum": 3}).
        region: (lat_min, lon_min, lat_max, lon_max) of the intents.
        churn: session model (``sim.churn.parse_churn``: none, ipfs, exp[:MEDIAN], weibull:SHAPE[:MEDIAN]).
        duration_h: virtual hours of a churn run; sample_min: minutes per metrics window.
        same_id: probability that an arriving node is a departed identity coming back.
        replica_samples: live intents whose replicas are counted at the end of each window.
        malicious: share of the nodes run by the attacker; attack: its name (``sim.adversary.ATTACKS``);
            attack_options: its options (e.g. {"per_key": 40} for eclipse, {"pool": 200000} for liar).
        check_memory: refuse a run that would not fit in the memory available now.
        stagger_jobs: "on": the prefilled nodes of a fast join start their refresh / replication / republish
            at random phases within one interval (``dht.node.Node.stagger_jobs``; drawn from the run's
            seed), as in a network whose nodes have been up for different times; "off": every node's first
            refresh comes 1 h +-10% after the prefill (all at once); "auto" (default): on with churn (runs
            of hours), off without (runs of minutes, where staggering adds refreshes to the figures).
    """

    nodes: int = 1000
    publishes: int = 100
    lookups: int = 1000
    seed: int = 1
    loss: float = 0.0
    fail_fraction: float = 0.0
    rtt_ms: float = 50.0
    jitter: float = 0.2
    k: int = 20
    alpha: int = 3
    join: str = "protocol"
    seeds: int = 3
    join_interval: float = 0.02
    publish_interval: float = 0.01
    lookup_interval: float = 0.01
    publishers: int = 0
    fast_fill: int = 0
    fast_bootstraps: int = 0
    dead_mode: str = "refused"
    unreachable: str = "silent"
    use_action: bool = True
    extra_share: float = 0.0
    dht: dict[str, Any] = field(default_factory=dict)
    region: tuple[float, float, float, float] = DEFAULT_REGION
    churn: str = "none"
    duration_h: float = 6.0
    sample_min: float = 10.0
    same_id: float = 0.5
    replica_samples: int = 100
    malicious: float = 0.0
    attack: str = "none"
    attack_options: dict[str, Any] = field(default_factory=dict)
    check_memory: bool = True
    stagger_jobs: str = "auto"

    @property
    def session_model(self) -> SessionModel:
        return parse_churn(self.churn)

    def dht_config(self) -> DhtConfig:
        """The ``DhtConfig`` of every honest node.

        Raises:
            ValueError: a field this core's ``DhtConfig`` does not have, or a bad value.
        """
        fields = {f.name for f in dataclasses.fields(DhtConfig)}
        unknown = sorted(set(self.dht) - fields)
        if unknown:
            raise ValueError(f"this DHT core has no setting {', '.join(unknown)} (DhtConfig fields)")
        try:
            return DhtConfig(**{"k": self.k, "alpha": self.alpha, **self.dht})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad DHT settings: {exc}") from None

    @property
    def staggered(self) -> bool:
        """Whether the prefilled nodes' periodic jobs start at random phases (``stagger_jobs``)."""
        if self.stagger_jobs == "auto":
            return self.session_model.enabled
        return self.stagger_jobs == "on"

    def malicious_count(self) -> int:
        return round(self.malicious * self.nodes)

    def validate(self) -> None:
        """Check every parameter before any work starts.

        Raises:
            ValueError: with a one-line reason naming the option.
        """
        if self.nodes < 2:
            raise ValueError("--nodes must be at least 2")
        if self.publishes < 0 or self.lookups < 0:
            raise ValueError("--publishes and --lookups must be >= 0")
        if self.lookups and not self.publishes:
            raise ValueError("lookups need at least one publish")
        if self.k < 1:
            raise ValueError(f"--k must be >= 1 (got {self.k})")
        if self.alpha < 1:
            raise ValueError(f"--alpha must be >= 1 (got {self.alpha})")
        if self.alpha > self.k:
            raise ValueError(
                f"--alpha {self.alpha} exceeds --k {self.k}: a lookup never waits on more than k"
            )
        if self.k > 256:
            raise ValueError("--k must be <= 256")
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("--loss must be in [0, 1)")
        if not 0.0 <= self.fail_fraction < 1.0:
            raise ValueError("--fail-fraction must be in [0, 1)")
        if not 0.0 <= self.extra_share <= 1.0:
            raise ValueError("--extra-share must be in [0, 1]")
        if not (self.rtt_ms >= 0 and math.isfinite(self.rtt_ms)):
            raise ValueError("--rtt-ms must be >= 0")
        if not self.jitter >= 0:
            raise ValueError("jitter must be >= 0")
        for name in ("join_interval", "publish_interval", "lookup_interval"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (a negative rate)")
        if self.join not in JOIN_NOTES:
            raise ValueError(f"--join must be one of {sorted(JOIN_NOTES)}")
        if self.seeds < 1:
            raise ValueError("seeds must be >= 1")
        if self.dead_mode not in ("refused", "silent"):
            raise ValueError("dead_mode must be 'refused' or 'silent'")
        if self.unreachable not in ("refused", "silent"):
            raise ValueError("unreachable must be 'refused' or 'silent'")
        if self.stagger_jobs not in ("auto", "on", "off"):
            raise ValueError("--stagger-jobs must be 'auto', 'on' or 'off'")
        self.dht_config()
        self._validate_churn()
        self._validate_attack()
        if self.check_memory:
            check_memory(self)

    def _validate_churn(self) -> None:
        model = self.session_model
        if not model.enabled:
            return
        if self.fail_fraction:
            raise ValueError("--fail-fraction is for runs without churn (with churn, sessions end)")
        if not (self.duration_h > 0 and math.isfinite(self.duration_h)):
            raise ValueError("--duration-h must be positive")
        if not self.sample_min > 0:
            raise ValueError("--sample-min must be positive")
        if self.sample_min * 60 > self.duration_h * HOUR:
            raise ValueError("--sample-min is longer than the run (--duration-h)")
        if not 0.0 <= self.same_id <= 1.0:
            raise ValueError("--same-id must be in [0, 1]")
        if self.replica_samples < 0:
            raise ValueError("replica_samples must be >= 0")
        floor = MIN_SESSION_RTTS * self.rtt_ms / 1000.0
        if model.median_s < floor:
            raise ValueError(
                f"churn faster than the network: a median session of {model.median_s:g} s is shorter "
                f"than {MIN_SESSION_RTTS} round trips ({floor:g} s at --rtt-ms {self.rtt_ms:g}); nodes "
                "would leave before they finish joining"
            )

    def _validate_attack(self) -> None:
        from sim.adversary import ATTACKS

        if not 0.0 <= self.malicious < 1.0:
            raise ValueError("--malicious must be in [0, 1)")
        if self.attack != "none" and self.attack not in ATTACKS:
            raise ValueError(f"unknown --attack {self.attack!r}; known: {', '.join(sorted(ATTACKS))}")
        bad = self.malicious_count()
        if bad and self.attack == "none":
            raise ValueError("--malicious needs an --attack (" + ", ".join(sorted(ATTACKS)) + ")")
        if self.attack != "none" and not bad:
            raise ValueError(f"--attack {self.attack} needs --malicious > 0 (at least one node)")
        honest = self.nodes - bad
        if honest < 2:
            raise ValueError("fewer than two honest nodes are left")
        if self.publishers > honest:
            raise ValueError(f"--publishers {self.publishers} exceeds the {honest} honest nodes")


def estimate_bytes(config: SimConfig) -> int:
    """A generous estimate of the memory a run needs, bytes (nodes, replicas, churn arrivals)."""
    nodes = config.nodes
    model = config.session_model
    if model.enabled:  # departed cores are freed; only live nodes (about N) hold a full core
        arrivals = config.duration_h * HOUR / model.mean_s * nodes
        nodes_bytes = nodes * BYTES_PER_NODE + int(arrivals) * 300
    else:
        nodes_bytes = nodes * BYTES_PER_NODE
    replicas = config.publishes * config.k * 2  # replication and hand-off leave copies beyond the k closest
    return int(nodes_bytes + replicas * BYTES_PER_REPLICA + 64 * 2**20)


def check_memory(config: SimConfig, available: int | None = None) -> None:
    """Refuse a run that needs more memory than is available.

    Args:
        config: the run.
        available: bytes available (default: what the OS reports now).
    Raises:
        ValueError: the run would not fit.
    """
    if available is None:
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil is a dependency
            return
        available = int(psutil.virtual_memory().available)
    need = estimate_bytes(config)
    if need > 0.9 * available:
        raise ValueError(
            f"{config.nodes:,} nodes need about {need / 2**30:.1f} GiB "
            f"({BYTES_PER_NODE // 1024} KiB per node plus records), more than the "
            f"{available / 2**30:.1f} GiB available; use fewer --nodes"
        )


def config_from_dict(values: dict[str, Any]) -> SimConfig:
    """A SimConfig from a dict of its fields (unknown keys raise ValueError)."""
    names = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown SimConfig fields: {sorted(unknown)}")
    return SimConfig(**values)
