# bench/section.sh - sourced by the benchmarks: put_section writes one
# section of docs/BENCHMARKS.md.
#
# put_section OUT FILE: FILE holds a section, its first line its "## "
# title. A section of that title in OUT is replaced in place, up to the
# next one, so that running a benchmark again leaves one set of figures;
# a new title is appended after the rest.
put_section() {
    ps_title=$(head -n 1 "$2")
    if grep -qxF "$ps_title" "$1"; then
        awk -v title="$ps_title" -v file="$2" '
            $0 == title { while ((getline l < file) > 0) print l; skip = 1; next }
            skip && /^## / { skip = 0; print "" }
            !skip { print }' "$1" > "$2.out"
        cp "$2.out" "$1"
        rm -f "$2.out"
        echo "== replaced its section of $1"
    else
        { echo; cat "$2"; } >> "$1"
        echo "== appended to $1"
    fi
}
