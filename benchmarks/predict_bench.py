"""How fast `expressions predict` is against plain per-image loops over the same model.

One run, five numbers, each pair timed on the same files written here (so it needs nothing from
the pipeline; a trained models/main/model.pt is used when present, else a fresh `main` model):

  shipped   pre-cropped faces, `--detector none`: the model `expressions predict` uses by
            default on a fresh clone (the package's fer2013, as it runs: int8 ONNX where the
            folder has one) beside the package's other models (fer2013-accurate: ten views)

  faces     pre-cropped faces (PNG/JPEG, 40-96 px), `--detector none`, a model folder as
            `expressions predict` runs it by default (onnxruntime): predict() decoding in processes
            and classifying in batches  vs  a loop decode -> to_model_input -> model(1 face)
  onnx      the same faces, predict() with onnxruntime  vs  with PyTorch (`--runtime torch`)
  photos    640x480 photos with 3 faces each, `--detector mtcnn`: predict() (MTCNN batched over
            photos, faces classified in batches)  vs  a loop MTCNN(1 photo) -> model(1 face)
  detectors each detector on 640x480 photos with 4 pasted faces of 25-150 px, one tilted: found
            (IoU >= 0.5 with the known box), false detections, seconds per photo; `facenet` is
            facenet-pytorch's own MTCNN.detect, the reference for `mtcnn` (serving/mtcnn.py)
  video     a 640x480 30 fps clip with 3 moving faces, every frame, `--detector mtcnn` and the
            default model: predict() following the faces (a search every 0.2 s, tracking.py)  vs
            predict() searching every frame (the same batching, no tracking)

Medians of alternating repeats; machine load is printed with the numbers.

    python benchmarks/predict_bench.py [--quick] [--shipped-only | --video-only] [--faces N]
                                       [--photos N] [--frames N] [--repeats R] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from skimage import data, transform  # noqa: E402

from expressions.config import Run, load_params  # noqa: E402
from expressions.data.images import decode, to_model_input  # noqa: E402
from expressions.release.export import export_onnx  # noqa: E402
from expressions.serving.choose import (  # noqa: E402
    choose_model,
    load_classifier,
    shipped_model,
    shipped_names,
)
from expressions.serving.classifier import load_file  # noqa: E402
from expressions.serving.detect import (  # noqa: E402
    MIN_FACE,
    Box,
    crop,
    make_detector,
    whole_image,
)
from expressions.serving.predict import predict  # noqa: E402
from expressions.serving.speed import faces_per_s  # noqa: E402
from expressions.serving.tracking import TrackOptions  # noqa: E402
from expressions.training.model import build_model  # noqa: E402
from expressions.training.model_file import load_model, save_model  # noqa: E402
from helpers.photos import PATCH, background, iou, moving_faces_clip, paste_faces  # noqa: E402

TARGET_FACES_PER_S = 1500
TARGET_SHIPPED_FACES_PER_S = 500  # the default model on people's faces, through predict
TARGET_VIDEO_FRAMES_PER_S = 25  # 640x480, 1-3 faces, every frame, default detector and model
SLOW_MODEL_FACES = 400  # a ten-view model's rate is measured on a prefix
REFERENCE_FACES = 400  # the per-image loops are slow; their rate is measured on a prefix
REFERENCE_PHOTOS = 8


def write_faces(folder: Path, n: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    portrait = data.astronaut()[PATCH]
    paths = []
    for i in range(n):
        side = int(rng.integers(40, 97))
        face = transform.resize(portrait, (side, side), preserve_range=True) * rng.uniform(0.6, 1.2)
        face = np.clip(face, 0, 255).astype(np.uint8)
        path = folder / f"face{i:05d}.{'png' if i % 2 else 'jpg'}"
        Image.fromarray(face if i % 3 else face[..., 0]).save(path)
        paths.append(path)
    return paths


def write_photos(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        image = background(480, 640, seed=i)
        paste_faces(image, [(20 + i % 7 * 5, 30, 1.2), (330, 40 + i % 5 * 4, 0.9), (470, 260, 0.6)])
        paths.append(folder / f"photo{i:04d}.jpg")
        Image.fromarray(image).save(paths[-1], quality=92)
    return paths


def detector_sweep(n: int) -> dict[str, dict[str, float]]:
    """Faces found and false detections per detector, over faces from 25 to 150 px wide, one
    of each photo's four tilted by 20-30 degrees (rotated about its own centre)."""
    rng = np.random.default_rng(1)
    scenes = []
    for i in range(n):
        image = background(480, 640, seed=100 + i)
        jitter = rng.integers(0, 20, (4, 2))
        places = [(10, 10, 1.6), (360, 20, 0.8), (380, 300, 0.45), (150, 380, 0.28)]
        truth = paste_faces(
            image, [(x + dx, y + dy, s) for (x, y, s), (dx, dy) in zip(places, jitter, strict=True)]
        )
        tilt = float(rng.choice([-1, 1]) * rng.uniform(20, 30))  # a head tilted 20-30 degrees
        x, y, w, h = truth[1]
        region = image[y - 20 : y + h + 20, x - 20 : x + w + 20]
        region[:] = transform.rotate(region, tilt, preserve_range=True, mode="edge").astype(
            np.uint8
        )
        scenes.append((image, truth))
    out = {}
    detectors = {name: make_detector(name) for name in ("mtcnn", "haar", "lbp")}
    for name, detect in (detectors | {"facenet": facenet_detector()}).items():
        found = false = 0
        start = time.perf_counter()
        for image, truth in scenes:
            boxes = [(b.x, b.y, b.w, b.h) for b in detect([image])[0]]
            found += sum(max((iou(b, t) for b in boxes), default=0) >= 0.5 for t in truth)
            false += sum(max(iou(b, t) for t in truth) < 0.5 for b in boxes)
        seconds = (time.perf_counter() - start) / len(scenes)
        total = sum(len(t) for _, t in scenes)
        out[name] = {
            "found": int(found),
            "faces": total,
            "false": int(false),
            "s_per_photo": round(seconds, 3),
        }
    return out


