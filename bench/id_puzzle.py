"""What an S/Kademlia-style id puzzle would cost: honest identities, and an attacker grinding ids near a key.

The static puzzle (``dht.keys.id_puzzle_bits``): an identity is usable only if sha256(node id) starts with b
zero bits, node id = sha256(ed25519 public key). Each candidate costs one ed25519 key generation (PyNaCl, the
library ``wire.identity`` uses) and two sha256; a valid identity takes 2**b candidates on average.

Measured here: the CPU per candidate (median of several timed batches), then real grinding at small b to check
the 2**b law, and the expected CPU per valid identity at b = 0, 8, 12, 16, 20, 24. Also the cost for an
attacker to place one sybil among the k closest nodes of a chosen key in a network of N nodes (it needs an id
within ~2**256 * k / N of the key: N / k valid identities on average), with honest key generation, and a lower
bound for a faster attacker who only pays the two sha256 per candidate (derives public keys by point addition
in optimised code).

    .venv/bin/python bench/id_puzzle.py [--grind-bits 10] [--batches 5] [--batch 2000]

Prints ONE JSON line on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.signing

from dht.keys import id_puzzle_bits

LEVELS = (0, 8, 12, 16, 20, 24)
NETWORKS = (10_000, 1_000_000)
K = 20


def _candidate_cost(batch: int, batches: int) -> float:
    """Median seconds per candidate: key generation + the puzzle check."""
    times = []
    for _ in range(batches):
        t0 = time.process_time()
        for _ in range(batch):
            pk = bytes(nacl.signing.SigningKey.generate().verify_key)
            id_puzzle_bits(pk)
        times.append((time.process_time() - t0) / batch)
    return statistics.median(times)


def _hash_cost(batch: int, batches: int) -> float:
    """Median seconds for the two sha256 of a candidate alone (the fast attacker's floor)."""
    data = os.urandom(32)
    times = []
    for _ in range(batches):
        t0 = time.process_time()
        for _ in range(batch * 10):
            hashlib.sha256(hashlib.sha256(data).digest()).digest()
        times.append((time.process_time() - t0) / (batch * 10))
    return statistics.median(times)


def _grind(bits: int, ids: int) -> tuple[float, float]:
    """Grind ``ids`` valid identities at ``bits``; returns (candidates per id, CPU seconds per id)."""
    tried = 0
    t0 = time.process_time()
    for _ in range(ids):
        while True:
            tried += 1
            pk = bytes(nacl.signing.SigningKey.generate().verify_key)
            if id_puzzle_bits(pk) >= bits:
                break
    return tried / ids, (time.process_time() - t0) / ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grind-bits", type=int, default=10, help="real grinding at this difficulty (check)")
    ap.add_argument("--grind-ids", type=int, default=8)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch", type=int, default=2000)
    args = ap.parse_args()
    per = _candidate_cost(args.batch, args.batches)
    hashing = _hash_cost(args.batch, args.batches)
    cand, cpu = _grind(args.grind_bits, args.grind_ids)
    out = {
        "candidate_us": round(per * 1e6, 2),
        "double_sha256_us": round(hashing * 1e6, 3),
        "grind_check": {
            "bits": args.grind_bits,
            "ids": args.grind_ids,
            "candidates_per_id": round(cand),
            "expected": 2**args.grind_bits,
            "cpu_s_per_id": round(cpu, 3),
        },
        "honest_cpu_s_per_identity": {str(b): round(per * 2**b, 3) for b in LEVELS},
        "attacker_cpu_s_per_sybil_in_k_closest": {
            f"N={n}": {str(b): round(per * 2**b * n / K, 1) for b in LEVELS} for n in NETWORKS
        },
        "fast_attacker_floor_cpu_s_per_sybil": {
            f"N={n}": {str(b): round(hashing * 2**b * n / K, 2) for b in LEVELS} for n in NETWORKS
        },
        "k": K,
        "load_avg": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
