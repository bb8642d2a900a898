#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/TARGET/, not versioned) from the repository: its policies,
# golden cases, boundaries, example test files and the JSON bodies of fuzz/seeds/. The same seeds
# are what `cargo test` runs each target's checks on (crates/*/tests/fuzz_checks.rs). Files the
# fuzzer added to a corpus stay; seeds are rewritten.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/policy_parser corpus/boundary_parser corpus/testfile_loader corpus/json_requests
copy() { # copy SRC_DIR EXT PREFIX TARGET
  for f in "$1"/*."$2"; do cp "$f" "corpus/$4/$3$(basename "$f")"; done
}
copy ../data/policies policy global- policy_parser
copy ../data/policies/raw-seed policy raw- policy_parser
copy ../crates/warden-policy/tests/golden/accepted policy accepted- policy_parser
copy ../crates/warden-policy/tests/golden/rejected policy rejected- policy_parser
copy ../crates/warden-policy/tests/golden/boundaries boundary "" boundary_parser
copy ../examples yaml example- testfile_loader
copy ../crates/warden-cli/tests/fixtures yaml cli- testfile_loader
# `KIND BODY` lines become files `KIND\nBODY`, as the json_requests target reads them.
rm -f corpus/json_requests/seed-*
n=0
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  n=$((n + 1))
  printf '%s\n%s' "${line%% *}" "${line#* }" >"corpus/json_requests/seed-$n-${line%% *}"
done <seeds/json-requests.txt
for target in corpus/*/; do
  echo "$(basename "$target"): $(find "$target" -type f | wc -l) files"
done