def facenet_detector() -> Callable[[list[np.ndarray]], list[list[Box]]]:
    """facenet-pytorch's own `MTCNN.detect`, which `--detector mtcnn` called before
    serving/mtcnn.py ran the same networks faster: the reference for its speed and its faces."""
    from facenet_pytorch import MTCNN

    net = MTCNN(keep_all=True, min_face_size=MIN_FACE, device=torch.device("cpu"))

    def detect(images: list[np.ndarray]) -> list[list[Box]]:
        found = []
        for image in images:
            boxes, probs = net.detect(image)
            pairs = [] if boxes is None else zip(boxes, probs, strict=True)
            found.append(
                [
                    Box(round(x0), round(y0), round(x1 - x0), round(y1 - y0), float(p))
                    for (x0, y0, x1, y1), p in pairs
                    if p >= 0.9
                ]
            )
        return found

    return detect


def model_file(folder: Path) -> Path:
    trained = ROOT / "models" / "main" / "model.pt"
    if trained.is_file():
        return trained
    variant = load_params(ROOT / "params.yaml").variant("main")
    torch.manual_seed(0)
    model = build_model(variant.model, len(variant.classes), variant.image_size).eval()
    save_model(folder / "model.pt", model, Run(variant))
    return folder / "model.pt"


def shipped_rates(faces: list[Path], repeats: int) -> dict[str, dict]:
    """faces/s of each model the package ships, as `expressions predict --detector none
    --model <name>` runs it (decoding included), medians over `repeats`; the default first."""
    out = {}
    for name in shipped_names():
        chosen = choose_model(name)
        classifier = load_file(chosen.path)
        subset = faces if len(getattr(classifier, "views", [0])) == 1 else faces[:SLOW_MODEL_FACES]
        out[name] = {
            "file": str(chosen.path.relative_to(shipped_model(name))),
            "views": len(getattr(classifier, "views", [0])),
            "faces": len(subset),
            "faces_per_s": round(faces_per_s(classifier, subset, repeats), 1),
        }
    return out


