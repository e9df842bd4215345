// Type-aware lint: an unhandled rejection crashes the whole Functions worker, so floating promises are errors.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .stryker-tmp and reports hold npm run test:mutation's sandbox (instrumented copies) and reports while it runs.
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', '.stryker-tmp/**', 'reports/**', 'eslint.config.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only' }, { object: 'it', property: 'skip' },
        { object: 'describe', property: 'only' }, { object: 'describe', property: 'skip' },
        { object: 'test', property: 'only' }, { object: 'test', property: 'skip' },
      ],
    },
  },
);
