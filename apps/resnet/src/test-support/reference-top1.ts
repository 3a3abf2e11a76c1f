/** The fixture model's top-1 on torchvision's own preprocessing (Pillow reference crops). */
import path from 'node:path'
import { allocateBatch, parseModelConfig, writeImage } from '@resnet/preprocess'
import { createOnnxModel } from '@resnet/server'
import { MOBILENET_DIR, referencePixels } from '@resnet/test-support'

/**
 * Top-1 class per photo, computed in-process. Where it is not one of expected.json's classes
 * (daisy.jpg: the centre crop is a hoverfly, "bee"), tests require this class instead.
 */
export async function referenceTop1(photos: readonly string[]): Promise<Map<string, number>> {
  const model = await createOnnxModel({
    modelPath: path.join(MOBILENET_DIR, 'model.onnx'),
    config: parseModelConfig({}),
    labels: [],
    identity: { name: 'reference', version: '0', sha256: '' },
  })
  const out = new Map<string, number>()
  for (const photo of photos) {
    const batch = allocateBatch(model.config.input, 1)
    writeImage(await referencePixels(photo), model.config.input, batch, 0)
    const [scores] = await model.run(batch)
    out.set(photo, scores!.indexOf(Math.max(...scores!)))
  }
  await model.close()
  return out
}

/** The classes a photo's top-1 may be: expected.json's, or the reference's where they disagree. */
export function acceptedTop1(
  accepted: readonly number[],
  reference: number | undefined
): readonly number[] {
  return reference === undefined || accepted.includes(reference) ? accepted : [reference]
}
