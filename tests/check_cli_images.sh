#!/bin/sh
# check_cli_images.sh - `reel import` of image sequences (a %0Nd pattern, a glob, a directory),
# many videos named by --name templates, --fps/--start/--duration/--every/--scale W:-1, and the
# one-line usage errors for bad values (issue 20).
. "$(dirname "$0")/testlib.sh"
testlib_init cliimages

ff="ffmpeg -nostdin -v error -y"
mkdir -p "$dir/png" "$dir/jpg" "$dir/empty" "$dir/cam1" "$dir/cam2" || exit 1
$ff -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 12 "$dir/png/img_%02d.png" || exit 1
$ff -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 12 -start_number 1 "$dir/jpg/f%d.jpg" ||
    exit 1
$ff -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 20 "$dir/cam1/walk.mp4" || exit 1
cp "$dir/cam1/walk.mp4" "$dir/cam2/walk.mp4"
S="$dir/s.reel"

# a pattern: every frame as ffmpeg decodes it; again: nothing to do
expect 0 "import a %02d pattern" "$reel" import "$S" "$dir/png/img_%02d.png" --sequence p
contains "$dir/err" "12 frames 64x48 rgb24" "pattern summary"
a=$("$reel" cat "$S" p | md5sum)
b=$(ffmpeg -nostdin -v error -i "$dir/png/img_%02d.png" -f rawvideo -pix_fmt rgb24 - | md5sum)
same "$a" "$b" "pattern frames are ffmpeg's"
expect 0 "the same again" "$reel" import "$S" "$dir/png/img_%02d.png" --sequence p
contains "$dir/err" "already imported" "the same again does nothing"
# a glob in natural order (f2 before f10), native pixels: ffmpeg's %d order, bit-exact
expect 0 "import a glob" "$reel" import "$S" "$dir/jpg/*.jpg" --pix-fmt native --sequence j
a=$("$reel" cat "$S" j | md5sum)
b=$(ffmpeg -nostdin -v error -start_number 1 -i "$dir/jpg/f%d.jpg" -f rawvideo - | md5sum)
same "$a" "$b" "glob frames are ffmpeg's, in natural order"
# a directory, named after it; --every and --fps recorded: other values are another import
expect 0 "import a directory" "$reel" import "$S" "$dir/png" --every 3 --fps 30000/1001 --json
contains "$dir/out" '"frames": 4' "every 3rd of 12"
expect 0 "info of the directory's sequence" "$reel" info "$S" png
expect 1 "other --every" "$reel" import "$S" "$dir/png" --every 2
contains "$dir/err" "the same file with other options" "other options named"
expect 0 "--scale 32:-1 keeps the aspect" "$reel" import "$S" "$dir/png" --scale 32:-1 \
    --sequence half --start 0.2 --duration 0.2
contains "$dir/err" "5 frames 32x24" "a window of 5 frames at 32x24"

# many videos, names from a template; a template giving two one name: nothing imported
expect 2 "--name collision" "$reel" import "$S" "$dir"/cam*/walk.mp4 --name '{stem}'
contains "$dir/err" "the same name 'walk'; nothing was imported" "collision message"
expect 1 "nothing imported on a collision" "$reel" info "$S" walk
expect 0 "--name {parent}/{stem}" "$reel" import "$S" "$dir"/cam*/walk.mp4 --name '{parent}/{stem}'
expect 0 "cam1/walk exists" "$reel" info "$S" cam1/walk
expect 0 "cam2/walk exists" "$reel" info "$S" cam2/walk
expect 2 "--name unknown field" "$reel" import "$S" "$dir/cam1/walk.mp4" --name '{bogus}'
contains "$dir/err" "unknown field {bogus}" "unknown field named"
expect 2 "--name and --sequence" "$reel" import "$S" "$dir/cam1/walk.mp4" --name x --sequence y

# hostile folders: each a failure naming what, no sequence left
expect 1 "an empty folder" "$reel" import "$S" "$dir/empty"
contains "$dir/err" "no files in this directory" "empty folder message"
expect 1 "a glob with no match" "$reel" import "$S" "$dir/png/*.tif"
contains "$dir/err" "no file matches" "no match message"
expect 1 "a pattern with no match" "$reel" import "$S" "$dir/png/x_%03d.png"
cp -r "$dir/png" "$dir/bad"
echo "not an image" >"$dir/bad/notes.txt"
expect 1 "a text file among the images" "$reel" import "$S" "$dir/bad"
contains "$dir/err" "notes.txt: not an image" "the text file named"
expect 1 "no sequence left" "$reel" info "$S" bad
rm "$dir/bad/notes.txt"
$ff -f lavfi -i testsrc2=size=32x48 -frames:v 1 "$dir/bad/img_05b.png"
expect 1 "mixed sizes" "$reel" import "$S" "$dir/bad"
contains "$dir/err" "img_05b.png: 32x48, but the images before it are 64x48" "mixed size named"
expect 0 "mixed sizes scaled" "$reel" import "$S" "$dir/bad" --scale 64x48
rm "$dir/bad/img_05b.png"
head -c 200 "$dir/png/img_03.png" >"$dir/bad/img_03.png"
expect 0 "a truncated PNG is a skipped frame" "$reel" import "$S" "$dir/bad" --sequence cut
contains "$dir/err" "1 skipped" "skipped frame counted"
expect 1 "a truncated PNG under --on-error fail" "$reel" import "$S" "$dir/bad" --on-error fail \
    --sequence cutfail
contains "$dir/err" "img_03.png: frame 2 failed to decode" "the truncated file named"

# bad values: one line naming the option and what it takes
for bad in "--every 0" "--every 3x" "--every -1" "--fps 0" "--fps 25/0" "--fps abc" \
    "--start -1" "--start 1e3" "--duration 0" "--duration x" "--scale -1:-1" "--scale 0:10"; do
    # shellcheck disable=SC2086
    expect 2 "$bad" "$reel" import "$S" "$dir/png" $bad
    same "$(wc -l <"$dir/err")" 1 "$bad: one line"
    contains "$dir/err" "^reel: ${bad%% *} wants" "$bad: names the option"
done
testlib_done
