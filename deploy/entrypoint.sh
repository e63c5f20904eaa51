#!/usr/bin/env bash
# faasplan on a cluster: runs this task's shard of a sharded run, or merges the shards' partials.
# The container's entrypoint (deploy/Containerfile) and the Slurm scripts' (deploy/slurm/) step.
#
#   entrypoint.sh shard simulate TRACE --horizon 1d [settings...]
#   entrypoint.sh shard sweep TRACE [settings...]
#       runs `faasplan ARGS... --shard I/N --partial $FAASPLAN_PARTIALS/part-I-of-N.fpp`
#   entrypoint.sh merge [--format F] [--out PATH] [--report DIR] [--per-minute PATH]
#       runs `faasplan merge part-0-of-N.fpp ... part-(N-1)-of-N.fpp [options]` once all N
#       partials are in $FAASPLAN_PARTIALS
#   entrypoint.sh ARGS...
#       any other faasplan command, as is (`entrypoint.sh offerings`)
#
# Environment:
#   FAASPLAN_SHARDS       N, the number of shards (required by `shard` and `merge`). Not taken
#                         from SLURM_ARRAY_TASK_COUNT: rerunning one failed task (`--array=3`)
#                         would then cut the run differently.
#   JOB_COMPLETION_INDEX  I, set by a Kubernetes Indexed Job (read first)
#   SLURM_ARRAY_TASK_ID   I, set by a Slurm array job (read when JOB_COMPLETION_INDEX is unset)
#   FAASPLAN_PARTIALS     the directory, shared by every task, that holds the partial files
#   FAASPLAN_BIN          the faasplan binary (default: `faasplan` on PATH)
#
# Exit status: faasplan's own (0 success, 2 error, 1 a check that failed), or 2 when the index,
# the count, the partials directory or a partial is missing or wrong.
set -euo pipefail
# A `die` inside $(...) must stop the function that called it, too.
shopt -s inherit_errexit

bin=${FAASPLAN_BIN:-faasplan}

die() {
    echo "faasplan-entrypoint: error: $*" >&2
    exit 2
}

# A decimal count or index as written by the engine: digits only, at most 9 of them (bash's
# arithmetic would read a leading 0 as octal and wrap past 2^63; 10# and the length cap avoid
# both).
number() { # NAME VALUE
    [[ $2 =~ ^[0-9]{1,9}$ ]] || die "$1=\"$2\" is not a number (expected digits, like 0, 1, 2)"
    echo $((10#$2))
}

shard_count() {
    [ -n "${FAASPLAN_SHARDS:-}" ] || die "FAASPLAN_SHARDS is not set: set it to the number of shards N (the Job's completions, the Slurm array's size)"
    local n
    n=$(number FAASPLAN_SHARDS "$FAASPLAN_SHARDS")
    [ "$n" -ge 1 ] || die "FAASPLAN_SHARDS=$FAASPLAN_SHARDS: the number of shards must be at least 1"
    echo "$n"
}

partials_dir() {
    [ -n "${FAASPLAN_PARTIALS:-}" ] || die "FAASPLAN_PARTIALS is not set: set it to the directory, shared by every task, that holds the partial files"
    [ -d "$FAASPLAN_PARTIALS" ] || die "FAASPLAN_PARTIALS=$FAASPLAN_PARTIALS is not a directory (is the shared volume mounted on this node?)"
    echo "$FAASPLAN_PARTIALS"
}

part_file() { # DIR I N
    echo "$1/part-$2-of-$3.fpp"
}

shard() {
    [ $# -ge 1 ] || die "shard: give the faasplan command to shard (simulate TRACE --horizon 1d ..., or sweep ...)"
    case $1 in
    simulate | sweep) ;;
    *) die "shard: only simulate and sweep run in shards, not \"$1\"" ;;
    esac
    local n var raw i dir
    n=$(shard_count)
    if [ -n "${JOB_COMPLETION_INDEX+x}" ]; then
        var=JOB_COMPLETION_INDEX
    elif [ -n "${SLURM_ARRAY_TASK_ID+x}" ]; then
        var=SLURM_ARRAY_TASK_ID
    else
        die "no shard index: neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (a Slurm array job) is set"
    fi
    raw=${!var}
    i=$(number "$var" "$raw")
    [ "$i" -lt "$n" ] || die "$var=$raw is out of range: FAASPLAN_SHARDS=$n has the shards 0 .. $((n - 1))"
    dir=$(partials_dir)
    echo "faasplan-entrypoint: shard $i/$n ($var=$raw) -> $(part_file "$dir" "$i" "$n")" >&2
    exec "$bin" "$@" --shard "$i/$n" --partial "$(part_file "$dir" "$i" "$n")"
}

merge() {
    local n dir i f
    local parts=() missing=()
    n=$(shard_count)
    dir=$(partials_dir)
    for ((i = 0; i < n; i++)); do
        f=$(part_file "$dir" "$i" "$n")
        parts+=("$f")
        [ -f "$f" ] || missing+=("$i")
    done
    [ ${#missing[@]} -eq 0 ] || die "merge: ${#missing[@]} of $n partials are missing in $dir (shards ${missing[*]}): did those tasks fail?"
    exec "$bin" merge "${parts[@]}" "$@"
}

case ${1:-} in
shard)
    shift
    shard "$@"
    ;;
merge)
    shift
    merge "$@"
    ;;
"") die "usage: entrypoint.sh shard simulate|sweep ARGS... | entrypoint.sh merge [OPTIONS] | entrypoint.sh FAASPLAN-ARGS..." ;;
*) exec "$bin" "$@" ;;
esac
