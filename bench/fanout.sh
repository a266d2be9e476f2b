#!/usr/bin/env bash
# National-scale fan-out (issue 12): one item to 11,000 follower inboxes
# (about the number of German municipalities), each on its own loopback
# address (127.1.x.y, one port: 11,000 distinct hosts), from the release
# `allmende` binary, on SQLite and on PostgreSQL, beside the pure signing
# rate on one core measured in the same run. It is `bench/outbox.sh` with
# INBOXES=11000 (another number: `INBOXES=2000 bench/fanout.sh`). A
# benchmark, not a test: not part of CI.
set -euo pipefail
INBOXES=${INBOXES:-11000} exec "$(dirname "$0")/outbox.sh"
