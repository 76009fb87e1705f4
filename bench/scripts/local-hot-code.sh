#!/usr/bin/env bash
# What an in-process component call costs the processor, counted by
# callgrind on `wamp-bench --suite local` (both windows, 1 and 16 calls in
# flight):
#
# - instructions per call: everything the thread runs per call (caller,
#   realm, callee, the task scheduler), from the difference between a
#   short and a long run, so starting the host does not count;
# - the same for an `Addr::send` round trip (`--measure baseline`), and
#   the ratio of the two: the in-process target (30% of `Addr::send`)
#   read as work, whatever the processor;
# - hot code: the distinct 64-byte lines of code run at least once per two
#   calls, which a level-1 instruction cache (32 KiB on most x86
#   processors) must hold for the loop to run from it, and the functions
#   that take the most of them;
# - misses per call of a simulated 32 KiB, 8-way level-1 instruction
#   cache.
#
# Figures that do not move with the machine's load, to compare two builds
# (docs/benchmarks.md, "Hot code of an in-process call").
#
#   bench/scripts/local-hot-code.sh [BENCH_EXE]
#
# BENCH_EXE defaults to this checkout's release build. Needs valgrind and
# python3. About three minutes. KEEP=1 keeps callgrind's output.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench=$(realpath "${1:-target/release/wamp-bench}")
[ -x "$bench" ] || { echo "build first: cargo build --release -p wamp-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "callgrind output kept in $work" >&2 || rm -rf "$work"' EXIT
# Two runs of different lengths of each measurement: the difference between
# them is the calls alone, without starting the host and the components.
for measure in component typed baseline; do
    for seconds in 2 6; do
        valgrind --tool=callgrind --dump-instr=yes --compress-strings=no --compress-pos=no \
            --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=33554432,16,64 \
            --callgrind-out-file="$work/$measure.$seconds" \
            "$bench" --suite local --measure "$measure" --duration "$seconds" --warmup 1 --rounds 1 \
            >/dev/null 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
    done
done
python3 - "$work" <<'PY'
import collections, sys

work = sys.argv[1]


def read(path, counted):
    """Totals, calls of the function whose name ends with `counted`, and
    how often each instruction ran."""
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
            if callee and callee.endswith(counted):
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
        sys.exit(f"no call of {counted} counted in {path} (inlined in this build?)")
    return totals, calls, runs, owner


def per_call(measure, counted):
    short = read(f"{work}/{measure}.2", counted)
    long = read(f"{work}/{measure}.6", counted)
    calls = long[1] - short[1]
    if calls <= 0:
        sys.exit(f"the longer run of {measure} made no more calls than the shorter one")
    cost = {event: (long[0][event] - short[0][event]) / calls for event in ("Ir", "I1mr")}
    return cost, calls, long


component, calls, (_, total_calls, runs, owner) = per_call("component", "dealer::Dealer::call")
typed, typed_calls, _ = per_call("typed", "dealer::Dealer::call")
baseline, round_trips, _ = per_call("baseline", "AddressSender<A>::send")
lines = collections.defaultdict(set)
for address, count in runs.items():
    if 2 * count >= total_calls:
        lines[owner[address]].add(address // 64)
hot = set().union(*lines.values())
print(f"{component['Ir']:.0f} instructions per call ({calls} calls between the two runs)")
print(f"{baseline['Ir']:.0f} instructions per Addr::send round trip ({round_trips} between the two runs)")
print(f"ratio of the instructions (round trip / call): {baseline['Ir'] / component['Ir']:.1%}")
print(f"{typed['Ir']:.0f} instructions per call through the generated client ({typed_calls} calls)")
print(f"ratio of the instructions (round trip / call through the client): {baseline['Ir'] / typed['Ir']:.1%}")
print(f"hot code: {len(hot)} lines of 64 bytes ({len(hot) * 64 / 1024:.1f} KiB)")
print(f"simulated 32 KiB L1i: {component['I1mr']:.0f} misses per call")
print("largest shares of the hot code (lines, function):")
for function, held in sorted(lines.items(), key=lambda kv: -len(kv[1]))[:15]:
    print(f"  {len(held):4d}  {function[:110]}")
PY
