// One lint set-up for every workspace: typed typescript-eslint + import order, Prettier for format.
import js from '@eslint/js'
import prettier from 'eslint-config-prettier/flat'
import importX from 'eslint-plugin-import-x'
import { defineConfig, globalIgnores } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(
  globalIgnores(['**/dist', '**/coverage', '**/cdk.out', '**/*.js', '**/*.mjs']),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/order': ['error', { alphabetize: { order: 'asc', caseInsensitive: true } }],
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // typed-array loops under noUncheckedIndexedAccess need `!` (hono core turns this off too)
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier
)
