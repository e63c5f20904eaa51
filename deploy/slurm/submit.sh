#!/usr/bin/env bash
# Submits a sharded faasplan run to Slurm: an array job of N shards (shards.sbatch), then the
# merge (merge.sbatch), which starts only when every shard succeeded
# (--dependency=afterok:<array job id>; if a shard fails, Slurm cancels the merge).
#
#   deploy/slurm/submit.sh -n N -d PARTIALS_DIR [-s SBATCH_OPTION]... \
#       SHARD-ARGS... -- [MERGE-ARGS...]
#
#   deploy/slurm/submit.sh -n 4 -d /shared/run1 -s --partition=batch \
#       simulate workloads/multi-function.csv --horizon 1h -- --format json --out result.json
#
# -n N       the number of shards (the array is 0-(N-1))
# -d DIR     a directory every node sees (shared file system): the partials, the shards' logs
#            (slurm-JOBID_TASK.out) and the merge's stdout (merge-JOBID.out: the result, unless
#            --out names a file) and messages (merge-JOBID.err); use a fresh one per run
# -s OPTION  an sbatch option for both jobs (repeat it: -s --partition=batch -s --time=1:00:00)
# SHARD-ARGS the faasplan command of each shard (simulate ... --horizon D, or sweep ...)
# MERGE-ARGS faasplan merge's options (--format, --out, --report, --per-minute); relative paths
#            are relative to the current directory, like the trace's.
# FAASPLAN_BIN in the environment names the faasplan binary the jobs run (default: faasplan on
# the nodes' PATH); the jobs run deploy/entrypoint.sh from this checkout.
#
# Prints the two job ids (`shards JOBID`, `merge JOBID`); exit 2 on a usage error.
set -euo pipefail

die() {
    echo "submit.sh: error: $*" >&2
    exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=
dir=
sbatch_opts=()
while getopts "n:d:s:" opt; do
    case $opt in
    n) n=$OPTARG ;;
    d) dir=$OPTARG ;;
    s) sbatch_opts+=("$OPTARG") ;;
    *) die "usage: submit.sh -n N -d PARTIALS_DIR [-s SBATCH_OPTION]... SHARD-ARGS... -- [MERGE-ARGS...]" ;;
    esac
done
shift $((OPTIND - 1))
[[ $n =~ ^[1-9][0-9]{0,8}$ ]] || die "-n \"$n\": give the number of shards, a whole number >= 1"
[ -n "$dir" ] || die "-d: give the directory for the partials (on a file system every node sees)"

shard_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    shard_args+=("$1")
    shift
done
[ $# -gt 0 ] || die "no -- after the shard command: write SHARD-ARGS... -- [MERGE-ARGS...]"
shift
merge_args=("$@")
[ ${#shard_args[@]} -gt 0 ] || die "no shard command: give simulate TRACE --horizon D ... or sweep ..."

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export FAASPLAN_SHARDS=$n FAASPLAN_PARTIALS=$dir FAASPLAN_ENTRYPOINT=$here/../entrypoint.sh

# --parsable prints "jobid" or "jobid;cluster".
shards=$(sbatch --parsable --array="0-$((n - 1))" --output="$dir/slurm-%A_%a.out" \
    "${sbatch_opts[@]}" "$here/shards.sbatch" "${shard_args[@]}")
shards=${shards%%;*}
merge=$(sbatch --parsable --dependency="afterok:$shards" --kill-on-invalid-dep=yes \
    --output="$dir/merge-%j.out" --error="$dir/merge-%j.err" "${sbatch_opts[@]}" \
    "$here/merge.sbatch" "${merge_args[@]}")
merge=${merge%%;*}
echo "shards $shards"
echo "merge $merge"
