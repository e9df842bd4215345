import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FUNCTIONS = join(__dirname, '..', '..', '..', 'functions');

describe('every function file starts telemetry first', () => {
  // The Functions OpenTelemetry instrumentation calls app.setup(), which @azure/functions refuses once any function
  // is registered: whichever file the host loads first must start telemetry before it registers anything.
  for (const file of readdirSync(FUNCTIONS).filter((f) => f.endsWith('.ts'))) {
    it(`${file} imports register-telemetry before anything else`, () => {
      const firstImport = readFileSync(join(FUNCTIONS, file), 'utf8')
        .split('\n')
        .find((line) => line.startsWith('import '));
      expect(firstImport).toBe("import '../shared/telemetry/register-telemetry';");
    });
  }
});
