#!/usr/bin/env bash
# Shrink the working tree that a device call copies (64 MiB at most) to what training there
# reads: the code, the attr weights (used inside the inpainter's losses) and the carried data.
#   tools/device/tree.sh hide      untrack the other weights, the ONNX files, eval/ and docs/images and
#                                  ignore them in .git/info/exclude (the files stay on disk)
#   tools/device/tree.sh restore   track them again exactly as before
# Never commit between the two. `git status` shows the hidden files as staged deletions.
set -eu
cd "$(git rev-parse --show-toplevel)"
saved=.git/device-hidden
case "${1:-}" in
hide)
    [ -e "$saved" ] && { echo "already hidden (see $saved); restore first" >&2; exit 1; }
    git ls-files src/unmask/weights docs/images eval |
        grep -v -e '/attr\.safetensors$' -e '/attr\.json$' -e '/MODEL_CARD\.md$' >"$saved"
    xargs -a "$saved" git rm -q --cached
    sed 's|^|/|' "$saved" >>.git/info/exclude
    ;;
restore)
    [ -e "$saved" ] || { echo "nothing hidden" >&2; exit 1; }
    xargs -a "$saved" git reset -q HEAD --
    grep -vxF -f <(sed 's|^|/|' "$saved") .git/info/exclude >"$saved.exclude" || true
    mv "$saved.exclude" .git/info/exclude
    rm "$saved"
    ;;
*)
    echo "usage: $0 hide|restore" >&2
    exit 2
    ;;
esac
echo "tracked and not ignored now: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes"
