# Shell functions shared by scripts/bootstrap and scripts/uv (sourced from the repo root).

# A Python >= 3.12. The machine's default python3 is 3.11, where PyMC 5 / ArviZ 0.x would be
# the newest releases that install, so we look for a 3.12+ interpreter explicitly and refuse
# to fall back. $SRSBAYES_PYTHON wins when set.
find_python() {
    local want cand
    want=$(cat .python-version 2>/dev/null || echo 3.12)
    for cand in \
        "${SRSBAYES_PYTHON:-}" \
        "$(command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null)/versions/$want/bin/python3" \
        "/root/.pyenv/versions/$want/bin/python3" \
        "$(command -v python3.13 || true)" "$(command -v python3.12 || true)"; do
        [ -n "$cand" ] && [ -x "$cand" ] || continue
        if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    echo "srsbayes: no Python >= 3.12 found (set SRSBAYES_PYTHON=/path/to/python3.12)" >&2
    return 1
}

# Print the path of the uv named in scripts/uv-requirements.txt, installing it on first use
# into ${SRSBAYES_TOOLS:-~/.cache/srsbayes}/uv-X.Y.Z with pip --require-hashes (the hashes of
# every platform's wheel are in that file). $SRSBAYES_UV overrides it (any uv that can read
# uv.lock).
ensure_uv() {
    local want dir tmp py have
    if [ -n "${SRSBAYES_UV:-}" ]; then echo "$SRSBAYES_UV"; return 0; fi
    want=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' scripts/uv-requirements.txt)
    dir="${SRSBAYES_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/srsbayes}/uv-$want"
    have=$("$dir/bin/uv" --version 2>/dev/null || true)
    if [ "${have#uv }" != "${have}" ] && [ "$(echo "$have" | cut -d' ' -f2)" = "$want" ]; then
        echo "$dir/bin/uv"; return 0
    fi
    py=$(find_python) || return 1
    echo "srsbayes: installing uv $want into $dir" >&2
    mkdir -p "$(dirname "$dir")"
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    if ! "$py" -m pip install -qq --disable-pip-version-check --root-user-action=ignore \
            --no-deps --only-binary :all: --require-hashes --target "$tmp" \
            -r scripts/uv-requirements.txt >&2; then
        rm -rf "$tmp"
        echo "srsbayes: could not install uv $want with $py -m pip" >&2
        return 1
    fi
    # Another bootstrap may have got there first: keep whichever copy landed.
    rm -rf "$dir"
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
    echo "$dir/bin/uv"
}
