#!/usr/bin/env bash
# The Slurm deployment end to end (deploy/slurm/, deploy/entrypoint.sh) on a one-node Slurm
# cluster on this machine: installs Slurm and munge from Debian's packages if they are missing,
# starts munged, slurmctld and slurmd (config, key, state and logs in a fresh /tmp directory,
# ports 16817/16818), submits sharded runs with deploy/slurm/submit.sh, waits for the merge jobs
# and compares their output byte for byte with the single-machine run of the same command:
#   - simulate, N = 4 shards (the trace's 4 functions hash to the shards unevenly: a shard may
#     hold none, which must merge as well);
#   - sweep, N = 4 shards of 3 points x 3 replicas;
#   - a run whose every shard fails (a missing trace): the merge must never run.
# Every daemon it started is stopped on exit (a trap), so a rerun works; so does a run where
# Slurm is installed already.
#
# Needs root and apt-get (to install packages and run slurmd). Without them it says so and fails;
# FAASPLAN_SKIP_SLURM=1 skips it knowingly (for a developer machine without root, never in CI).
# FAASPLAN_BIN names the faasplan binary (default: target/debug/faasplan, built if needed).
#
# Exit: 0 when every check passed, 1 when one failed (with the reason and the daemons' logs).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$SECONDS

say() { echo "deploy_slurm: $*"; }
fail() {
    say "FAILED: $*" >&2
    exit 1
}

if [ "${FAASPLAN_SKIP_SLURM:-0}" = 1 ]; then
    say "SKIPPED: FAASPLAN_SKIP_SLURM=1"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "cannot run here: it installs Slurm with apt-get and runs slurmd, which need root and apt-get (this is uid $(id -u)$(command -v apt-get >/dev/null 2>&1 || echo ', no apt-get')). Set FAASPLAN_SKIP_SLURM=1 to skip it knowingly."
fi

# --- Slurm and munge from Debian -------------------------------------------------------------
install_s=0
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
    ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    say "installing slurm-wlm and munge (apt-get)"
    t=$SECONDS
    log=/tmp/faasplan-slurm-install.log
    # Packages may try to start their services; there is no init system to start them here, and
    # this test starts its own. A policy-rc.d that says no keeps them off (removed afterwards).
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    rc=0
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends slurm-wlm munge; } >"$log" 2>&1 || rc=$?
    [ "$own_policy" = 0 ] || rm -f "$policy"
    if [ "$rc" != 0 ]; then
        tail -n 20 "$log" >&2
        fail "apt-get could not install slurm-wlm and munge (exit $rc; log: $log)"
    fi
    install_s=$((SECONDS - t))
    say "installed in ${install_s}s"
else
    say "slurm-wlm and munge are installed already"
fi

bin=${FAASPLAN_BIN:-}
if [ -z "$bin" ]; then
    cargo build --quiet --bin faasplan || fail "cargo build --bin faasplan failed"
    bin=$repo/target/debug/faasplan
fi
[ -x "$bin" ] || fail "FAASPLAN_BIN=$bin is not an executable"
export FAASPLAN_BIN=$bin

