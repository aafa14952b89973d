// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The state machine must be deterministic: no wall clock, no randomness, no timers and no
// environment inside the ledger, the chain's execution and module tx handlers (DESIGN.md).
const determinism = {
  'no-restricted-globals': [
    'error',
    { name: 'Date', message: 'Use the block time from the execution context.' },
    { name: 'setTimeout', message: 'No timers in deterministic code.' },
    { name: 'setInterval', message: 'No timers in deterministic code.' },
    { name: 'setImmediate', message: 'No timers in deterministic code.' },
    { name: 'performance', message: 'No clocks in deterministic code.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Derive randomness from the block hash.' },
    { object: 'process', property: 'env', message: 'Config is parsed once in src/node/config.ts.' },
    { object: 'process', property: 'hrtime', message: 'No clocks in deterministic code.' },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'web/dist/**',
      '.stryker-tmp/**',
      'reports/**',
      'test-results/**',
      '.coffer/**',
      '**/*.mjs',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    // The console's pages (web/ and each module's web/) are typed by web/tsconfig.json (DOM, JSX).
    files: ['web/**/*.{ts,tsx}', 'src/modules/*/web/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['web/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: [
      'src/ledger/**/*.ts',
      'src/chain/**/*.ts',
      // Everything a module runs on chain or answers from state; its service (I/O) is exempt.
      'src/modules/**/*.ts',
    ],
    ignores: [
      '**/*.test.ts',
      'src/chain/mempool.ts',
      'src/chain/producer.ts',
      'src/modules/*/service.ts',
      // A module's command line and SDK client run at the user's, never in a block: they may read
      // the clock (ISO dates) and the platform's randomness. Its routes and schema stay in scope.
      'src/modules/*/cli.ts',
      'src/modules/*/cli-*.ts',
      'src/modules/*/client.ts',
      // The conversion engine (the `coffer bridge` service) and its ledger adapters run beside the
      // chains, never in a block: they keep time and talk to the world.
      'src/modules/conversion/engine/**',
      'src/modules/conversion/evm/**',
      'src/modules/conversion/provider/**',
      // The iot module's certificate authority, payment service (`coffer iot serve`) and device
      // simulators run off the chain: they keep time, draw serials and talk MQTT and HTTP.
      'src/modules/iot/pki/**',
      'src/modules/iot/service/**',
      'src/modules/iot/sim/**',
      // The licensing content gateway (`coffer content gateway`) runs off the chain: it keeps
      // time (token expiry, clock-checked licences), draws keys and nonces and serves HTTP.
      'src/modules/licensing/gateway/**',
      // The printing module's hardware-id authority and print server run off the chain: they
      // keep time (request skew, token expiry), draw ids, keys and watermarks and serve HTTPS.
      'src/modules/printing/authority/**',
      'src/modules/printing/server/**',
      // The SBC agent (`coffer print-agent`) runs beside the printer: it keeps time (request
      // timestamps, the last print's times) and talks HTTPS and serial.
      'src/modules/printing/agent/**',
      // The serial streamer and the virtual printer keep time (timeouts, heating); the G-code
      // parser, adapter and watermark stay deterministic (the same design, the same bytes).
      'src/modules/printing/gcode/streamer.ts',
      'src/modules/printing/gcode/virtual-printer.ts',
      'src/modules/printing/gcode/cli-virtual-printer.ts',
      // The console's pages run in the browser, never in a block.
      'src/modules/*/web/**',
    ],
    rules: determinism,
  },
);
