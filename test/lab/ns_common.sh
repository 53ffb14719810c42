# ns_common.sh: what lab.sh and services.sh share, sourced by both: a namespace and its veth,
# the processes in it, their removal. The caller sets NS (namespace) and HOST_IF (host-side veth)
# and defines die().
# shellcheck shell=bash

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$NS"; }
in_ns() { ip netns exec "$NS" "$@"; }

# True while PID runs: a zombie (exited, its parent, often init, not yet reaping) has stopped.
running() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Kills PIDS with SIGTERM, waits up to 2 s, then SIGKILL for what is left.
kill_and_wait() {
    local pid i alive
    [[ -n $* ]] || return 0
    kill "$@" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        alive=()
        for pid in "$@"; do ! running "$pid" || alive+=("$pid"); done
        ((${#alive[@]})) || return 0
        sleep 0.05
    done
    kill -KILL "${alive[@]}" 2>/dev/null || true
}

# Every process left in the namespace, by pid.
kill_ns_pids() {
    local pids
    # shellcheck disable=SC2207 # one word per pid
    pids=($(ip netns pids "$NS" 2>/dev/null || true))
    kill_and_wait "${pids[@]}"
}

# The veth, then the namespace (namespace cleanup is asynchronous: the veth goes first).
remove_namespace() {
    ip link del "$HOST_IF" 2>/dev/null || true
    if ns_exists; then
        ip netns del "$NS"
    fi
}

# Dies when the namespace or the veth outlived remove_namespace.
check_namespace_removed() {
    ! ns_exists || die "namespace $NS still exists"
    ! ip link show "$HOST_IF" >/dev/null 2>&1 || die "interface $HOST_IF still exists"
}
