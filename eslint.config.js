import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_SHARP = { name: 'sharp', message: 'Image operations go through src/engine/codec.ts.' };
const NO_ORT = { name: 'onnxruntime-node', message: 'Model sessions go through src/engine/cutout/session.ts.' };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'web/dist/', 'gallery/', 'bench/out/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through src/config.ts only.' }],
    },
  },
  { files: ['src/config.ts', 'test/**', '**/*.test.ts', 'bench/**', 'scripts/**', 'src/cli/**', 'bin/**'], rules: { 'no-restricted-properties': 'off' } },
  // The native libraries stay behind their wrappers: sharp in the codec, onnxruntime-node in the
  // segmentation session. (Tests outside src/ may use sharp to make and read fixtures.)
  {
    files: ['src/**', 'bench/**', 'scripts/**'],
    ignores: ['src/engine/codec.ts', 'src/engine/cutout/session.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_SHARP, NO_ORT] }] },
  },
  { files: ['src/engine/codec.ts'], rules: { 'no-restricted-imports': ['error', { paths: [NO_ORT] }] } },
  { files: ['src/engine/cutout/session.ts'], rules: { 'no-restricted-imports': ['error', { paths: [NO_SHARP] }] } },
  // Tests read loosely typed JSON bodies.
  { files: ['test/**', '**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
