#!/usr/bin/env bash
# Fuzzing the relay's parsers, the protocol types and the browser client's pure core with
# cargo-fuzz (libFuzzer): the crate is fuzz/, on the nightly pinned in
# fuzz/rust-toolchain.toml; the product stays on stable.
# RELIABILITY.md says what each target checks and what the runs found.
#
#   bash scripts/fuzz.sh run [seconds] [target…]   fuzz each target for `seconds` (default
#                                                   600), one after another, one process
#                                                   each; print executions and exec/s
#   bash scripts/fuzz.sh regress [target…]          run each target over its saved corpus
#                                                   only (no mutation); fail on any crash.
#                                                   For CI: installs the pinned nightly and
#                                                   cargo-fuzz first if they are missing
#   bash scripts/fuzz.sh merge [target…]            add to fuzz/corpus/<target> the inputs of
#                                                   past runs that reach new edges
#
# `run` keeps what it discovers in fuzz/target/work-corpus/<target> (not committed); `merge`
# distils that into the committed corpus. A crash leaves its input in fuzz/artifacts/<target>/
# and stops the script with a non-zero status.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
usage() { sed -n '2,19p' "$self" | sed 's/^# \{0,1\}//'; }
cd "$(dirname "$0")/../fuzz"

ALL_TARGETS=(client_frame sse_stream openai_chunk protocol_roundtrip
    core_frame core_generations core_endpoint)
# -a: debug assertions (and overflow checks) on, as in the product's tests. Address
# sanitizer is cargo-fuzz's default: the relay forbids unsafe code, its dependencies do not.
BUILD_FLAGS=(-a)
# Any single input taking over 10 s counts as a hang, i.e. a failure.
FUZZ_FLAGS=(-timeout=10 -print_final_stats=1)

ensure_tools() {
    local toolchain
    toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
    if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
        echo "==> installing Rust $toolchain (minimal profile) for fuzz/"
        rustup toolchain install "$toolchain" --profile minimal
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "==> installing cargo-fuzz"
        (cd / && cargo install cargo-fuzz --version '^0.13')
    fi
}

# stat::number_of_executed_units and stat::average_exec_per_sec from a libFuzzer log.
libfuzzer_stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

summary=()
report() { # target seconds log status
    summary+=("$(printf '%-20s %8s s %14s runs %10s exec/s  %s' "$1" "$2" \
        "$(libfuzzer_stat "$3" number_of_executed_units)" "$(libfuzzer_stat "$3" average_exec_per_sec)" "$4")")
}
print_summary() {
    printf '\n%-20s %10s %19s %17s  %s\n' target time executions speed result
    printf '%s\n' "${summary[@]}"
}

targets=()
pick_targets() { # the named targets, or all of them
    if (($#)); then targets=("$@"); else targets=("${ALL_TARGETS[@]}"); fi
}

mode=${1:-}
shift || true
case "$mode" in
run)
    seconds=600
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
        seconds=$1
        shift
    fi
    pick_targets "$@"
    ensure_tools
    cargo fuzz build "${BUILD_FLAGS[@]}"
    mkdir -p target/fuzz-logs
    for target in "${targets[@]}"; do
        work=target/work-corpus/$target
        log=target/fuzz-logs/$target.log
        mkdir -p "$work"
        echo "==> $target: fuzzing for $seconds s (log: fuzz/$log)"
        status=ok
        # New inputs go to the first directory; the saved corpus is only read.
        cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "$work" "corpus/$target" -- \
            "${FUZZ_FLAGS[@]}" -max_total_time="$seconds" >"$log" 2>&1 || status=FAILED
        grep -E '^#[0-9]+ +(INITED|DONE)' "$log" || true
        report "$target" "$seconds" "$log" "$status"
        if [[ $status != ok ]]; then
            tail -40 "$log"
            print_summary
            echo "$target found a crash: its input is in fuzz/artifacts/$target/" >&2
            exit 1
        fi
    done
    print_summary
    ;;
regress)
    pick_targets "$@"
    ensure_tools
    cargo fuzz build "${BUILD_FLAGS[@]}"
    mkdir -p target/fuzz-logs
    failed=0
    for target in "${targets[@]}"; do
        log=target/fuzz-logs/$target.regress.log
        status=ok
        # -runs=0: every saved input once, no mutation.
        cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "corpus/$target" -- \
            "${FUZZ_FLAGS[@]}" -runs=0 >"$log" 2>&1 || status=FAILED
        inputs=$(find "corpus/$target" -type f | wc -l)
        printf '%-20s %4d saved inputs  %s\n' "$target" "$inputs" "$status"
        if [[ $status != ok ]]; then
            tail -40 "$log"
            failed=1
        fi
    done
    exit "$failed"
    ;;
merge)
    pick_targets "$@"
    ensure_tools
    for target in "${targets[@]}"; do
        work=target/work-corpus/$target
        [[ -d $work ]] || continue
        before=$(find "corpus/$target" -type f | wc -l)
        # Edges only (no hit counts, no comparison operands): a few hundred small inputs per
        # target instead of thousands, so the committed corpus stays well under 1 MB.
        cargo fuzz run "${BUILD_FLAGS[@]}" "$target" "corpus/$target" "$work" -- \
            -merge=1 -use_counters=0 -use_cmp=0 -use_value_profile=0 \
            >"target/fuzz-logs/$target.merge.log" 2>&1
        after=$(find "corpus/$target" -type f | wc -l)
        echo "$target: $before → $after saved inputs ($(du -sh "corpus/$target" | cut -f1))"
    done
    ;;
*)
    usage
    exit 2
    ;;
esac
