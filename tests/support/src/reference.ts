/** torchvision reference crops (made by scripts/torchvision-reference.py with Pillow). */
import { readFile } from 'node:fs/promises'
import sharp from 'sharp'
import { expectedClasses } from './fixtures.ts'

const REFERENCE_DIR = new URL('../reference/', import.meta.url)

/** The fixture photos that have a reference crop and an expected class set. */
export function referencePhotos(): string[] {
  return Object.keys(expectedClasses())
}

/** torchvision's Resize(256) + CenterCrop(224) of a fixture photo, as 224x224 HWC RGB bytes. */
export async function referencePixels(photo: string): Promise<Uint8Array> {
  const png = await readFile(new URL(photo.replace(/\.\w+$/, '.png'), REFERENCE_DIR))
  // the stored numbers, never colour-managed: Pillow ignores ICC profiles, so must the reference
  const { data, info } = await sharp(png, { ignoreIcc: true })
    .raw()
    .toBuffer({ resolveWithObject: true })
  if (info.width !== 224 || info.height !== 224 || info.channels !== 3) {
    throw new Error(`reference crop for ${photo} is ${info.width}x${info.height}x${info.channels}`)
  }
  return data
}
