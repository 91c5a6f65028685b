"""The roles a credential can have (what each may do: :mod:`siltfs.server.roles`)."""

from __future__ import annotations

ADMIN = "admin"  # the admin token, <home>/token
CLUSTER = "cluster"  # the cluster secret, <home>/cluster-secret: masters and workers
CLIENT = "client"  # a client token (silt token create)
READ_ONLY = "read_only"  # a read-only client token (silt token create --read-only)
# the roles a master vouches for to its workers, most capable first
TOKEN_ROLES = (ADMIN, CLIENT, READ_ONLY)
