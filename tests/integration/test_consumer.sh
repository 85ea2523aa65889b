#!/usr/bin/env bash
# buddy used from outside its tree, the three ways the README gives: the build
# tree is installed into a staging prefix, then tests/consumer/ is built with
# pkg-config on a plain g++ command line, with CMake (find_package), and with
# buddy as a meson subproject.  Each program runs at 2 ranks under inproc and
# host and must report every message handled with its checksum intact; under
# host the buddy-router the rank started must be the installed one (its log
# names the file it runs).
source "$(dirname "$0")/lib.sh"

SOURCE_DIR=${SOURCE_DIR:?SOURCE_DIR must name the buddy source tree}
CONSUMER="$SOURCE_DIR/tests/consumer"
WORK=$(private_dir consumer)
SOCKDIR="$WORK/sockets"
mkdir -m 700 "$SOCKDIR"
cleanup() {
    local p
    for p in $(pgrep -f -- "--socket $SOCKDIR/" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
# Nothing from the build tree may be found by accident: no BUDDY_ROUTER_BIN,
# and PATH is extended per case with the directory under test only.
unset BUDDY_ROUTER_BIN BUDDY_PLACEMENT BUDDY_ROUTER_SOCKET
BASE_PATH=$PATH

option() {  # NAME: a build option of $BUILD_DIR
    meson introspect "$BUILD_DIR" --buildoptions |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix)
libdir=$(option libdir)
bindir=$(option bindir)
[[ $libdir == /* ]] || libdir="$prefix/$libdir"
[[ $bindir == /* ]] || bindir="$prefix/$bindir"

# 1. Install what the build tree built (no rebuild) into a staging prefix.
STAGE="$WORK/stage"
timeout 120 meson install -C "$BUILD_DIR" --destdir "$STAGE" --no-rebuild --quiet >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; fail "meson install --destdir $STAGE: exit status $?"; }
ROOT="$STAGE$prefix"
for f in "$STAGE$bindir/buddy-router" "$STAGE$bindir/buddyrun" "$ROOT/include/buddy/comm.hpp" \
         "$ROOT/include/buddy/detail/record.hpp" "$STAGE$libdir/pkgconfig/buddy.pc" \
         "$STAGE$libdir/cmake/buddy/buddyConfig.cmake" "$STAGE$libdir/cmake/buddy/buddyConfigVersion.cmake"; do
    [[ -e $f ]] || fail "meson install did not install $f"
done
ls "$STAGE$libdir"/libbuddy.* >/dev/null 2>&1 || fail "meson install did not install libbuddy into $STAGE$libdir"
echo "ok: meson install staged headers, libbuddy, buddy.pc, the CMake package, buddy-router and buddyrun"
# The systemd unit for a router service (docs/dpu.md) names the installed router.
unit="$ROOT/lib/systemd/system/buddy-router.service"
[[ -f $unit ]] || fail "meson install did not install $unit"
grep -q "^ExecStart=$bindir/buddy-router --listen " "$unit" || fail "$unit does not start $bindir/buddy-router --listen: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null; then
    # verify wants the program at the path the unit names: a copy with the staging path.
    sed "s|^ExecStart=$bindir/|ExecStart=$STAGE$bindir/|" "$unit" >"$WORK/buddy-router.service"
    timeout 30 systemd-analyze verify "$WORK/buddy-router.service" >"$WORK/verify.log" 2>&1 ||
        fail "systemd-analyze verify buddy-router.service: $(cat "$WORK/verify.log")"
    echo "ok: the installed buddy-router.service passes systemd-analyze verify"
fi

# The public headers alone (no lib/) compile, with MPI.
printf '#include <buddy/comm.hpp>\nint main() {}\n' |
    timeout 120 g++ -std=c++20 -fsyntax-only -I"$ROOT/include" $(pkg-config --cflags ompi) -DOMPI_SKIP_MPICXX=1 -x c++ - ||
    fail "<buddy/comm.hpp> does not compile with only the installed include directory and MPI"
echo "ok: the installed <buddy/comm.hpp> is self-contained"

# run_case WHAT EXE ROUTER_DIR [ON_PATH]: both placements at 2 ranks, with
# ON_PATH (if given) in front of PATH.  Under host, the router the rank
# started must be ROUTER_DIR/buddy-router.
run_case() {
    local what=$1 exe=$2 router_dir=$3 on_path=${4:-} placement out line log want
    want=$(realpath "$router_dir/buddy-router")
    for placement in inproc host; do
        log="$SOCKDIR/$what-$placement-0.sock.log"
        out=$(PATH="${on_path:+$on_path:}$BASE_PATH" BUDDY_PLACEMENT=$placement BUDDY_VERBOSE=1 \
              BUDDY_ROUTER_SOCKET="$SOCKDIR/$what-$placement-{i}.sock" \
              run_mpi 60 2 "$exe" 20000 2>"$WORK/stderr") ||
            { cat "$WORK/stderr" >&2; fail "$what, $placement: exit status $?: $out"; }
        line=$(grep '^consumer:' <<<"$out") || fail "$what, $placement: no result line in: $out"
        [[ $line == "consumer: placement=$placement ranks=2 handled=160000 expected=160000 checksum_errors=0 OK" ]] ||
            fail "$what, $placement: $line"
        if [[ $placement == host ]]; then
            [[ -f $log ]] || fail "$what, host: no router log $log (was a router started?)"
            grep -qxF "buddy-router: running $want" "$log" ||
                fail "$what, host: the router started was not $want: $(head -n 1 "$log")"
            echo "ok: $what, host: the rank started $want"
        fi
        echo "ok: $what, $placement: $line"
    done
}

# 2. pkg-config, plain g++ command line.  A buddy.pc that is not relocatable
# (an older build directory) names the final prefix, not the staging one: a
# copy with the staging prefix stands in for it.
pcdir="$STAGE$libdir/pkgconfig"
if ! grep -q '^prefix=\${pcfiledir}' "$pcdir/buddy.pc"; then
    mkdir "$WORK/pc"
    sed "s|^prefix=.*|prefix=$ROOT|" "$pcdir/buddy.pc" >"$WORK/pc/buddy.pc"
    pcdir="$WORK/pc"
fi
mkdir "$WORK/by-pkgconfig"
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs buddy) || fail "pkg-config --cflags --libs buddy failed"
[[ $flags == *-DOMPI_SKIP_MPICXX=1* ]] || fail "buddy.pc: Cflags lack -DOMPI_SKIP_MPICXX=1: $flags"
# shellcheck disable=SC2086  # the flags are words
timeout 180 g++ -std=c++20 -O2 -o "$WORK/by-pkgconfig/consumer" "$CONSUMER/consumer.cpp" $flags ||
    fail "g++ consumer.cpp \$(pkg-config --cflags --libs buddy) failed"
echo "ok: built with g++ \$(pkg-config --cflags --libs buddy)"
run_case pkgconfig "$WORK/by-pkgconfig/consumer" "$STAGE$bindir" "$STAGE$bindir"

# 3. CMake: find_package(buddy 0.1 CONFIG) from the staging prefix.
timeout 120 cmake -S "$CONSUMER" -B "$WORK/by-cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$ROOT" >"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log"; fail "cmake configure of tests/consumer failed"; }
timeout 180 cmake --build "$WORK/by-cmake" >>"$WORK/cmake.log" 2>&1 ||
    { cat "$WORK/cmake.log"; fail "cmake --build of tests/consumer failed"; }
echo "ok: built with CMake find_package(buddy) -> buddy::buddy"
run_case cmake "$WORK/by-cmake/consumer" "$STAGE$bindir" "$STAGE$bindir"

# A version the package does not satisfy is refused.
mkdir "$WORK/cmake-version"
sed 's/find_package(buddy 0.1 /find_package(buddy 99.0 /' "$CONSUMER/CMakeLists.txt" >"$WORK/cmake-version/CMakeLists.txt"
cp "$CONSUMER/consumer.cpp" "$WORK/cmake-version/"
if timeout 120 cmake -S "$WORK/cmake-version" -B "$WORK/cmake-version/build" -DCMAKE_PREFIX_PATH="$ROOT" >/dev/null 2>&1; then
    fail "find_package(buddy 99.0) accepted buddy $(meson introspect "$BUILD_DIR" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
fi
echo "ok: find_package(buddy 99.0) is refused"

# 4. meson subproject: subprojects/buddy links to this source tree; the
# program and buddy's executables install together, so the rank finds the
# router next to itself.  Unoptimised and without debug info (buildtype
# plain): only correctness is checked here.
SUB="$WORK/by-subproject"
mkdir -p "$SUB/subprojects"
cp "$CONSUMER/meson.build" "$CONSUMER/consumer.cpp" "$SUB/"
ln -s "$SOURCE_DIR" "$SUB/subprojects/buddy"
timeout 120 meson setup "$SUB/build" "$SUB" --force-fallback-for=buddy -Dbuildtype=plain --prefix=/opt/consumer \
      >"$WORK/subproject.log" 2>&1 ||
    { cat "$WORK/subproject.log"; fail "meson setup of tests/consumer with subprojects/buddy failed"; }
timeout 600 meson compile -C "$SUB/build" >>"$WORK/subproject.log" 2>&1 ||
    { cat "$WORK/subproject.log"; fail "meson compile of tests/consumer with subprojects/buddy failed"; }
built=$(find "$SUB/build/subprojects/buddy" -name '*.p' -prune -o -type f -executable ! -name '*.so*' -print | sed "s|$SUB/build/subprojects/buddy/||" | sort | tr '\n' ' ')
[[ $built == "router/buddy-router router/buddyrun " ]] ||
    fail "as a subproject buddy built more (or less) than buddy-router and buddyrun: $built"
# Its static libraries are libbuddy and its parts (lib/), and the router's core:
# none of buddy's tests' helpers (doctest's main was one).
extra_libs=$(find "$SUB/build/subprojects/buddy" -name '*.p' -prune -o -type f -name '*.a' -print |
             sed "s|$SUB/build/subprojects/buddy/||" | grep -Ev '^(lib/([a-z_]+/)*libbuddy(_[a-z_]+)?\.a|router/libbuddy_router_core\.a)$' |
             sort | tr '\n' ' ' || true)
[[ -z $extra_libs ]] || fail "as a subproject buddy built libraries a user's program does not link: $extra_libs"
echo "ok: as a subproject buddy builds libbuddy, buddy-router and buddyrun only"
timeout 120 meson install -C "$SUB/build" --destdir "$SUB/stage" --no-rebuild --quiet >>"$WORK/subproject.log" 2>&1 ||
    { cat "$WORK/subproject.log"; fail "meson install of the consumer project failed"; }
sub_bin=$(find "$SUB/stage" -type f -name consumer -path '*/bin/*')
[[ -x $sub_bin ]] || fail "the consumer project installed no bin/consumer"
# Its router lies next to it: PATH gets nothing extra.
run_case subproject "$sub_bin" "$(dirname "$sub_bin")"