def timed(fn: Callable[[], int]) -> float:
    start = time.perf_counter()
    count = fn()
    return count / (time.perf_counter() - start)


def alternate(reference: Callable[[], int], project: Callable[[], int], repeats: int):
    ref, proj = [], []
    for _ in range(repeats):
        ref.append(timed(reference))
        proj.append(timed(project))
    return statistics.median(ref), statistics.median(proj)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument(
        "--shipped-only", action="store_true", help="only the package's models (the first number)"
    )
    parser.add_argument(
        "--video-only", action="store_true", help="only the video numbers (the last section)"
    )
    parser.add_argument("--faces", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=150, help="video frames (default 150: 5 s)")
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "predict_bench.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.faces, args.photos, args.frames, args.repeats = 200, 4, 30, 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = video_rates(tmp, args.frames, args.repeats)
        print_video(video)
        if args.video_only:
            return
        faces = write_faces(tmp, args.faces)
        shipped = shipped_rates(faces, args.repeats)
        print_shipped(shipped)
        if args.shipped_only:
            return
        photos = write_photos(tmp, args.photos)
        pt = model_file(tmp)
        loaded = load_model(pt)
        net, variant = loaded.model, loaded.variant
        folder = tmp / "model"  # a model folder as `dvc repro export` leaves it
        folder.mkdir()
        (folder / "model.pt").write_bytes(pt.read_bytes())
        export_onnx(loaded, folder / "model.onnx")
        classifier = load_classifier(folder)  # what `expressions predict --model <folder>` runs
        pytorch = load_classifier(folder, runtime="torch")
        size = variant.image_size
        flip = variant.train.tta_flip

        def one_by_one(image: np.ndarray) -> int:
            x = torch.from_numpy(image)[None, None].float() / 255
            with torch.inference_mode():
                logits = net(x)
                if flip:
                    logits = logits + net(x.flip(-1))
            return int(logits.argmax())

        def faces_loop() -> int:  # a rate: a few hundred faces measure it as well as all of them
            for path in faces[:REFERENCE_FACES]:
                one_by_one(to_model_input(decode(path), size))
            return len(faces[:REFERENCE_FACES])

        def faces_with(model) -> Callable[[], int]:
            def run() -> int:
                rows = predict(faces, model, whole_image, chunk=512, progress=False)
                return sum(len(r) for _, r in rows)

            return run

        ref_faces, proj_faces = alternate(faces_loop, faces_with(classifier), args.repeats)
        torch_faces, onnx_faces = alternate(
            faces_with(pytorch), faces_with(classifier), args.repeats
        )

        mtcnn = make_detector("mtcnn")

        def photos_loop() -> int:
            for path in photos[:REFERENCE_PHOTOS]:
                image = np.asarray(Image.open(path).convert("RGB"))
                for box in mtcnn([image])[0]:
                    one_by_one(to_model_input(crop(image, box), size))
            return len(photos[:REFERENCE_PHOTOS])

        def photos_project() -> int:
            rows = list(predict(photos, classifier, mtcnn, chunk=32, progress=False))
            return len(rows)

        ref_photos, proj_photos = alternate(photos_loop, photos_project, args.repeats)
        detectors = detector_sweep(2 if args.quick else 8)
    report = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "torch_threads": torch.get_num_threads(),
        "shipped": shipped,
        "model": str(pt.relative_to(ROOT)) if pt.is_relative_to(ROOT) else "fresh main",
        "image_size": size,
        "faces": {
            "count": len(faces),
            "runtime": type(classifier).__name__,
            "project_faces_per_s": round(proj_faces, 1),
            "reference_faces_per_s": round(ref_faces, 1),
            "ratio": round(proj_faces / ref_faces, 2),
            "target_faces_per_s": TARGET_FACES_PER_S,
        },
        "onnx": {
            "onnxruntime_faces_per_s": round(onnx_faces, 1),
            "pytorch_faces_per_s": round(torch_faces, 1),
            "ratio": round(onnx_faces / torch_faces, 2),
        },
        "photos": {
            "count": len(photos),
            "project_photos_per_s": round(proj_photos, 2),
            "reference_photos_per_s": round(ref_photos, 2),
            "ratio": round(proj_photos / ref_photos, 2),
        },
        "detectors": detectors,
        "video": video,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    f, o, p = report["faces"], report["onnx"], report["photos"]
    print(f"cpus {report['cpus']}, load {report['load_average']}, model {report['model']}")
    print(
        f"faces  (--detector none, {f['runtime']}): predict {f['project_faces_per_s']:.0f} faces/s vs per-image "
        f"loop {f['reference_faces_per_s']:.0f} ({f['ratio']:.2f}x; target >= {TARGET_FACES_PER_S})"
    )
    print(
        f"onnx   onnxruntime {o['onnxruntime_faces_per_s']:.0f} faces/s vs PyTorch "
        f"{o['pytorch_faces_per_s']:.0f} ({o['ratio']:.2f}x)"
    )
    print(
        f"photos (mtcnn, 640x480, 3 faces): predict {p['project_photos_per_s']:.2f} photos/s vs "
        f"per-image loop {p['reference_photos_per_s']:.2f} ({p['ratio']:.2f}x)"
    )
    for name, d in detectors.items():
        print(
            f"detector {name:<5}: {d['found']}/{d['faces']} faces found (25-150 px, 1 in 4 tilted), "
            f"{d['false']} false detections, {d['s_per_photo']:.3f} s/photo"
        )


