#!/usr/bin/env bash
# Second command of the README (and CI): installs dependencies, builds, runs every test suite
# once: the live suite on the normal build (build/), the unit and replay suites under
# AddressSanitizer + UndefinedBehaviorSanitizer (build-san/, gcc -O1: a failing check, a memory
# error or undefined behaviour all fail them); then the fuzzers for a bounded time (build-fuzz/,
# clang): the packet decoder's (FLAGSCAN_FUZZ_SECONDS, default 30), the replay path's
# (FLAGSCAN_REPLAY_FUZZ_SECONDS, 30) and the service probe file parser and matcher's
# (FLAGSCAN_SERVICE_FUZZ_SECONDS, 20). Each suite is built and run once: the unit tests are most
# of the compile time, so they are built only where they are checked hardest, and the sanitizer and
# fuzz trees start building in the background while the live suite waits on the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh

fuzz_seconds=${FLAGSCAN_FUZZ_SECONDS:-30}
passed=0 failed=0 skipped=0 status=0

# Adds one meson run's GoogleTest cases (its JUnit log) to the totals. A run that failed while
# its log shows no failing case (a crash before gtest wrote its report) still counts one.
count_junit() {  # LOG RUN_STATUS
  local log=$1 run_status=$2 total=0 bad=0 skip=0
  if [[ -f $log ]]; then
    sum() { grep -o "<testsuite [^>]*>" "$log" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" | awk '{s += $1} END {print s + 0}'; }
    total=$(sum tests) bad=$(( $(sum failures) + $(sum errors) )) skip=$(sum skipped)
  fi
  if ((run_status != 0 && bad == 0)); then bad=1 total=$((total + 1)); fi
  passed=$((passed + total - bad - skip)) failed=$((failed + bad)) skipped=$((skipped + skip))
}

configure() {  # DIR OPTION...: set up once; configure again only when the options change
  local dir=$1 stamp=$1/test-sh-options
  shift
  [[ -f $dir/build.ninja && -f $stamp && $(<"$stamp") == "$*" ]] && return 0
  if [[ -f $dir/build.ninja ]]; then meson configure "$dir" "$@" >/dev/null; else meson setup "$dir" "$@" >/dev/null; fi
  echo "$*" >"$stamp"
}
# The sanitizer build (-O1 as the ASan manual suggests, and a third faster to build here than -O2;
# -Wno-maybe-uninitialized: gcc 12 with -fsanitize warns wrongly inside libstdc++'s <regex>, which
# cxxopts uses, the normal build keeps the warning; line tables only, -g1: a report's stack still
# names file and line; linked -no-pie: an ASan PIE carries 2.4 million relative relocations, and
# resolving them was 0.2 s of the 0.45 s of each of the replay suite's runs of flagscan) and
# the fuzz build (clang, libFuzzer). Only what the unit and replay suites
# run is built in build-san (not the live tests, the lab's helpers or the fuzzers).
san_options=(-Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1 -Ddebug=false '-Dcpp_args=-Wno-maybe-uninitialized -g1' -Dcpp_link_args=-no-pie)
san_targets=(flagscan test/unit_tests test/replay/replay_tests test/replay/detect_replay_tests
  test/replay/os_replay_tests test/replay/make_fixtures)
fuzz_options=(-Dfuzz=true -Dtests=false -Doptimization=1 -Ddebug=false -Dcpp_args=-gline-tables-only)
fuzzers=(decode_fuzzer replay_fuzzer service_fuzzer detect_fuzzer)
configured=0
configure build-san "${san_options[@]}" && CXX=clang++ configure build-fuzz "${fuzz_options[@]}" || configured=$?

# 0. The live suite mostly waits on the lab's timeouts: while it runs, the sanitizer and fuzz
# trees are built in the background, side by side, one job each at the lowest priority (its own
# process group, ended when the live suite is: steps 2 and 3 then build what is left at full
# speed). A failure here is not reported: steps 2 and 3 build again and report theirs.
background=
if ((configured == 0)); then
  setsid nice -n 19 bash -c 'ninja -C build-fuzz -j1 '"${fuzzers[*]}"' >/dev/null 2>&1 & ninja -C build-san -j1 "$@" >/dev/null 2>&1; wait' \
    background-build "${san_targets[@]}" &
  background=$!
fi

# 1. The live suite, normal build (what a user runs, at -O2, against the lab).
step=0 started=$SECONDS
meson test -C build --print-errorlogs --num-processes 4 --suite live || step=$?
count_junit build/meson-logs/testlog.junit.xml "$step"
((step == 0)) || status=1
echo "test.sh: live suite: $((SECONDS - started)) s"
if [[ -n $background ]]; then
  kill -TERM -- "-$background" 2>/dev/null || true
  wait "$background" 2>/dev/null || true
fi

# 2. The suites that need neither root nor a network, under ASan + UBSan. Any report fails the
# test: ASan always stops; UBSan stops at the first report (halt_on_error).
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1
step=0 started=$SECONDS
rm -f build-san/meson-logs/testlog.junit.xml
step=$configured
if ((step == 0)); then
  ninja -C build-san "${san_targets[@]}" >build-san/test-sh-build.log 2>&1 || { step=$?; tail -n 60 build-san/test-sh-build.log; }
fi
if ((step == 0)); then
  meson test -C build-san --no-rebuild --print-errorlogs --num-processes 2 --suite unit --suite replay || step=$?
fi
count_junit build-san/meson-logs/testlog.junit.xml "$step"
((step == 0)) || status=1
echo "test.sh: unit and replay suites (ASan+UBSan build): $((SECONDS - started)) s"

# 3. The fuzzers (libFuzzer + ASan + UBSan, clang) for a bounded time each, in copies of their
# seeds so that the repository is not written to: the decoder fuzzer from test/fuzz/corpus, the
# replay fuzzer (a whole capture through PcapFile, the survey and the engine) from the hand-built
# captures pcap-fixtures/built-*, the service fuzzer (nmap-service-probes text and an answer) from
# test/fuzz/service-corpus, the detect fuzzer (flagscan detect's Detector over a whole capture)
# from the hand-built and detect-* captures. A crashing input is kept in build-fuzz/artifacts/ (reproduce:
# build-fuzz/test/fuzz/NAME FILE). Each run counts as one case.
replay_fuzz_seconds=${FLAGSCAN_REPLAY_FUZZ_SECONDS:-30}
service_fuzz_seconds=${FLAGSCAN_SERVICE_FUZZ_SECONDS:-20}
detect_fuzz_seconds=${FLAGSCAN_DETECT_FUZZ_SECONDS:-20}
run_fuzzer() {  # NAME SECONDS SEED_DIR
  local name=$1 seconds=$2 seeds=$3 run=0
  echo "$name: ${seconds} s from $seeds ($(ls "$seeds" | wc -l) seeds)"
  build-fuzz/test/fuzz/"$name" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$PWD/build-fuzz/artifacts/" "$seeds" >"$fuzz_dir/$name.log" 2>&1 || run=$?
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$fuzz_dir/$name.log" || true
  if ((run != 0)); then
    grep -v '^"' "$fuzz_dir/$name.log" | tail -n 80
    echo "$name FAILED (exit $run); the input is in build-fuzz/artifacts/" >&2
  fi
  return "$run"
}
step=0 started=$SECONDS
fuzz_dir=$(mktemp -d)
trap 'rm -rf "$fuzz_dir"' EXIT
step=$configured
if ((step == 0)); then
  meson compile -C build-fuzz "${fuzzers[@]}" >"$fuzz_dir/build.log" 2>&1 ||
    { step=$?; tail -n 60 "$fuzz_dir/build.log"; }
fi
if ((step == 0)); then
  cp -r test/fuzz/corpus "$fuzz_dir/corpus"
  mkdir -p build-fuzz/artifacts "$fuzz_dir/captures"
  cp pcap-fixtures/built-*.pcap* "$fuzz_dir/captures/"
  mkdir -p "$fuzz_dir/detect-captures"
  cp pcap-fixtures/built-*.pcap* pcap-fixtures/detect-*.pcap "$fuzz_dir/detect-captures/"
  cp -r test/fuzz/service-corpus "$fuzz_dir/service-corpus"
  for run in "decode_fuzzer $fuzz_seconds $fuzz_dir/corpus" "replay_fuzzer $replay_fuzz_seconds $fuzz_dir/captures" \
    "service_fuzzer $service_fuzz_seconds $fuzz_dir/service-corpus" "detect_fuzzer $detect_fuzz_seconds $fuzz_dir/detect-captures"; do
    fuzz_step=0
    run_fuzzer $run || fuzz_step=$?
    if ((fuzz_step == 0)); then passed=$((passed + 1)); else failed=$((failed + 1)) status=1; fi
  done
else
  failed=$((failed + 1)) status=1
fi
echo "test.sh: fuzz build and runs: $((SECONDS - started)) s"

# One closing line over every GoogleTest case of every run, and each fuzz run as one case.
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
