#!/usr/bin/env bash
# Put the Cora files from ../shared/data/planetoid (beside the checkout) into gnnbook's cache, so
# CI loads Cora without network. The cache is $GNNBOOK_DATA, else ~/.cache/gnnbook (as in
# gnnbook.datasets.cache_dir); the files go into its planetoid/ folder.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="${repo}/../shared/data/planetoid"
target_dir="${GNNBOOK_DATA:-${HOME}/.cache/gnnbook}/planetoid"

if [[ ! -f "${source_dir}/SHA256SUMS" ]]; then
    echo "seed_data.sh: no Cora files in ${source_dir}" >&2
    exit 1
fi
# Check the source before copying; gnnbook checks again before it reads a file.
(cd "${source_dir}" && sha256sum --check --quiet SHA256SUMS)
mkdir -p "${target_dir}"
# install, not cp: the shared files are read-only, and a read-only copy could not be overwritten next run.
install -m 0644 "${source_dir}"/ind.cora.* "${target_dir}/"
echo "seed_data.sh: Cora copied into ${target_dir}"
