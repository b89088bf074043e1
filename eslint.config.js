import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // Dependencies point one way: the product never imports an emulator (DESIGN.md).
    files: ['src/**/*.ts', 'connectors/**/*.ts', 'targets/**/*.ts'],
    ignores: ['src/cli/emulate.ts', 'src/cli/demo.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/emulators/**'], message: 'Only the CLI emulate/demo commands may reach into emulators/.' }] }],
    },
  },
  {
    // Emulators stand apart: they import nothing from the product.
    files: ['emulators/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/connectors/**', '**/targets/**'], message: 'Emulators import nothing from the product.' }] }],
    },
  },
);
