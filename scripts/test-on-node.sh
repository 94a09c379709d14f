#!/usr/bin/env bash
# Runs `npm test` on another Node.js release (22, 24, 24.22.3, …) without touching this checkout or its install.
#
#   scripts/test-on-node.sh 24                # newest 24.x; `npm test` in a copy of this checkout
#   scripts/test-on-node.sh 22 -- <args>      # extra arguments go to `npm test` (i.e. to Vitest)
#
# 1. Node comes from the npm registry as the package node-<platform>-<arch> (a full Node build, headers included),
#    unpacked once into the cache folder.
# 2. This checkout, working-tree changes and node_modules included (.git, data/ and coverage/ left out), is copied to
#    <cache>/checkout-<major>; every run replaces the copy. Native addons with a binding.gyp (better-sqlite3 uses
#    V8's API, so its build is per Node major) are rebuilt there against that Node's headers; the build is kept in
#    the cache per addon version and Node ABI, so a later run copies it back instead of compiling. N-API and
#    prebuilt addons (@node-rs/argon2, esbuild, rollup) work on every Node as they are.
# 3. `npm test` runs in the copy with that Node first on PATH; its output is also written to <cache>/node-<major>.log.
#
# Needs: npm (reaching its registry), a C++ toolchain for the first build per Node ABI, and what `npm test` needs
# (PostgreSQL, Redis, Chromium). Cache folder: $JOT_NODE_CACHE, else ~/.cache/jot-node. Not part of `npm test`.
set -euo pipefail

usage() {
  echo "usage: scripts/test-on-node.sh <major|version> [-- npm-test-args...]" >&2
  exit 2
}
[[ $# -ge 1 && $1 =~ ^[0-9]+(\.[0-9]+\.[0-9]+)?$ ]] || usage
wanted=$1
shift
[[ ${1-} == -- ]] && shift

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${JOT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jot-node}
case "$cache" in "$repo" | "$repo"/*)
  echo "test-on-node: the cache folder ($cache) must be outside the checkout" >&2
  exit 2
  ;;
esac
mkdir -p "$cache"

platform=$(node -p 'process.platform + "-" + process.arch')
pkg=node-$platform

# The exact version: as given, else the newest of that major the registry has (else the newest one already cached).
if [[ $wanted == *.* ]]; then
  version=$wanted
else
  version=$(npm view "$pkg@$wanted" version --json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=[].concat(JSON.parse(s));
      v.sort((a,b)=>{const x=a.split(".").map(Number),y=b.split(".").map(Number);return x[0]-y[0]||x[1]-y[1]||x[2]-y[2]});
      console.log(v.at(-1)??"")}catch{console.log("")}})') || version=
  if [[ -z $version ]]; then
    version=$(find "$cache" -maxdepth 1 -type d -name "node-v$wanted.*" -printf '%f\n' | sed 's/^node-v//' | sort -V | tail -n 1)
  fi
  [[ -n $version ]] || {
    echo "test-on-node: no $pkg@$wanted on the registry nor in $cache" >&2
    exit 1
  }
fi
major=${version%%.*}
nodehome=$cache/node-v$version

if [[ ! -x $nodehome/bin/node ]]; then
  echo "test-on-node: fetching $pkg@$version from the npm registry"
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null && tar xzf ./*.tgz)
  [[ -x $tmp/package/bin/node && -d $tmp/package/include/node ]] || {
    echo "test-on-node: $pkg@$version has no bin/node or include/node" >&2
    exit 1
  }
  rm -rf "$nodehome"
  mv "$tmp/package" "$nodehome"
fi
echo "test-on-node: $("$nodehome/bin/node" -v) at $nodehome"

copy=$cache/checkout-$major
echo "test-on-node: copying $repo to $copy"
rm -rf "$copy"
mkdir -p "$copy"
tar -C "$repo" --exclude=./.git --exclude=./data --exclude=./coverage -cf - . | tar -C "$copy" -xf -

export PATH="$nodehome/bin:$PATH"
# node-gyp must not download headers: the package ships them.
export npm_config_nodedir=$nodehome
abi=$(node -p process.versions.modules)

cd "$copy"
for gyp in node_modules/*/binding.gyp node_modules/@*/*/binding.gyp; do
  [[ -e $gyp ]] || continue
  dir=${gyp%/binding.gyp}
  name=${dir#node_modules/}
  addon_version=$(node -p "require('./$dir/package.json').version")
  kept=$cache/addons/${name//\//+}-$addon_version-abi$abi-$platform
  if [[ -d $kept ]]; then
    echo "test-on-node: $name $addon_version for ABI $abi from the cache"
    rm -rf "$dir/build"
    cp -a "$kept" "$dir/build"
  else
    echo "test-on-node: rebuilding $name $addon_version for ABI $abi (log: $cache/rebuild.log)"
    if ! npm rebuild "$name" --foreground-scripts >"$cache/rebuild.log" 2>&1; then
      tail -n 40 "$cache/rebuild.log" >&2
      exit 1
    fi
    mkdir -p "$cache/addons"
    rm -rf "$kept"
    cp -a "$dir/build" "$kept"
  fi
done
if [[ -d node_modules/better-sqlite3 ]]; then
  node -e "new (require('better-sqlite3'))(':memory:').close()"
fi

log=$cache/node-$major.log
echo "test-on-node: npm test on $(node -v) in $copy (log: $log)"
start=$(date +%s)
set +e
npm test -- "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "test-on-node: npm test on $(node -v) exited $status after $(($(date +%s) - start)) s" | tee -a "$log"
exit "$status"
