// Lint rules: type-aware checks, and the import boundaries of STYLE.md
// (backend and workers never import each other; only adapters import their client).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const restrict = (patterns) => ['error', { patterns }]

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.tap/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      curly: ['error', 'all'],
      'no-console': 'error',
    },
  },
  {
    files: ['src/backend/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/workers/**'], message: 'the backend never imports the workers' },
        { group: ['kafkajs', '@dapr/dapr'], message: 'only src/events adapters import clients' },
      ]),
    },
  },
  {
    files: ['src/workers/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/backend/**'], message: 'the workers never import the backend' },
        { group: ['kafkajs', '@dapr/dapr'], message: 'only src/events adapters import clients' },
      ]),
    },
  },
  {
    files: ['src/events/*.ts', 'src/events/in-process/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['kafkajs', '@dapr/dapr'], message: 'only the adapter folders import clients' },
      ]),
    },
  },
  {
    files: ['scripts/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests read untyped JSON answers and use tap's async subtests freely; a forgotten await on
    // anything but a top-level t.test is still an error.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: 'test', package: 'tap' },
            { from: 'package', name: 'test', package: '@tapjs/core' },
            { from: 'package', name: 'test', package: '@tapjs/test' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
