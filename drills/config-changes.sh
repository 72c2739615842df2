#!/usr/bin/env bash
# Drill: configuration changes under load (issue 11, item 8).  One command, run from anywhere in the repository:
#
#   drills/config-changes.sh                 # 1,000 changes under load from 8 keep-alive clients
#   drills/config-changes.sh --quick         # 100 changes, 4 clients (CI)
#   drills/config-changes.sh --changes 5000 --clients 16 --seed 42
#
# Starts Tether (fresh temporary data directory, free ports on 127.0.0.1), B python backends and an HTTP load
# balancer; C keep-alive clients (half keep the persistence cookie) load it while N configuration changes are made
# through the API.  Passes when no request failed (not 200 from a node that was in the configuration then, or a
# connection error), every change was accepted, and the final configuration is the expected one.
# Last line: `config-changes: N changes, R requests, F failed`.  Exit 0 PASS, 1 FAIL, 2 setup failed.
# Options: --changes N --clients C --backends B --seed S --quick --keep --no-build --tether-dll PATH (drills/README.md).
DRILL_NAME=config-changes
. "$(dirname "$0")/lib.sh"
drill_exec config_changes.py 1800
