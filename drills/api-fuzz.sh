#!/usr/bin/env bash
# Drill: API fuzzing (issue 11, item 8).  One command, run from anywhere in the repository:
#
#   drills/api-fuzz.sh                       # 10,000 fuzzed bodies over every write endpoint
#   drills/api-fuzz.sh --quick               # 600 bodies (CI)
#   drills/api-fuzz.sh --bodies 50000 --seed 3 --examples 20
#
# Starts Tether and a target HTTP load balancer, sends mutated bodies (wrong types, invalid UTF-8, surrogates,
# unknown fields, huge numbers, deep nesting...) to every POST and PUT route, and checks that none is answered 5xx
# and that no refused (4xx) request changed the configuration.  The first 5xx answers are printed with their body.
# Last line: `api-fuzz: N bodies, F 5xx, S state changes by refused requests`.  Exit 0 PASS, 1 FAIL, 2 setup failed.
# Options: --bodies N --seed S --examples K --quick --keep --no-build --tether-dll PATH (drills/README.md).
DRILL_NAME=api-fuzz
. "$(dirname "$0")/lib.sh"
drill_exec api_fuzz.py 3600
