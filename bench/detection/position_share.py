#!/usr/bin/env python3
"""Share of FPN positions (P3-P7) whose point lies inside an object of each class, over a Pascal VOC image set, at the
detection sample's geometry (longer side resized to SIZE with the aspect kept, padded to a multiple of 32, FCOS points
at stride // 2 + k * stride). A whole-map feature MSE weighs every position alike, so this is the share of its terms
that concerns each class; ICD's real queries are one per object, so their share is the class's share of objects.
Usage: python3 bench/detection/position_share.py [VOC_DIR] [SIZE] [IMAGE_SET]"""
import math
import os
import sys
import xml.etree.ElementTree as ET

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/detection/bccd/BCCD"
size = int(sys.argv[2]) if len(sys.argv) > 2 else 256
image_set = sys.argv[3] if len(sys.argv) > 3 else "trainval"
strides = [8, 16, 32, 64, 128]
with open(os.path.join(root, "ImageSets", "Main", image_set + ".txt")) as f:
    ids = [line.strip() for line in f if line.strip()]
inside = {}
objects = {}
total = [0] * len(strides)
for image_id in ids:
    tree = ET.parse(os.path.join(root, "Annotations", image_id + ".xml"))
    w = float(tree.find("size/width").text)
    h = float(tree.find("size/height").text)
    scale = size / max(w, h)
    pw, ph = math.ceil(w * scale / 32) * 32, math.ceil(h * scale / 32) * 32
    boxes = []
    for obj in tree.findall("object"):
        name = obj.find("name").text.strip()
        b = obj.find("bndbox")
        x1, y1, x2, y2 = (float(b.find(k).text) * scale for k in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append((name, x1, y1, x2, y2))
        objects[name] = objects.get(name, 0) + 1
    for level, s in enumerate(strides):
        for j in range(math.ceil(ph / s)):
            for i in range(math.ceil(pw / s)):
                x, y = s // 2 + i * s, s // 2 + j * s
                total[level] += 1
                for name in {n for n, x1, y1, x2, y2 in boxes if x1 <= x <= x2 and y1 <= y <= y2}:
                    inside.setdefault(name, [0] * len(strides))[level] += 1
all_positions = sum(total)
all_objects = sum(objects.values())
print(f"{root} {image_set}: {len(ids)} images, longer side {size} px, {all_positions} FPN positions (P3-P7)")
print("| class | objects (share) | positions inside, all levels (share) | P3 share | P4 share | P5 share |")
print("|---|---:|---:|---:|---:|---:|")
for name in sorted(objects):
    counts = inside.get(name, [0] * len(strides))
    shares = " | ".join(f"{100 * counts[l] / total[l]:.2f} %" for l in range(3))
    print(f"| {name} | {objects[name]} ({100 * objects[name] / all_objects:.1f} %) | {sum(counts)} ({100 * sum(counts) / all_positions:.2f} %) | {shares} |")
