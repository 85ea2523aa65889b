# Shared helpers for integration tests (sourced).  Every launch is bounded by
# `timeout`, and every check prints what it expected and what it got.
set -euo pipefail

BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the meson build directory}
APPS="$BUILD_DIR/apps"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Quiet, deterministic MPI on a small shared machine: no busy-poll yield storms,
# no network probing beyond loopback.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_mpi_yield_when_idle=1

# run_mpi SECONDS NPROCS CMD...: runs CMD under mpirun, bounded.
run_mpi() {
    local limit=$1 n=$2
    shift 2
    timeout --kill-after=5 "$limit" mpirun -n "$n" --oversubscribe --bind-to none "$@"
}

# json_field LINE KEY: the value of KEY in a one-line JSON object (numbers, true/false, strings).
json_field() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_verified JSONLINE DESCRIPTION
expect_verified() {
    local v
    v=$(json_field "$1" verified) || fail "$2: no JSON result line"
    [[ $v == true ]] || fail "$2: verified=$v"
    echo "ok: $2"
}
