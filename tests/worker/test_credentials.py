"""What a worker learns of its masters' tokens: digests and roles, per master, replaced
whole by each new version; anything malformed is ignored."""

from __future__ import annotations

import hashlib

from siltfs.model.roles import ADMIN, CLIENT, CLUSTER, READ_ONLY
from siltfs.server.roles import refusal, worker_refusal
from siltfs.worker.credentials import WorkerCredentials


def sha(token: bytes) -> str:
    return hashlib.sha256(token).hexdigest()


def test_tokens_are_learned_per_master_and_replaced_whole() -> None:
    creds = WorkerCredentials("the-secret")
    assert creds.role(b"the-secret") == CLUSTER and creds.role(b"other") is None
    assert creds.version("m1") is None
    creds.learn(
        "m1",
        {
            "version": "v1",
            "tokens": [
                {"sha256": sha(b"adm"), "role": ADMIN},
                {"sha256": sha(b"ro"), "role": READ_ONLY},
            ],
        },
    )
    assert creds.version("m1") == "v1"
    assert creds.role(b"adm") == ADMIN and creds.role(b"ro") == READ_ONLY
    creds.learn("m2", {"version": "w1", "tokens": [{"sha256": sha(b"ro"), "role": CLIENT}]})
    assert creds.role(b"ro") == CLIENT  # the most a master vouches for
    creds.learn("m1", {"version": "v2", "tokens": []})  # revoked on m1
    assert creds.role(b"adm") is None and creds.role(b"ro") == CLIENT
    for bad in (
        None,
        [],
        {"tokens": "x"},
        {"tokens": [{"sha256": "short", "role": ADMIN}]},
        {"tokens": [{"sha256": sha(b"x"), "role": CLUSTER}]},  # never vouched for
        {"tokens": [7]},
    ):
        creds.learn("m2", bad)
        assert creds.version("m2") == "w1" and creds.role(b"ro") == CLIENT  # kept
    assert creds.role(b"x") is None


def test_who_may_call_what() -> None:
    hb = ("POST", "/workers/heartbeat")
    assert refusal(CLUSTER, *hb) is None
    assert all(refusal(role, *hb) for role in (ADMIN, CLIENT, READ_ONLY))
    assert refusal(CLUSTER, "GET", "/ls") and refusal(CLUSTER, "POST", "/mount")
    assert refusal(ADMIN, "POST", "/mount") is None and refusal(CLIENT, "POST", "/mount")
    for role in (ADMIN, CLIENT, READ_ONLY, CLUSTER):
        assert worker_refusal(role, "GET", "/blocks/5") is None
    assert worker_refusal(CLIENT, "PUT", "/blocks/5") is None
    assert worker_refusal(READ_ONLY, "PUT", "/blocks/5")
    for action in ("pin", "unpin", "free", "remove"):
        assert worker_refusal(CLUSTER, "POST", f"/blocks/{action}") is None
        assert worker_refusal(ADMIN, "POST", f"/blocks/{action}")