# --- a one-node cluster in /tmp --------------------------------------------------------------
w=$(mktemp -d /tmp/faasplan-slurm.XXXXXX)
# munged wants every directory above its socket searchable by all.
chmod 755 "$w"
pids=()
cluster=
stop() {
    local rc=$? p
    # Jobs still queued or running (after a failed check) are cancelled first: a slurmstepd whose
    # slurmd is gone would stay behind.
    if [ "$cluster" = up ] && [ -n "$(squeue -h -o %A 2>/dev/null)" ]; then
        scancel --full $(squeue -h -o %A) 2>/dev/null || true
        for _ in $(seq 30); do
            [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
            sleep 1
        done
    fi
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$rc" != 0 ]; then
        for f in "$w"/*.log "$w"/*/slurm-*.out "$w"/*/merge-*.err; do
            [ -f "$f" ] || continue
            echo "--- $f (last lines)" >&2
            tail -n 15 "$f" >&2
        done
    fi
    rm -rf "$w"
    exit "$rc"
}
trap stop EXIT
trap 'exit 1' INT TERM

node=$(hostname -s)
dd if=/dev/urandom of="$w/munge.key" bs=1024 count=1 status=none
chmod 400 "$w/munge.key"
mkdir -p "$w/state" "$w/spool"
cat >"$w/slurm.conf" <<EOF
# A one-node test cluster (tests/deploy_slurm.sh). No systemd and no cgroup delegation here:
# processes are tracked by their parent links (proctrack/linuxproc) and tasks are not bound.
ClusterName=faasplan-ci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$w/munge.sock
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$w/state
SlurmdSpoolDir=$w/spool
SlurmctldPidFile=$w/slurmctld.pid
SlurmdPidFile=$w/slurmd.pid
SlurmctldLogFile=$w/slurmctld.log
SlurmdLogFile=$w/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
# Keep finished jobs visible to scontrol for the whole test.
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$w/slurm.conf
cluster=up

say "starting munged, slurmctld and slurmd ($w)"
munged -F --key-file="$w/munge.key" --socket="$w/munge.sock" --pid-file="$w/munged.pid" \
    --log-file="$w/munged.log" --seed-file="$w/munged.seed" >"$w/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    [ -S "$w/munge.sock" ] && break
    sleep 0.1
done
[ -S "$w/munge.sock" ] || fail "munged did not start: $(cat "$w/munged.out")"
slurmctld -D -c >"$w/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" >"$w/slurmd.out" 2>&1 &
pids+=($!)

state=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || fail "node $node is not idle after 60 s (sinfo says \"$state\")"
say "node $node is idle after $((SECONDS - started))s"

# --- the runs --------------------------------------------------------------------------------
# What a shard runs and what the merge writes: the test's one place for the faasplan commands.
trace=workloads/multi-function.csv
sim_args=(simulate "$trace" --horizon 1h)
sweep_args=(sweep "$trace" --offering aws-lambda-x86 --provisioned 0..=2 --replicas 3
    --resample block:10m --quiet)

# The single-machine runs write to stdout; the simulate merge to --out FILE, the sweep merge to
# its stdout (submit.sh: DIR/merge-JOBID.out).
"$bin" "${sim_args[@]}" --format json >"$w/simulate.single.json" 2>"$w/single.err" ||
    fail "the single-machine simulate failed: $(cat "$w/single.err")"
"$bin" "${sweep_args[@]}" --format csv >"$w/sweep.single.csv" 2>"$w/single.err" ||
    fail "the single-machine sweep failed: $(cat "$w/single.err")"

submit() { # NAME N SHARD-ARGS... -- MERGE-ARGS...
    local name=$1 n=$2 out
    shift 2
    out=$(deploy/slurm/submit.sh -n "$n" -d "$w/$name" "$@") || fail "submit.sh ($name) failed"
    # "shards ID" then "merge ID"
    merge_job[$name]=$(echo "$out" | awk '$1 == "merge" { print $2 }')
    shard_job[$name]=$(echo "$out" | awk '$1 == "shards" { print $2 }')
    [[ ${merge_job[$name]} =~ ^[0-9]+$ ]] || fail "submit.sh ($name) printed no merge job id: $out"
    say "$name: shards job ${shard_job[$name]} (0-$((n - 1))), merge job ${merge_job[$name]}"
}
declare -A merge_job shard_job
submit simulate 4 "${sim_args[@]}" -- --format json --out "$w/simulate.merged.json"
submit sweep 4 "${sweep_args[@]}" -- --format csv
submit failing 2 simulate "$w/no-such-trace.csv" --horizon 1h -- --format json

job_state() {
    scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p' | head -n 1
}
# Waits for a job to end; prints its final state.
wait_job() { # ID
    local s
    for _ in $(seq 300); do
        s=$(job_state "$1")
        case $s in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE)
            echo "$s"
            return
            ;;
        esac
        sleep 1
    done
    echo "still ${s:-unknown} after 300 s"
}

passed=0
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    "$@" || fail "$what"
    say "ok: $what"
    passed=$((passed + 1))
}

merged() { # NAME SINGLE-OUTPUT MERGED-OUTPUT
    local name=$1 single=$2 merged=$3 s i
    s=$(wait_job "${merge_job[$name]}")
    check "$name: the merge job ${merge_job[$name]} ran to the end (COMPLETED; it is $s)" [ "$s" = COMPLETED ]
    for i in 0 1 2 3; do
        [ -f "$w/$name/part-$i-of-4.fpp" ] || fail "$name: no partial of shard $i/4"
    done
    check "$name: merged on Slurm = the single-machine run, byte for byte (cmp)" \
        cmp "$single" "$merged"
}
merged simulate "$w/simulate.single.json" "$w/simulate.merged.json"

s=$(wait_job "${merge_job[failing]}")
check "failing shards: Slurm cancelled the merge job before it ran (CANCELLED; it is $s)" [ "$s" = CANCELLED ]
check "failing shards: no merge output was written" test ! -e "$w/failing/merge-${merge_job[failing]}.out"
check "failing shards: each shard's log names the missing trace" \
    grep -q "no-such-trace.csv" "$w/failing/slurm-${shard_job[failing]}_0.out"

merged sweep "$w/sweep.single.csv" "$w/sweep/merge-${merge_job[sweep]}.out"

say "took $((SECONDS - started))s (of which installing Slurm ${install_s}s)"
echo "deploy_slurm: $passed passed, 0 failed"
