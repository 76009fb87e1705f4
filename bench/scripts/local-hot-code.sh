#!/usr/bin/env bash
# What an in-process component call costs the processor, counted by
# callgrind on `wamp-bench --suite local --no-baseline` (both windows, 1
# and 16 calls in flight):
#
# - instructions per call: everything the thread runs per call (caller,
#   realm, callee, the task scheduler), from the difference between a
#   short and a long run, so starting the host does not count;
# - hot code: the distinct 64-byte lines of code run at least once per two
#   calls, which a level-1 instruction cache (32 KiB on most x86
#   processors) must hold for the loop to run from it, and the functions
#   that take the most of them;
# - misses per call of a simulated 32 KiB, 8-way level-1 instruction
#   cache;
# - the ratio of component calls to `Addr::send` round trips when every
#   instruction costs the same (both rates measured under callgrind).
#
# Figures that do not move with the machine's load, to compare two builds
# (docs/benchmarks.md, "Hot code of an in-process call").
#
#   bench/scripts/local-hot-code.sh [BENCH_EXE]
#
# BENCH_EXE defaults to this checkout's release build. Needs valgrind and
# python3. About two minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=$(realpath "${1:-target/release/wamp-bench}")
[ -x "$bench" ] || { echo "build first: cargo build --release -p wamp-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "callgrind output kept in $work" >&2 || rm -rf "$work"' EXIT
# Two runs of different lengths: the difference between them is the calls
# alone, without starting the host and the components.
for seconds in 2 6; do
    valgrind --tool=callgrind --dump-instr=yes --compress-strings=no --compress-pos=no \
        --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64 \
        --callgrind-out-file="$work/out.$seconds" \
        "$bench" --suite local --no-baseline --duration "$seconds" --warmup 1 --rounds 1 \
        >/dev/null 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
done
python3 - "$work/out.2" "$work/out.6" <<'PY'
import collections, sys


def read(path):
    """Totals, calls of Dealer::call, and how often each instruction ran."""
    events, totals = [], {}
    runs = collections.Counter()  # instruction address -> times run
    owner = {}
    fn = callee = None
    calls = 0
    after_call = False
    for line in open(path, errors="replace"):
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("summary:"):
            totals = dict(zip(events, map(int, line.split()[1:])))
        elif line.startswith("fn="):
            fn = line[3:].strip()
        elif line.startswith("cfn="):
            callee = line[4:].strip()
        elif line.startswith("calls="):
            if callee and callee.endswith("dealer::Dealer::call"):
                calls += int(line[6:].split()[0])
            after_call = True  # the next line is the call's inclusive cost
        elif line.startswith("0x"):
            if after_call:
                after_call = False
                continue
            fields = line.split()  # address, source line, Ir, ...
            if len(fields) > 2:
                address = int(fields[0], 16)
                runs[address] += int(fields[2])
                owner[address] = fn
    if calls == 0:
        sys.exit("no call of Dealer::call counted (inlined in this build?)")
    return totals, calls, runs, owner


short, long = read(sys.argv[1]), read(sys.argv[2])
calls = long[1] - short[1]
if calls <= 0:
    sys.exit("the longer run made no more calls than the shorter one")
per_call = {event: (long[0][event] - short[0][event]) / calls for event in ("Ir", "I1mr")}
_, total_calls, runs, owner = long
lines = collections.defaultdict(set)
for address, count in runs.items():
    if 2 * count >= total_calls:
        lines[owner[address]].add(address // 64)
hot = set().union(*lines.values())
print(f"{per_call['Ir']:.0f} instructions per call ({calls} calls between the two runs)")
print(f"hot code: {len(hot)} lines of 64 bytes ({len(hot) * 64 / 1024:.1f} KiB)")
print(f"simulated 32 KiB L1i: {per_call['I1mr']:.0f} misses per call")
print("largest shares of the hot code (lines, function):")
for function, held in sorted(lines.items(), key=lambda kv: -len(kv[1]))[:15]:
    print(f"  {len(held):4d}  {function[:110]}")
PY
# The ratio to `Addr::send` under callgrind's model, where time follows
# instructions: both measured in one run under callgrind, as on a machine
# on which every instruction costs the same.
echo "ratio to Addr::send round trips under callgrind (1 in flight, 16 in flight):"
valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bench" --suite local --duration 4 --warmup 1 --rounds 1 2>/dev/null \
    | grep "via the embedded router" | awk -F'|' '{print " " $5}'
