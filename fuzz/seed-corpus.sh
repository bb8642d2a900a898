#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's policies and golden cases.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/policy_parser corpus/boundary_parser
copy() { # copy SRC_DIR EXT PREFIX DEST
  for f in "$1"/*."$2"; do cp "$f" "corpus/$4/$3$(basename "$f")"; done
}
copy ../data/policies policy global- policy_parser
copy ../data/policies/raw-seed policy raw- policy_parser
copy ../crates/warden-policy/tests/golden/accepted policy accepted- policy_parser
copy ../crates/warden-policy/tests/golden/rejected policy rejected- policy_parser
copy ../crates/warden-policy/tests/golden/boundaries boundary "" boundary_parser
