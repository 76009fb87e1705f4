#!/usr/bin/env bash
# Writes the seed corpora of the decoder targets from the WAMP specification's
# test vectors: every JSON and MessagePack sample of `singlemessage/` becomes
# one file in corpus/decode_json or corpus/decode_msgpack, and every raw
# validation message (`wmsg`) one more JSON file. Files are named by their
# SHA-1, as libFuzzer names corpus entries, so running this again changes
# nothing. The output is committed; rerun when the vectors change.
#
#   fuzz/seed-corpus.sh [VECTORS_DIR]    (needs jq, xxd and sha1sum)
set -euo pipefail
cd "$(dirname "$0")"
vectors=${1:-../../shared/wamp-testsuite/singlemessage}
[ -d "$vectors" ] || { echo "no test vectors at $vectors" >&2; exit 1; }

# Writes stdin (bytes) into the corpus folder $1 under its SHA-1.
put() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    mv "$tmp" "$1/$(sha1sum <"$tmp" | cut -d' ' -f1)"
}

for target in decode_json decode_msgpack; do
    rm -rf "corpus/$target"
    mkdir -p "corpus/$target"
done

find "$vectors" -name '*.json' | sort | while read -r file; do
    for serializer in json msgpack; do
        jq -r --arg s "$serializer" '.samples[] | .serializers[$s] // [] | .[] | .bytes_hex' "$file" |
            while read -r hex; do
                printf '%s' "$hex" | xxd -r -p | put "corpus/decode_$serializer"
            done
    done
    jq -c '.samples[] | select(has("wmsg")) | .wmsg' "$file" |
        while read -r wmsg; do
            printf '%s' "$wmsg" | put corpus/decode_json
        done
done
echo "decode_json: $(ls corpus/decode_json | wc -l) seeds, decode_msgpack: $(ls corpus/decode_msgpack | wc -l) seeds"