def video_rates(folder: Path, frames: int, repeats: int) -> dict:
    """Frames/s through predict() on a clip of `frames` frames, followed against searched anew in
    every frame; medians of alternating repeats."""
    clip = folder / "three-people.mp4"
    moving_faces_clip(clip, frames)
    classifier = load_file(choose_model(None).path)  # the default model, as on a fresh clone
    mtcnn = make_detector("mtcnn")

    def frames_with(tracking) -> Callable[[], int]:
        def run() -> int:
            return len(list(predict([clip], classifier, mtcnn, tracking=tracking, progress=False)))

        return run

    plain, followed = alternate(frames_with(None), frames_with(TrackOptions()), repeats)
    return {
        "frames": frames,
        "model": choose_model(None).path.parent.name,
        "followed_frames_per_s": round(followed, 1),
        "every_frame_searched_frames_per_s": round(plain, 1),
        "ratio": round(followed / plain, 2),
        "target_frames_per_s": TARGET_VIDEO_FRAMES_PER_S,
    }


def print_video(v: dict) -> None:
    print(
        f"video  (640x480 30 fps, 3 faces, mtcnn, {v['model']}): followed {v['followed_frames_per_s']:.1f} "
        f"frames/s vs every frame searched {v['every_frame_searched_frames_per_s']:.1f} "
        f"({v['ratio']:.2f}x; target >= {TARGET_VIDEO_FRAMES_PER_S} and >= 2x)"
    )


def print_shipped(shipped: dict[str, dict]) -> None:
    default = shipped.get("fer2013", {}).get("faces_per_s")
    print(f"cpus {os.cpu_count()}, load {[round(x, 2) for x in os.getloadavg()]}")
    for name, r in shipped.items():
        times = (
            f"; the default is {default / r['faces_per_s']:.1f}x this" if name != "fer2013" else ""
        )
        print(
            f"shipped {name} ({r['file']}, {r['views']} view(s)): predict --detector none "
            f"{r['faces_per_s']:.0f} faces/s on {r['faces']} faces{times}"
            + (f" (target >= {TARGET_SHIPPED_FACES_PER_S})" if name == "fer2013" else "")
        )


if __name__ == "__main__":
    main(sys.argv[1:])
