import { readFile } from 'node:fs/promises'
import { IMAGES_DIR, referencePhotos, referencePixels } from '@resnet/test-support'
import { describe, expect, it } from 'vitest'
import { decodeImage } from './decode-image.js'
import { DEFAULT_MODEL_CONFIG } from './model-config.js'
import { absDiff } from './test-support/pillow.js'

// The documented bound (README, "Accuracy"): per fixture photo, in 0..255 pixel levels, against
// torchvision's Resize(256) + CenterCrop(224) done by Pillow (tests/support/reference/*.png).
const PHOTO_BOUND = { mean: 0.5, max: 8 }

describe('decodeImage against the committed torchvision (Pillow) crops', () => {
  for (const photo of referencePhotos()) {
    it(`${photo}: mean abs diff <= ${PHOTO_BOUND.mean}, max <= ${PHOTO_BOUND.max}`, async () => {
      const ours = await decodeImage(await readFile(IMAGES_DIR + photo), DEFAULT_MODEL_CONFIG.input)
      const diff = absDiff(ours.data, await referencePixels(photo))
      expect(diff.mean).toBeLessThanOrEqual(PHOTO_BOUND.mean)
      expect(diff.max).toBeLessThanOrEqual(PHOTO_BOUND.max)
    })
  }
})
