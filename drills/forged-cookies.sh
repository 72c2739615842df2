#!/usr/bin/env bash
# Drill: forged persistence cookies (issue 11, item 8).  One command, run from anywhere in the repository:
#
#   drills/forged-cookies.sh                 # about 1,100 forged cookies (HTTP_COOKIE and APP_COOKIE)
#   drills/forged-cookies.sh --quick         # about a tenth (CI)
#   drills/forged-cookies.sh --scale 3 --seed 5
#
# Starts Tether, python backends and four load balancers (two HTTP_COOKIE, two APP_COOKIE), forges cookies (random,
# bit-flipped, truncated, another load balancer's, expired, re-signed with a wrong key, spliced...) and checks that
# none is routed by its forged value (docs/session-persistence.md: a forged cookie is treated as absent).
# Last line: `forged-cookies: N forged, R routed`.  Exit 0 PASS, 1 FAIL, 2 setup failed.
# Options: --scale F --seed S --quick --keep --no-build --tether-dll PATH (drills/README.md).
DRILL_NAME=forged-cookies
. "$(dirname "$0")/lib.sh"
drill_exec forged_cookies.py 1800
