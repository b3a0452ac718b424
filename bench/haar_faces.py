"""OpenCV's Haar cascade (Debian python3-opencv + opencv-data) on every photo of a folder.

Prints one JSON object: {"settings": [...], "photos": {name: {settings-key: [[x, y, w, h], ...]}}}
for each combination of scaleFactor and minNeighbors tried (the peer at its best: the face-ingest
benchmark takes the combination with the best F1 on the counted set).
"""
import json
import os
import sys

import cv2

CASCADE = os.path.join(cv2.data.haarcascades if hasattr(cv2, 'data') else '/usr/share/opencv4/haarcascades',
                       'haarcascade_frontalface_default.xml')
if not os.path.exists(CASCADE):
    CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml'
SETTINGS = [(1.1, 3), (1.1, 5), (1.05, 5), (1.05, 8)]


def main(folder):
    cascade = cv2.CascadeClassifier(CASCADE)
    if cascade.empty():
        sys.exit(f'cannot load {CASCADE}')
    out = {}
    for name in sorted(os.listdir(folder)):
        img = cv2.imread(os.path.join(folder, name), cv2.IMREAD_COLOR)
        if img is None:
            continue
        grey = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        out[name] = {}
        for sf, mn in SETTINGS:
            boxes = cascade.detectMultiScale(grey, scaleFactor=sf, minNeighbors=mn, minSize=(20, 20))
            out[name][f'{sf}/{mn}'] = [[int(v) for v in b] for b in boxes]
    print(json.dumps({'cascade': os.path.basename(CASCADE), 'opencv': cv2.__version__,
                      'settings': [f'{sf}/{mn}' for sf, mn in SETTINGS], 'photos': out}))


if __name__ == '__main__':
    main(sys.argv[1])
