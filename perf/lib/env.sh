# Sourced by perf scripts that run the host placement: the router binary of
# the build being measured, a private socket directory (0700, removed on
# exit) so routers of other runs on this machine are never reused, and the
# MPI settings of these benchmarks: no single-copy mechanism (it needs ptrace
# rights between ranks), and MPI ranks that yield when idle, as buddy's do on
# an oversubscribed node.
#   source perf/lib/env.sh; perf_env "$BUILD_DIR"
perf_env() {
  local build_dir=$1
  export BUDDY_ROUTER_BIN="$build_dir/router/buddy-router"
  export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_mpi_yield_when_idle=1
  PERF_SOCKET_DIR=$(mktemp -d /tmp/buddy-perf.XXXXXX)
  chmod 700 "$PERF_SOCKET_DIR"
  trap 'rm -rf "$PERF_SOCKET_DIR"' EXIT
  export BUDDY_ROUTER_SOCKET="$PERF_SOCKET_DIR/router-{i}.sock"
}
