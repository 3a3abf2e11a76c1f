// sharp is a dependency of @resnet/preprocess, not of this app: load the copy it resolves to
// (the same libvips the server uses) instead of adding a dependency here.
import { createRequire } from 'node:module'
import type Sharp from 'sharp'

const requireFromPreprocess = createRequire(import.meta.resolve('@resnet/preprocess'))

/** sharp, as resolved from @resnet/preprocess. */
export const sharp = requireFromPreprocess('sharp') as typeof Sharp
