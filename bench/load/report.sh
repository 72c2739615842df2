#!/usr/bin/env bash
# Prints the markdown summary of one run.sh results folder.
#
#   bench/load/report.sh                      # newest folder under bench/load/results/
#   bench/load/report.sh bench/load/results/20261123-004156
#
# Per target and layout, over the rounds: rps median, min-max, spread = (max-min)/median, p50/p99 (median of
# the rounds' values, p99 also with min-max), p99/p50, ratio vs direct and vs haproxy-rr-cookie (per round, same
# layout and run; median with min-max), CPU of wrk /
# proxy / backend in cores (1.00 = one CPU busy for the whole run), proxy µs CPU per request
# (= proxy cores / rps per round; median with min-max), machine idle %, and wrk errors.  Then the targets that failed
# a check (and got no figure), warm-up, stickiness, cookie replay and L4 tables.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

dir="${1:-}"
if [ -z "$dir" ]; then
  dir=$(ls -1d "$here"/results/*/ 2>/dev/null | sort | tail -n 1 || true)
fi
if [ -z "$dir" ] || [ ! -f "$dir/raw.tsv" ]; then
  echo "report.sh: no raw.tsv in '${dir:-results/}'" >&2
  exit 1
fi
dir="${dir%/}"

# Shared awk helpers: median (mean of the two middle values for an even count), min, max.
AWK_LIB='
function sortn(a, n,    i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
function median(s,    a, n) { n = split(s, a, " "); if (n == 0) return ""; sortn(a, n); return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function minv(s,    a, n) { n = split(s, a, " "); sortn(a, n); return a[1] }
function maxv(s,    a, n) { n = split(s, a, " "); sortn(a, n); return a[n] }
function num(s) { return (s != "" && s != "-") }
'

echo '```'
cat "$dir/env.txt"
echo '```'

ncpu=$(awk -F': ' '/^cpu:/ { split($2, a, " "); print a[1]; exit }' "$dir/env.txt")
[ -n "$ncpu" ] || ncpu=$(nproc)
layouts=$(awk -F'\t' 'NR > 1 && !seen[$1]++ { print $1 }' "$dir/raw.tsv")

for layout in $layouts; do
  echo
  echo "### HTTP, layout: $layout"
  echo
  echo "| target | req/s median | req/s min-max | spread | p50 ms | p99 ms median (min-max) | p99/p50 | vs direct median (min-max) | vs haproxy-rr-cookie median (min-max) | CPU wrk | CPU proxy | CPU backend | proxy µs CPU/req median (min-max) | req per CPU-second vs haproxy-rr-cookie | proxy core busy % | other cores | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' -v L="$layout" -v NCPU="$ncpu" "$AWK_LIB"'
    NR == 1 || $1 != L { next }
    {
      t = $2; r = $3
      if (!(t in rps)) order[++n] = t
      rps[t] = rps[t] " " $4; p50[t] = p50[t] " " $5; p99[t] = p99[t] " " $6
      R[t, r] = $4
      wrk[t] = wrk[t] " " $7
      if (num($8)) { prx[t] = prx[t] " " $8; if ($4 > 0) us[t] = us[t] " " ($8 / $4 * 1e6) }
      be[t] = be[t] " " $9; idle[t] = idle[t] " " $10
      # CPU busy on the machine but not charged to wrk, the proxy or the backend: loopback softirq work and any
      # other process (in cores).  Much above ~0.3 means something else was running: the sample is contaminated.
      oth[t] = oth[t] " " ((100 - $10) / 100 * NCPU - $7 - (num($8) ? $8 : 0) - $9)
      if (NF >= 12 && num($12)) busy[t] = busy[t] " " $12
      if ($11 != "none") err[t] = err[t] (err[t] == "" ? "" : " ") "r" $3 ":" $11
      rounds[r] = 1
    }
    # ratio of t to ref, per round (same round), as "median (min-max)"
    function ratio(t, ref,    rr, s, m) {
      s = ""
      for (rr in rounds) if (((t, rr) in R) && ((ref, rr) in R) && R[ref, rr] > 0) s = s " " (R[t, rr] / R[ref, rr])
      if (s == "") return "-"
      m = median(s)
      if (minv(s) == maxv(s)) return sprintf("%.2f", m)
      return sprintf("%.2f (%.2f-%.2f)", m, minv(s), maxv(s))
    }
    function mmm(s, fmt,    m) {
      if (s == "") return "-"
      m = median(s)
      if (minv(s) == maxv(s)) return sprintf(fmt, m)
      return sprintf(fmt " (" fmt "-" fmt ")", m, minv(s), maxv(s))
    }
    END {
      href = ("haproxy-rr-cookie" in us) ? median(us["haproxy-rr-cookie"]) : 0
      for (i = 1; i <= n; i++) {
        t = order[i]; m = median(rps[t])
        lo = minv(rps[t]); hi = maxv(rps[t])
        # CPU-normalised ratio: requests one core of proxy CPU serves, relative to HAProxy cookie insert
        # (= HAProxy µs/req / this target µs/req).  Robust when the machine is shared: it does not depend on
        # how much of the proxy core the proxy actually got.
        cn = (href > 0 && us[t] != "" && median(us[t]) > 0) ? sprintf("%.2f", href / median(us[t])) : "-"
        spread = (m > 0) ? sprintf("%.1f%%", 100 * (hi - lo) / m) : "-"
        a = median(p50[t]); b = median(p99[t])
        pr = (a > 0) ? sprintf("%.1f", b / a) : "-"
        pc = (prx[t] != "") ? median(prx[t]) : "-"
        printf "| %s | %.0f | %.0f-%.0f | %s | %.3f | %s | %s | %s | %s | %.2f | %s | %.2f | %s | %s | %s | %s | %s |\n", \
          t, m, lo, hi, spread, a, mmm(p99[t], "%.2f"), pr, \
          (("direct" in rps) ? ratio(t, "direct") : "-"), (("haproxy-rr-cookie" in rps) ? ratio(t, "haproxy-rr-cookie") : "-"), \
          median(wrk[t]), (pc == "-") ? "-" : sprintf("%.2f", pc), median(be[t]), mmm(us[t], "%.1f"), cn, (busy[t] == "") ? "-" : sprintf("%.0f", median(busy[t])), sprintf("%.2f", median(oth[t])), \
          (err[t] == "") ? "none" : err[t]
      }
    }' "$dir/raw.tsv"

  # Cookie replay: the same target with and without the persistence cookie sent back.
  if awk -F'\t' -v L="$layout" '$1 == L && $2 ~ /\+replay$/ { f = 1 } END { exit !f }' "$dir/raw.tsv"; then
    echo
    echo "#### Cookie replay, layout: $layout (wrk sends the persistence cookie on every request)"
    echo
    echo "| target | rps no cookie | rps cookie replay | replay / no cookie | µs/req no cookie | µs/req replay | replay vs haproxy-rr-cookie+replay | replay vs yarp-rr-cookie+replay |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v L="$layout" "$AWK_LIB"'
      NR == 1 || $1 != L { next }
      { t = $2; if (!(t in rps)) order[++n] = t; rps[t] = rps[t] " " $4; if (num($8)) prx[t] = prx[t] " " $8 }
      function us(t,   m, p) { m = median(rps[t]); if (prx[t] == "" || m <= 0) return "-"; p = median(prx[t]); return (p > 0) ? sprintf("%.1f", p / m * 1e6) : "-" }
      END {
        href = ("haproxy-rr-cookie+replay" in rps) ? median(rps["haproxy-rr-cookie+replay"]) : 0
        yref = ("yarp-rr-cookie+replay" in rps) ? median(rps["yarp-rr-cookie+replay"]) : 0
        for (i = 1; i <= n; i++) {
          r = order[i]; if (r !~ /\+replay$/) continue
          t = r; sub(/\+replay$/, "", t)
          mr = median(rps[r]); mt = (t in rps) ? median(rps[t]) : 0
          printf "| %s | %s | %.0f | %s | %s | %s | %s | %s |\n", t, (mt > 0) ? sprintf("%.0f", mt) : "-", mr, \
            (mt > 0) ? sprintf("%.2f", mr / mt) : "-", (t in rps) ? us(t) : "-", us(r), \
            (href > 0) ? sprintf("%.2f", mr / href) : "-", (yref > 0) ? sprintf("%.2f", mr / yref) : "-"
        }
      }' "$dir/raw.tsv"
  fi
done

if [ -f "$dir/excluded.tsv" ] && [ "$(wc -l < "$dir/excluded.tsv")" -gt 1 ]; then
  echo
  echo "### Not measured: failed a check (no figure is printed for these)"
  echo
  echo "| layout | target | reason |"
  echo "|---|---|---|"
  awk -F'\t' 'NR > 1 { printf "| %s | %s | %s |\n", $1, $2, $3 }' "$dir/excluded.tsv"
fi

if [ -s "$dir/warmup.tsv" ] && [ "$(wc -l < "$dir/warmup.tsv")" -gt 1 ]; then
  echo
  echo "### Warm-up (rps per step, before round 1)"
  echo
  echo "| layout | target | steps | time to steady s | rps per step |"
  echo "|---|---|---:|---:|---|"
  awk -F'\t' 'NR > 1 { n = split($4, v, " "); printf "| %s | %s | %d | %d | %s |\n", $1, $2, n, n * $3, $4 }' "$dir/warmup.tsv"
fi

if [ -s "$dir/sticky.tsv" ]; then
  echo
  echo "### Stickiness (distinct backends seen)"
  echo
  echo "| layout | target | 20 req with cookie jar (1 = sticky) | 20 req no cookie (3 = spreads) | per source IP, max (1 = sticky) | across 12 source IPs | expected | check |"
  echo "|---|---|---:|---:|---:|---:|---|---|"
  awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$dir/sticky.tsv"
fi

if [ -f "$dir/replay.tsv" ] && [ "$(wc -l < "$dir/replay.tsv")" -gt 1 ]; then
  echo
  echo "### Cookie replay check (20 requests with the captured cookie)"
  echo
  echo "| layout | target | cookie (truncated) | distinct backends (1 = sticky) | responses that re-set a cookie | check |"
  echo "|---|---|---|---:|---:|---|"
  awk -F'\t' 'NR > 1 { c = $3; if (length(c) > 40) c = substr(c, 1, 40) "…"; printf "| %s | %s | `%s` | %s | %s | %s |\n", $1, $2, c, $4, $5, $6 }' "$dir/replay.tsv"
fi

if [ -f "$dir/tcp.tsv" ] && [ "$(wc -l < "$dir/tcp.tsv")" -gt 1 ]; then
  echo
  echo "### L4 bulk transfer (64 MiB file x32 per sample over one connection, MB/s)"
  echo
  echo "| layout | target | MB/s (median) | min-max | vs direct | vs haproxy | CPU proxy | bytes |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  awk -F'\t' "$AWK_LIB"'
    NR == 1 { next }
    { k = $1 SUBSEP $2; if (!(k in v)) { order[++n] = k }; v[k] = v[k] " " $4; if (num($5)) c[k] = c[k] " " $5; if ($6 != "ok") bad[k] = bad[k] " " $6 }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; split(k, p, SUBSEP); m = median(v[k])
        dk = p[1] SUBSEP "tcp-direct"; hk = p[1] SUBSEP "tcp-haproxy"
        d = (dk in v) ? median(v[dk]) : 0; h = (hk in v) ? median(v[hk]) : 0
        printf "| %s | %s | %.0f | %.0f-%.0f | %s | %s | %s | %s |\n", p[1], p[2], m, minv(v[k]), maxv(v[k]), \
          (d > 0) ? sprintf("%.2f", m / d) : "-", (h > 0) ? sprintf("%.2f", m / h) : "-", \
          (c[k] != "") ? sprintf("%.2f", median(c[k])) : "-", (bad[k] == "") ? "ok" : bad[k]
      }
    }' "$dir/tcp.tsv"
fi
