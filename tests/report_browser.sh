#!/usr/bin/env bash
# Opens a `--report` index.html in headless Chromium (Debian's `chromium` package), takes a
# screenshot and checks that it is a real page: the PNG exists, is large, and is not one flat
# colour. Run by .ci/run when chromium is installed; by hand: bash tests/report_browser.sh
#
# The report is written with the debug build of faasplan (cargo builds it if needed) for the
# shipped example trace, into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then
        browser="$b"
        break
    fi
done
if [ -z "$browser" ]; then
    echo "report_browser: chromium is not installed; skipped"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --quiet --bin faasplan
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
faasplan="${target_dir:-target}/debug/faasplan"

"$faasplan" simulate workloads/multi-function.csv --seed 0 --report "$work/report" >/dev/null 2>"$work/faasplan.log"
test -s "$work/report/index.html"

shot="$work/screenshot.png"
# No network, no first-run or background activity: the page must render from local files.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars \
    --screenshot="$shot" --window-size=1600,1200 \
    "file://$work/report/index.html" >"$work/chromium.log" 2>&1 || {
    echo "report_browser: chromium failed:"
    tail -20 "$work/chromium.log"
    exit 1
}

if [ ! -s "$shot" ]; then
    echo "report_browser: no screenshot written"
    tail -20 "$work/chromium.log"
    exit 1
fi

# Not blank: a blank 1600x1200 page compresses to a few kB; text, tables and the chart images
# take far more. Then check the pixels themselves: decode with python3 if present.
size=$(wc -c <"$shot")
if [ "$size" -lt 30000 ]; then
    echo "report_browser: the screenshot is only $size bytes: the page looks blank"
    exit 1
fi
if command -v python3 >/dev/null 2>&1; then
    python3 - "$shot" <<'EOF'
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    (n,) = struct.unpack(">I", data[pos : pos + 4])
    kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
    pos += 12 + n
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8, f"bit depth {depth}"
    elif kind == b"IDAT":
        idat += body
bpp = {2: 3, 6: 4}[ctype]
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
colours, dark = set(), 0
p = 0
for y in range(height):
    f = raw[p]
    line = bytearray(raw[p + 1 : p + 1 + stride])
    p += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1:
            line[x] = (line[x] + a) & 255
        elif f == 2:
            line[x] = (line[x] + b) & 255
        elif f == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, width, 4):
            px = bytes(line[x * bpp : x * bpp + 3])
            colours.add(px)
            if sum(px) < 300:
                dark += 1
print(f"report_browser: screenshot {width}x{height}, {len(colours)} colours, {dark} dark samples")
assert (width, height) == (1600, 1200), "unexpected screenshot size"
assert len(colours) >= 50, "too few colours: the page looks blank"
assert dark >= 200, "almost no dark pixels: no text rendered"
EOF
fi
echo "report_browser: ok ($browser rendered index.html, screenshot $size bytes)"
