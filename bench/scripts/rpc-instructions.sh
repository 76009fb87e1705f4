#!/usr/bin/env bash
# Instructions the router spends per call in the 64-byte RPC phases with 64
# calls in flight (JSON, then MessagePack), counted by callgrind: a figure
# that does not move with the machine's load, unlike rates, so that two
# builds can be compared one change at a time.
#
#   bench/scripts/rpc-instructions.sh [ROUTER_EXE]
#
# ROUTER_EXE is the `wamp-bench` executable whose router is measured
# (default: this checkout's release build); the load is always this
# checkout's. Needs valgrind and python3. About one minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
load=target/release/wamp-bench
router=$(realpath "${1:-$load}")
[ -x "$load" ] || { echo "build first: cargo build --release -p wamp-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cat > "$work/router" <<WRAP
#!/usr/bin/env bash
exec valgrind --tool=callgrind --compress-strings=no --callgrind-out-file=$work/out.%p "$router" "\$@" 2>/dev/null
WRAP
chmod +x "$work/router"
"$load" --suite messages --duration 3 --rounds 1 --idle 0 --no-pin --router-exe "$work/router" \
    >/dev/null 2>"$work/log" &
load_pid=$!
# Counts from the second second of a phase for two and a half seconds.
window() {
    until grep -q "$1" "$work/log"; do
        kill -0 $load_pid 2>/dev/null || { cat "$work/log" >&2; exit 1; }
        sleep 0.05
    done
    sleep 1
    local pid
    pid=$(pgrep -f "callgrind.*serve router" | head -1)
    callgrind_control -z "$pid" >/dev/null 2>&1
    sleep 2.5
    callgrind_control -d "$2" "$pid" >/dev/null 2>&1
}
window "echo, 64 in flight" json   # the JSON RPC phase follows the echo
window "pubsub wamp.2.json" msgpack # the MessagePack RPC phase follows JSON PubSub
wait $load_pid
python3 - "$work" <<'PY'
import glob, re, sys
for part, name in ((1, "JSON"), (2, "MessagePack")):
    path = glob.glob(f"{sys.argv[1]}/out.*.{part}")[0]
    total = calls = 0
    callee = None
    for line in open(path, errors="replace"):
        if line.startswith("summary:"):
            total = int(line.split()[1])
        elif line.startswith("cfn="):
            callee = line[4:].strip()
        elif line.startswith("calls=") and callee and re.search(r"dealer::Dealer::call$", callee):
            calls += int(line[6:].split()[0])
    if calls == 0:
        sys.exit(f"{name}: no call of Dealer::call counted (inlined in this build?)")
    print(f"{name}: {total // calls} instructions per call ({calls} calls counted)")
PY
