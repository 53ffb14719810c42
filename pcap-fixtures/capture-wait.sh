# capture-wait.sh: sourced by the record-*.sh scripts; waits until a capture tool listens.
#
# wait_for_capture LOG WHO: returns once LOG (tcpdump's or dumpcap's stderr) says it listens, and
# 0.2 s more; after 5 s, prints "WHO: capture did not start: <the log>" and returns 1.
wait_for_capture() {
    local log=$1 who=$2 i
    for ((i = 0; i < 100; i++)); do
        grep -qsE "listening on|Capturing on" "$log" && { sleep 0.2; return 0; }
        sleep 0.05
    done
    echo "$who: capture did not start: $(cat "$log")" >&2
    return 1
}
