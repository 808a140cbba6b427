#!/bin/sh
# make fuzz-smoke: run every libFuzzer target for a fixed number of
# executions on a copy of its seed corpus (the source tree is never
# written), under ASan, LeakSanitizer and UBSan, and print one line per
# target:
#   PASS: fuzz_response 100000 runs, 5000 exec/s, 20.0 s
# Exit status 1 when any target crashed, leaked, hit undefined behaviour
# or a broken invariant; its log and the input that did it are kept under
# WORKDIR/<target>.
#
# usage: smoke.sh CORPUS_DIR WORKDIR TARGET...
# FUZZ_RUNS (default 100000) sets the executions of every target;
# FUZZ_RUNS_<name>, e.g. FUZZ_RUNS_fuzz_policy, one target's.  FUZZ_SEED
# (default 1) makes runs repeatable; 0 lets libFuzzer pick one.
set -u
corpus=$1 work=$2
shift 2
runs=${FUZZ_RUNS:-100000}
seed=${FUZZ_SEED:-1}

# Longest input per target: a bit over the parser's own limit where it
# has one (4096 response characters), else room for two or three
# certificates, or for a configuration file of every option.
max_len() {
	case $1 in
	fuzz_response) echo 4200 ;;
	fuzz_options) echo 2048 ;;
	fuzz_challenge) echo 512 ;;
	*) echo 4096 ;;
	esac
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0 failed=0
for prog in "$@"; do
	name=$(basename "$prog")
	prog=$(cd "$(dirname "$prog")" && pwd)/$name
	dir=$work/$name
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp "$corpus/${name#fuzz_}"/* "$dir/corpus/"
	n=$(eval "echo \${FUZZ_RUNS_$name:-$runs}")
	start=$(date +%s%N)
	(cd "$dir" && FUZZ_TMPDIR=$dir "$prog" -runs="$n" -seed="$seed" \
	    -max_len="$(max_len "$name")" -timeout=30 -print_final_stats=1 \
	    -artifact_prefix="$dir/" corpus) >"$dir/log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	# Over the whole run, start-up included: libFuzzer's own figure is
	# 0 for runs under a second.
	speed=?
	[ -n "$done_runs" ] && speed=$((done_runs * 1000 / (ms > 0 ? ms : 1)))
	# A sanitizer report is a failure even when the process exited 0.
	if [ "$rc" -eq 0 ] && [ -n "$done_runs" ] &&
	    ! grep -q -e 'runtime error:' -e 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer' \
	    -e 'invariant violated' "$dir/log"; then
		result=PASS
		passed=$((passed + 1))
	else
		result=FAIL
		failed=$((failed + 1))
	fi
	printf '%s: %s %s runs, %s exec/s, %d.%01d s\n' "$result" "$name" \
	    "${done_runs:-?}" "$speed" $((ms / 1000)) $((ms % 1000 / 100))
	if [ "$result" = FAIL ]; then
		grep -E 'invariant violated|runtime error|Sanitizer|^    #[0-9]|Test unit written|^artifact' \
		    "$dir/log" | head -30 | sed 's/^/# /'
		echo "# log: $dir/log"
	fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
