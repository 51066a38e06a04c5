#!/usr/bin/env bash
# Put the datasets from ../shared/data (beside the checkout) into gnnbook's cache, so CI loads them
# without network: Cora from shared/data/planetoid into the cache's planetoid/ folder, and the
# heterophilous graphs from shared/data/heterophilous into its heterophilous/ folder. The cache is
# $GNNBOOK_DATA, else ~/.cache/gnnbook (as in gnnbook.datasets.cache_dir).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${repo}/../shared/data"
cache="${GNNBOOK_DATA:-${HOME}/.cache/gnnbook}"

# seed <folder> <glob>: check the source's SHA256SUMS, then copy the matching files into the cache.
seed() {
    local source_dir="${shared}/$1" target_dir="${cache}/$1"
    if [[ ! -f "${source_dir}/SHA256SUMS" ]]; then
        echo "seed_data.sh: no SHA256SUMS in ${source_dir}" >&2
        exit 1
    fi
    # Check the source before copying; gnnbook checks again before it reads a file.
    (cd "${source_dir}" && sha256sum --check --quiet SHA256SUMS)
    mkdir -p "${target_dir}"
    # install, not cp: the shared files are read-only, and a read-only copy could not be overwritten next run.
    install -m 0644 "${source_dir}"/$2 "${target_dir}/"
    echo "seed_data.sh: $1 ($2) copied into ${target_dir}"
}

seed planetoid 'ind.cora.*'
seed heterophilous '*.npz'
