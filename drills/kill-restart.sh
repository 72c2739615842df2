#!/usr/bin/env bash
# Drill: kill -9 during API writes (issue 11, item 8).  One command, run from anywhere in the repository:
#
#   drills/kill-restart.sh                   # 30 kill -9 and restart cycles, 4 concurrent writers
#   drills/kill-restart.sh --quick           # 3 cycles (CI)
#   drills/kill-restart.sh --restarts 100 --writers 5 --seed 7
#
# Starts Tether on a temporary data directory, makes API writes from several writers at once, kills Tether with
# SIGKILL at a random moment, runs `PRAGMA integrity_check` on a copy of the store as the kill left it, restarts
# Tether and checks that every acknowledged write is there (GET).  Last line:
# `kill-restart: N restarts, A acknowledged writes, L lost, integrity ok|FAILED`.  Exit 0 PASS, 1 FAIL, 2 setup failed.
# Options: --restarts N --writers W --max-run S --seed S --quick --keep --no-build --tether-dll PATH (drills/README.md).
DRILL_NAME=kill-restart
. "$(dirname "$0")/lib.sh"
drill_exec kill_restart.py 1800
