#!/bin/sh
# Lists every policy file of a policy folder in the folder's kustomization.yaml, so that the
# ConfigMap kustomize generates from it holds them all: kustomize takes generator files one by
# one, by name (no glob, no directory). Run it after adding or removing a policy file
# (`meshwarden learn --out k8s/base/policies/learned.yaml`), then `kubectl apply -k`; in CI,
# `--check` fails when a list is stale.
#
# usage: k8s/sync-policies.sh [--check] POLICY_DIR...
#   e.g. k8s/sync-policies.sh k8s/base/policies k8s/overlays/sidecar/policies
#
# The folder's kustomization.yaml has one configMapGenerator; everything after its
# `    files:` line is rewritten: *.yaml, *.yml and *.json of the folder, in byte order.
set -eu

check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
if [ $# -eq 0 ]; then
  echo "usage: $0 [--check] POLICY_DIR..." >&2
  exit 2
fi

# The policy files of a folder, one name a line (kustomize's own file and hidden files aside).
policy_files() {
  find "$1" -mindepth 1 -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) \
    ! -name '.*' ! -name 'kustomization.yaml' ! -name 'kustomization.yml' | sed 's|.*/||' | LC_ALL=C sort
}

status=0
for dir in "$@"; do
  dir=${dir%/}
  k="$dir/kustomization.yaml"
  if [ ! -f "$k" ] || ! grep -q '^    files:$' "$k"; then
    echo "$k: needs a configMapGenerator with a '    files:' line to fill (copy k8s/base/policies/kustomization.yaml)" >&2
    exit 2
  fi
  nested=$(find "$dir" -mindepth 2 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) ! -path '*/.*' | head -n 1)
  if [ -n "$nested" ]; then
    echo "$nested: a ConfigMap holds no folders, so this file would not be deployed: move it into $dir" >&2
    exit 1
  fi
  bad=$(policy_files "$dir" | grep -v '^[-._a-zA-Z0-9]*$' || true)
  if [ -n "$bad" ]; then
    echo "$dir/$bad: not a valid ConfigMap key (letters, digits, '-', '_', '.'): rename it" >&2
    exit 1
  fi
  wanted=$(sed '/^    files:$/q' "$k"; policy_files "$dir" | sed 's/^/      - /')
  if [ "$wanted" = "$(cat "$k")" ]; then
    continue
  elif [ "$check" = true ]; then
    echo "$k: does not list the policy files of $dir: run k8s/sync-policies.sh $dir" >&2
    status=1
  else
    printf '%s\n' "$wanted" > "$k"
    echo "$k: $(policy_files "$dir" | wc -l | tr -d ' ') policy files"
  fi
done
exit $status
